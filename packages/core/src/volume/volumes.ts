import type { Prisma, Tx, Volume as VolumeRow } from '@stratus/db';
import { z } from 'zod';
import { imageBackend } from '../compute/images.ts';
import type { AuthContext } from '../identity/types.ts';
import { enqueueJob } from '../platform/jobs.ts';
import { badRequest, conflict, isStratusError, notFound, StratusError } from '../platform/errors.ts';
import { markerPage } from '../platform/paging.ts';
import { enforce } from '../policy/index.ts';
import { backendId, selectVolumeBackend } from './backends.ts';
import {
  allowedRow,
  cfg,
  checkMetadata,
  db,
  invalid,
  isAdmin,
  isUuid,
  listScope,
  newUuid,
  projectOf,
  TX,
  type VolumeListScope,
} from './common.ts';
import { volumeCreateJobDef, volumeDeleteJobDef, volumeExtendJobDef, volumeQueue } from './jobs.ts';
import { checkVolumeQuota } from './quotas.ts';
import { emitVolumeEvent, toVolume, updateVolumeRow, type VolumeView } from './records.ts';
import { AttachStatus, canDoVolume, type VolumeAction, VolumeStatus } from './state.ts';
import { defaultVolumeType, findVolumeType, specTrue, toVolumeType, type VolumeTypeView } from './types.ts';

/*
 * Volumes: create (blank, from an image, a snapshot, another volume or a backup), read,
 * update, delete, extend, retype, metadata, bootable. Every write checks policy and the
 * status table (state.ts), counts quota under the project's lock, and writes the row
 * together with its job, so a request either happens whole or not at all.
 */

const GiB = 1024 ** 3;

// ---------------------------------------------------------------- reads

async function typeNames(ids: string[]): Promise<Map<string, string>> {
  const rows = await db().volumeType.findMany({ where: { id: { in: [...new Set(ids)] } } });
  return new Map(rows.map((t) => [t.id, t.name]));
}

async function views(rows: Array<VolumeRow & { attachments?: Prisma.VolumeAttachmentGetPayload<object>[] }>) {
  const names = await typeNames(rows.map((r) => r.volumeTypeId));
  return rows.map((r) => toVolume(r, names.get(r.volumeTypeId) ?? ''));
}

/** A volume the caller may act on with `action`; another project's is "not found" (Cinder). */
export async function loadVolume(ctx: AuthContext, id: string, action: string): Promise<VolumeRow> {
  const v = isUuid(id) ? await db().volume.findUnique({ where: { id } }) : null;
  return allowedRow(ctx, v, action, `Volume ${id} could not be found.`);
}

export async function getVolume(ctx: AuthContext, id: string): Promise<VolumeView> {
  // One read with the attachments: a second lookup after the access check could race a
  // delete committing in between (a 500 where Cinder answers 404).
  const row = isUuid(id) ? await db().volume.findUnique({ where: { id }, include: { attachments: true } }) : null;
  const [out] = await views([allowedRow(ctx, row, 'volume:get', `Volume ${id} could not be found.`)]);
  if (!out) throw notFound(`Volume ${id} could not be found.`);
  return out;
}

export interface VolumeListOptions extends Omit<VolumeListScope, 'volumeId'> {
  bootable?: boolean;
  metadata?: Record<string, string>;
  availabilityZone?: string;
  offset?: number;
  sortKey?: 'created_at' | 'updated_at' | 'name' | 'size' | 'status' | 'id';
  sortDir?: 'asc' | 'desc';
}

const SORT: Record<
  NonNullable<VolumeListOptions['sortKey']>,
  'createdAt' | 'updatedAt' | 'name' | 'size' | 'status' | 'id'
> = {
  created_at: 'createdAt',
  updated_at: 'updatedAt',
  name: 'name',
  size: 'size',
  status: 'status',
  id: 'id',
};

export async function listVolumes(ctx: AuthContext, o: VolumeListOptions = {}): Promise<VolumeView[]> {
  const where: Prisma.VolumeWhereInput = {
    ...listScope(ctx, 'volume:get_all', o),
    ...(o.bootable !== undefined ? { bootable: o.bootable } : {}),
    ...(o.availabilityZone !== undefined ? { availabilityZone: o.availabilityZone } : {}),
    // Every metadata item asked for, as Cinder's metadata filter.
    AND: Object.entries(o.metadata ?? {}).map(([k, v]) => ({ metadata: { path: [k], equals: v } })),
  };
  const field = SORT[o.sortKey ?? 'created_at'];
  const page = await markerPage<Prisma.VolumeWhereInput, Prisma.VolumeOrderByWithRelationInput>(
    o,
    { field, dir: o.sortDir ?? 'desc', nullable: field === 'name' },
    (id) => db().volume.findFirst({ where: { AND: [where, { id }] } }),
  );
  return views(
    await db().volume.findMany({ ...page, where: { AND: [where, page.where] }, include: { attachments: true } }),
  );
}

// ---------------------------------------------------------------- create

export const VolumeCreate = z.object({
  size: z.coerce.number().int().min(1).max(16384).nullish(),
  name: z.string().max(255).nullish(),
  description: z.string().max(255).nullish(),
  volumeType: z.string().min(1).nullish(),
  availabilityZone: z.string().min(1).nullish(),
  metadata: z.record(z.string(), z.string()).nullish(),
  imageRef: z.string().min(1).nullish(),
  snapshotId: z.string().min(1).nullish(),
  sourceVolId: z.string().min(1).nullish(),
  backupId: z.string().min(1).nullish(),
  /** Deprecated in Cinder (the type decides); accepted when the type allows it. */
  multiattach: z.boolean().nullish(),
});
export type VolumeCreate = z.input<typeof VolumeCreate>;

/** What a new volume is made from, resolved and checked before the transaction. */
export type VolumeSource =
  | { kind: 'blank' }
  | { kind: 'image'; imageId: string; minGb: number; imageMetadata: Record<string, string> }
  | { kind: 'snapshot'; snapshotId: string; minGb: number; backend: string | null; bootable: boolean; typeId: string }
  | { kind: 'volume'; volumeId: string; minGb: number; backend: string | null; bootable: boolean; typeId: string }
  | {
      kind: 'backup';
      backupId: string;
      minGb: number;
      /** Where the data lives: `object` backups restore on any backend host, `file` ones on `host` only. */
      driver: string;
      host: string | null;
    };

export interface PlannedVolume {
  projectId: string;
  userId: string;
  size: number;
  name: string | null;
  description: string | null;
  type: VolumeTypeView;
  availabilityZone: string;
  metadata: Record<string, string>;
  source: VolumeSource;
  multiattach: boolean;
}

function input<T>(r: { success: true; data: T } | { success: false; error: z.ZodError }): T {
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw badRequest(`Invalid input for field/attribute ${i?.path.join('.') || 'volume'}: ${i?.message ?? 'invalid'}`);
}

/** Cinder's answer to a size that is not a whole number of GiB above zero (as given: "2" is fine). */
function checkVolumeSize(size: unknown): void {
  if (size === undefined || size === null) return;
  const n = Number(size);
  if (!Number.isInteger(n) || n < 1)
    throw badRequest(
      `Invalid input received: Invalid volume: volume size must be an integer and greater than 0 (size: ${String(size)}).`,
    );
}

/** Validates a create request into a plan (no writes). Shared by the API and boot from volume. */
export async function planVolume(ctx: AuthContext, raw: VolumeCreate): Promise<PlannedVolume> {
  const projectId = projectOf(ctx);
  checkVolumeSize(raw.size);
  const v = input(VolumeCreate.safeParse(raw));
  const sources = [v.imageRef, v.snapshotId, v.sourceVolId, v.backupId].filter((s) => s);
  if (sources.length > 1)
    throw badRequest(
      'Invalid input received: only one of imageRef, snapshot_id, source_volid and backup_id may be given.',
    );
  let source: VolumeSource = { kind: 'blank' };
  let inheritType: string | undefined;
  if (v.imageRef) {
    enforce(ctx, 'volume:create_from_image', { project_id: projectId });
    const image = await imageBackend().find(ctx, v.imageRef);
    if (!image) throw badRequest(`Invalid image identifier or unable to access requested image.`);
    if (image.status !== 'active') throw badRequest(`Image ${image.id} is not active.`);
    const bytes = image.virtualSizeBytes ?? image.sizeBytes ?? 0;
    source = {
      kind: 'image',
      imageId: image.id,
      minGb: Math.max(image.minDiskGb, Math.ceil(bytes / GiB), 1),
      imageMetadata: {
        image_id: image.id,
        image_name: image.name ?? '',
        disk_format: image.diskFormat ?? '',
        min_disk: String(image.minDiskGb),
        min_ram: String(image.minRamMb),
        size: String(image.sizeBytes ?? 0),
        ...(image.checksum?.algorithm === 'md5' ? { checksum: image.checksum.hex } : {}),
      },
    };
  } else if (v.snapshotId) {
    const s = isUuid(v.snapshotId) ? await db().volumeSnapshot.findUnique({ where: { id: v.snapshotId } }) : null;
    if (!s || (s.projectId !== projectId && !isAdmin(ctx)))
      throw notFound(`Snapshot ${v.snapshotId} could not be found.`);
    if (s.status !== 'available')
      throw invalid('snapshot', `Originating snapshot status must be one of available values (status: ${s.status})`);
    const parent = await db().volume.findUnique({ where: { id: s.volumeId } });
    source = {
      kind: 'snapshot',
      snapshotId: s.id,
      minGb: s.size,
      backend: s.backend,
      bootable: parent?.bootable ?? false,
      typeId: parent?.volumeTypeId ?? '',
    };
    inheritType = parent?.volumeTypeId;
  } else if (v.sourceVolId) {
    const src = await loadVolume(ctx, v.sourceVolId, 'volume:get').catch((err: unknown) => {
      if (isStratusError(err) && err.code === 'NotFound') throw notFound(`Volume ${v.sourceVolId} could not be found.`);
      throw err;
    });
    const ok = canDoVolume('clone', src);
    if (!ok.ok) throw invalid('volume', ok.reason);
    if (src.attachStatus !== AttachStatus.DETACHED && src.status === VolumeStatus.IN_USE) {
      // Cloning an attached file would read a disk being written: ask for a snapshot first.
      throw invalid(
        'volume',
        'Cloning an in-use volume is not supported on the file backend; snapshot it and create from the snapshot.',
      );
    }
    source = {
      kind: 'volume',
      volumeId: src.id,
      minGb: src.size,
      backend: src.backend,
      bootable: src.bootable,
      typeId: src.volumeTypeId,
    };
    inheritType = src.volumeTypeId;
  } else if (v.backupId) {
    const b = isUuid(v.backupId) ? await db().volumeBackup.findUnique({ where: { id: v.backupId } }) : null;
    if (!b || (b.projectId !== projectId && !isAdmin(ctx))) throw notFound(`Backup ${v.backupId} could not be found.`);
    if (b.status !== 'available') throw invalid('backup', `Backup status must be available (status: ${b.status})`);
    source = { kind: 'backup', backupId: b.id, minGb: b.size, driver: b.driver, host: b.host };
  }
  const size = v.size ?? ('minGb' in source ? source.minGb : undefined);
  if (size === undefined || size === null)
    throw badRequest('Invalid input received: size is required for a volume that is not created from a source.');
  if ('minGb' in source && size < source.minGb) {
    const what = { image: 'image', snapshot: 'snapshot', volume: 'source volume', backup: 'backup' }[source.kind];
    throw badRequest(
      `Invalid input received: Volume size '${size}'GB cannot be smaller than the ${what} size ${source.minGb}GB. They must be >= original ${what} size.`,
    );
  }
  const type = v.volumeType
    ? await findVolumeType(ctx, v.volumeType).catch((err: unknown) => {
        if (isStratusError(err) && err.code === 'NotFound')
          throw notFound(`Volume type with name ${v.volumeType} could not be found.`);
        throw err;
      })
    : inheritType
      ? ((await db().volumeType.findUnique({ where: { id: inheritType } })) ?? (await defaultVolumeType()))
      : await defaultVolumeType();
  const tv = toVolumeType(type);
  const multiattach = specTrue(tv.extraSpecs.multiattach);
  if (v.multiattach && !multiattach)
    throw badRequest('Invalid input received: multiattach is decided by the volume type; this type does not allow it.');
  const az = v.availabilityZone ?? cfg().defaultAvailabilityZone;
  const zones = await db().volumeBackend.findMany({ select: { availabilityZone: true } });
  if (v.availabilityZone && !zones.some((z) => z.availabilityZone === az))
    throw badRequest(`Invalid input received: Availability zone '${az}' is invalid.`);
  return {
    projectId,
    userId: ctx.userId,
    size,
    name: v.name ?? null,
    description: v.description ?? null,
    type: tv,
    availabilityZone: az,
    metadata: checkMetadata(v.metadata ?? {}),
    source,
    multiattach,
  };
}

/**
 * In the caller's transaction: quota under the project's lock, a backend from the
 * scheduler, the row, and its create job. With no valid backend the volume is written in
 * `error` with the scheduler's reason (Cinder's behaviour); `requireBackend` refuses instead.
 */
export async function insertVolume(
  tx: Tx,
  plan: PlannedVolume,
  opts: { status?: string; requireBackend?: boolean } = {},
): Promise<VolumeRow> {
  await checkVolumeQuota(tx, plan.projectId, { volumes: 1, gigabytes: plan.size }, plan.size);
  const s = plan.source;
  let only: string | null = null;
  if (s.kind === 'snapshot' || s.kind === 'volume') only = s.backend;
  const onlyHost = backupHost(s);
  const placed = await selectVolumeBackend(tx, {
    sizeGb: plan.size,
    type: plan.type,
    availabilityZone: plan.availabilityZone,
    only,
    ...(onlyHost ? { onlyHost } : {}),
  });
  if ('error' in placed && opts.requireBackend) throw new StratusError('BadRequest', placed.error);
  const id = newUuid();
  const backend = 'backend' in placed ? placed.backend : null;
  const row = await tx.volume.create({
    data: {
      id,
      name: plan.name,
      description: plan.description,
      projectId: plan.projectId,
      userId: plan.userId,
      size: plan.size,
      status: backend ? VolumeStatus.CREATING : VolumeStatus.ERROR,
      volumeTypeId: plan.type.id,
      availabilityZone: plan.availabilityZone,
      backend: backend ? backendId(backend.host, backend.backendName) : null,
      host: backend?.host ?? null,
      format: cfg().volumeFormat,
      bootable: s.kind === 'image' || ((s.kind === 'snapshot' || s.kind === 'volume') && s.bootable),
      multiattach: plan.multiattach,
      metadata: plan.metadata,
      imageMetadata: s.kind === 'image' ? s.imageMetadata : {},
      imageId: s.kind === 'image' ? s.imageId : null,
      snapshotId: s.kind === 'snapshot' ? s.snapshotId : null,
      sourceVolId: s.kind === 'volume' ? s.volumeId : null,
      backupId: s.kind === 'backup' ? s.backupId : null,
      errorMessage: 'error' in placed ? placed.error : null,
    },
  });
  if (backend) {
    if (s.kind === 'backup') {
      await tx.volumeBackup.update({ where: { id: s.backupId }, data: { status: 'restoring', restoreVolumeId: id } });
    }
    await enqueueJob(tx, volumeCreateJobDef, { volumeId: id }, { host: backend.host, queueName: volumeQueue(id) });
  }
  await emitVolumeEvent(tx, row, 'volume.created');
  return row;
}

/**
 * The host a restore must run on: a filesystem backup's data is on the host that made it;
 * an object-store backup is read from the ring by any volume host, so the scheduler picks
 * by type, capacity and zone as for a blank volume.
 */
export function backupHost(s: VolumeSource): string | undefined {
  if (s.kind !== 'backup' || s.driver === 'object') return undefined;
  return s.host ?? undefined;
}

export async function createVolume(ctx: AuthContext, raw: VolumeCreate): Promise<VolumeView> {
  const projectId = projectOf(ctx);
  enforce(ctx, 'volume:create', { project_id: projectId });
  const plan = await planVolume(ctx, raw);
  const row = await db().$transaction(async (tx) => {
    // A source may have changed since the checks: re-check it under a row lock.
    await recheckSource(tx, plan.source);
    return insertVolume(tx, plan);
  }, TX);
  const [out] = await views([{ ...row, attachments: [] }]);
  if (!out) throw new Error('volume vanished');
  return out;
}

async function recheckSource(tx: Tx, s: VolumeSource): Promise<void> {
  if (s.kind === 'snapshot') {
    const rows = await tx.$queryRaw<
      Array<{ status: string }>
    >`SELECT status FROM "VolumeSnapshot" WHERE id = ${s.snapshotId}::uuid FOR SHARE`;
    if (rows[0]?.status !== 'available') throw invalid('snapshot', 'Originating snapshot status must be available.');
  } else if (s.kind === 'volume') {
    const rows = await tx.$queryRaw<
      Array<{ status: string }>
    >`SELECT status FROM "Volume" WHERE id = ${s.volumeId}::uuid FOR SHARE`;
    if (rows[0]?.status !== VolumeStatus.AVAILABLE) throw invalid('volume', 'Source volume status must be available.');
  } else if (s.kind === 'backup') {
    const rows = await tx.$queryRaw<
      Array<{ status: string }>
    >`SELECT status FROM "VolumeBackup" WHERE id = ${s.backupId}::uuid FOR UPDATE`;
    if (rows[0]?.status !== 'available') throw invalid('backup', 'Backup status must be available.');
  }
}

// ---------------------------------------------------------------- locks and checks

export async function lockVolume(tx: Tx, id: string): Promise<VolumeRow | undefined> {
  const rows = await tx.$queryRaw<
    Array<{ id: string }>
  >`SELECT id::text FROM "Volume" WHERE id = ${id}::uuid FOR UPDATE`;
  if (rows.length === 0) return undefined;
  return (await tx.volume.findUnique({ where: { id } })) ?? undefined;
}

export function checkVolume(action: VolumeAction, v: VolumeRow): void {
  const r = canDoVolume(action, v);
  if (!r.ok) throw invalid('volume', r.reason);
}

// ---------------------------------------------------------------- update, metadata, bootable

export async function updateVolume(
  ctx: AuthContext,
  id: string,
  input: { name?: string | null; description?: string | null; metadata?: Record<string, string> },
): Promise<VolumeView> {
  const row = await loadVolume(ctx, id, 'volume:update');
  checkVolume('update', row);
  if (input.name !== undefined && input.name !== null && input.name.length > 255)
    throw badRequest('Invalid input: name is at most 255 characters.');
  if (input.description !== undefined && input.description !== null && input.description.length > 255)
    throw badRequest('Invalid input: description is at most 255 characters.');
  await db().$transaction(
    (tx) =>
      updateVolumeRow(tx, row.id, {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.metadata !== undefined ? { metadata: checkMetadata(input.metadata) } : {}),
      }),
    TX,
  );
  return getVolume(ctx, row.id);
}

export async function getVolumeMetadata(ctx: AuthContext, id: string): Promise<Record<string, string>> {
  const row = await loadVolume(ctx, id, 'volume:get_volume_metadata');
  return toVolume(row, '').metadata;
}

/** Merges (replace=false, POST) or replaces (PUT) the metadata. */
export async function setVolumeMetadata(
  ctx: AuthContext,
  id: string,
  items: Record<string, string>,
  o: { replace?: boolean } = {},
): Promise<Record<string, string>> {
  const row = await loadVolume(ctx, id, o.replace ? 'volume:update_volume_metadata' : 'volume:create_volume_metadata');
  checkVolume('update', row);
  const parsed = checkMetadata(items);
  const md = o.replace ? parsed : { ...toVolume(row, '').metadata, ...parsed };
  await db().$transaction((tx) => updateVolumeRow(tx, row.id, { metadata: md }), TX);
  return md;
}

export async function deleteVolumeMetadataItem(ctx: AuthContext, id: string, key: string): Promise<void> {
  const row = await loadVolume(ctx, id, 'volume:delete_volume_metadata');
  checkVolume('update', row);
  const md = toVolume(row, '').metadata;
  if (!(key in md)) throw notFound(`Volume ${id} has no metadata with key ${key}.`);
  delete md[key];
  await db().$transaction((tx) => updateVolumeRow(tx, row.id, { metadata: md }), TX);
}

export async function setVolumeBootable(ctx: AuthContext, id: string, bootable: boolean): Promise<void> {
  const row = await loadVolume(ctx, id, 'volume_extension:volume_actions:update_bootable');
  checkVolume('update', row);
  await db().$transaction((tx) => updateVolumeRow(tx, row.id, { bootable }), TX);
}

export async function setVolumeReadonly(ctx: AuthContext, id: string, readonly: boolean): Promise<void> {
  const row = await loadVolume(ctx, id, 'volume:update_readonly_flag');
  checkVolume('update', row);
  const md = { ...toVolume(row, '').metadata, readonly: readonly ? 'True' : 'False' };
  await db().$transaction((tx) => updateVolumeRow(tx, row.id, { metadata: md }), TX);
}

// ---------------------------------------------------------------- delete

export async function deleteVolume(
  ctx: AuthContext,
  id: string,
  o: { cascade?: boolean; force?: boolean } = {},
): Promise<void> {
  const row = await loadVolume(ctx, id, o.force ? 'volume:force_delete' : 'volume:delete');
  await db().$transaction(async (tx) => {
    const v = await lockVolume(tx, row.id);
    if (!v) throw notFound(`Volume ${id} could not be found.`);
    if (v.status === VolumeStatus.DELETING) return;
    if (!o.force) {
      checkVolume('delete', v);
      if (v.attachStatus !== AttachStatus.DETACHED) throw invalid('volume', 'Volume is attached to a server.');
    } else {
      const att = await tx.volumeAttachment.count({ where: { volumeId: v.id } });
      if (att > 0) throw invalid('volume', 'Volume is attached to a server; detach it first.');
    }
    const snaps = await tx.volumeSnapshot.findMany({ where: { volumeId: v.id } });
    if (snaps.length && !o.cascade)
      throw invalid(
        'volume',
        'Volume still has 1 or more dependent snapshots (delete them first, or use cascade=True).',
      );
    if (snaps.some((s) => s.status !== 'available' && s.status !== 'error'))
      throw invalid('volume', 'Volume has snapshots that are busy.');
    if (await tx.volumeTransfer.findUnique({ where: { volumeId: v.id } }))
      throw invalid('volume', 'Volume is awaiting a transfer.');
    if (!v.host) {
      // Never reached a backend: nothing on disk to remove.
      await tx.volumeSnapshot.deleteMany({ where: { volumeId: v.id } });
      await tx.volume.delete({ where: { id: v.id } });
      await emitVolumeEvent(tx, { ...v, status: 'deleted' }, 'volume.deleted');
      return;
    }
    if (snaps.length) await tx.volumeSnapshot.updateMany({ where: { volumeId: v.id }, data: { status: 'deleting' } });
    await updateVolumeRow(tx, v.id, { status: VolumeStatus.DELETING });
    await enqueueJob(tx, volumeDeleteJobDef, { volumeId: v.id }, { host: v.host, queueName: volumeQueue(v.id) });
  }, TX);
}

// ---------------------------------------------------------------- extend, retype

/** Grows a volume; an attached one (allowAttached: microversion ≥ 3.42) grows live in the guest. */
export async function extendVolume(
  ctx: AuthContext,
  id: string,
  newSize: number,
  o: { allowAttached?: boolean } = {},
): Promise<void> {
  const row = await loadVolume(ctx, id, 'volume:extend');
  if (!Number.isInteger(newSize) || newSize < 1)
    throw badRequest('Invalid input received: new_size must be a positive integer.');
  await db().$transaction(async (tx) => {
    const v = await lockVolume(tx, row.id);
    if (!v) throw notFound(`Volume ${id} could not be found.`);
    if (v.status === VolumeStatus.IN_USE) enforce(ctx, 'volume:extend_attached_volume', { project_id: v.projectId });
    checkVolume(o.allowAttached ? 'extend_attached' : 'extend', v);
    if (newSize <= v.size)
      throw badRequest(
        `Invalid input received: New size for extend must be greater than current size. (current: ${v.size}, extended: ${newSize}).`,
      );
    if (!v.host) throw invalid('volume', 'Volume is not on any backend.');
    await checkVolumeQuota(tx, v.projectId, { gigabytes: newSize - v.size }, newSize);
    await updateVolumeRow(tx, v.id, { status: VolumeStatus.EXTENDING, previousStatus: v.status, pendingSize: newSize });
    await enqueueJob(tx, volumeExtendJobDef, { volumeId: v.id }, { host: v.host, queueName: volumeQueue(v.id) });
  }, TX);
}

/**
 * Changes the type. Without data movement only: the new type must accept the backend the
 * volume is on (Cinder's retype with migration_policy=never); otherwise 400.
 */
export async function retypeVolume(
  ctx: AuthContext,
  id: string,
  newType: string,
  migrationPolicy: 'never' | 'on-demand' = 'never',
): Promise<void> {
  const row = await loadVolume(ctx, id, 'volume:retype');
  const t = toVolumeType(await findVolumeType(ctx, newType));
  await db().$transaction(async (tx) => {
    const v = await lockVolume(tx, row.id);
    if (!v) throw notFound(`Volume ${id} could not be found.`);
    checkVolume('retype', v);
    if (t.id === v.volumeTypeId) throw badRequest('Invalid input received: Retype requested to the same volume type.');
    const backend = v.backend ? await tx.volumeBackend.findUnique({ where: { name: v.backend } }) : null;
    const want = t.extraSpecs.volume_backend_name;
    if (want && backend && backend.backendName !== want) {
      throw badRequest(
        migrationPolicy === 'never'
          ? 'Invalid volume: Retype requires migration but is not allowed.'
          : 'Invalid volume: Retype needs a migration between backends, which this cloud does not do yet.',
      );
    }
    const multi = specTrue(t.extraSpecs.multiattach);
    const attachments = await tx.volumeAttachment.count({ where: { volumeId: v.id } });
    if (!multi && attachments > 1)
      throw invalid('volume', 'The new type does not allow multiattach and the volume has several attachments.');
    await updateVolumeRow(tx, v.id, { volumeTypeId: t.id, multiattach: multi });
  }, TX);
}

// ---------------------------------------------------------------- admin actions

export async function resetVolumeStatus(
  ctx: AuthContext,
  id: string,
  o: { status?: string; attachStatus?: string },
): Promise<void> {
  const row = await loadVolume(ctx, id, 'volume_extension:volume_admin_actions:reset_status');
  enforce(ctx, 'volume_extension:volume_admin_actions:reset_status', { project_id: row.projectId });
  const ok = [
    'available',
    'in-use',
    'error',
    'error_deleting',
    'error_extending',
    'creating',
    'deleting',
    'attaching',
    'detaching',
    'reserved',
    'maintenance',
  ];
  if (o.status !== undefined && !ok.includes(o.status))
    throw badRequest(`Invalid input received: status ${o.status} is not valid.`);
  if (o.attachStatus !== undefined && !['attached', 'detached'].includes(o.attachStatus))
    throw badRequest(`Invalid input received: attach_status ${o.attachStatus} is not valid.`);
  await db().$transaction(
    (tx) =>
      updateVolumeRow(tx, row.id, {
        ...(o.status ? { status: o.status } : {}),
        ...(o.attachStatus ? { attachStatus: o.attachStatus } : {}),
      }),
    TX,
  );
}

/** For worker steps: a conflict when someone else holds the volume. */
export function busy(id: string, status: string): StratusError {
  return conflict(`Volume ${id} is ${status}.`);
}
