import type { Tx, VolumeAttachment as AttachmentRow } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { enqueueJob } from '../platform/jobs.ts';
import { currentRequestId } from '../platform/log.ts';
import { badRequest, conflict, isStratusError, notFound } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { isUuid, newUuid, TX } from '../volume/common.ts';
import { volumeAttachJobDef, volumeDeleteJobDef, volumeDetachJobDef, volumeQueue } from '../volume/jobs.ts';
import { toAttachment, updateVolumeRow, type VolumeAttachmentView } from '../volume/records.ts';
import { AttachStatus, canDoVolume, VolumeStatus } from '../volume/state.ts';
import { insertVolume, loadVolume, lockVolume, planVolume } from '../volume/volumes.ts';
import { db } from './common.ts';
import { serverQueue } from './jobs.ts';
import { finishAction, startAction } from './records.ts';
import { getServer, lockServer } from './servers.ts';
import { VmState } from './state.ts';

/*
 * Nova's os-volume_attachments and block device mapping v2, on top of the volume service.
 * An attachment row is Nova's BDM and Cinder's attachment at once: `reserved` while a
 * boot volume waits for its server's build, `attaching` → `attached` → `detaching`.
 * Attach and detach run on the server's host in the server's job queue (libvirt
 * hot-plug); the guest device (/dev/vdX) is chosen here and reported at once.
 */

/** vm states in which Nova lets a volume be attached or detached. */
const ATTACHABLE = new Set<string>([VmState.ACTIVE, VmState.STOPPED, VmState.PAUSED, VmState.SUSPENDED]);

const DEVICE_RE = /^(\/dev\/)?vd([a-z]{1,2})$/;

/** The first free virtio name after vda (the root disk). */
export function nextDevice(used: Iterable<string>, wanted?: string | null): string {
  const taken = new Set<string>(['vda']);
  for (const u of used) taken.add(u.replace(/^\/dev\//, ''));
  if (wanted) {
    const m = DEVICE_RE.exec(wanted);
    // Nova ignores a requested name libvirt cannot honour and picks one itself.
    if (m && !taken.has(`vd${m[2]}`)) return `/dev/vd${m[2]}`;
  }
  for (let i = 1; i < 26 * 27; i++) {
    const name =
      i < 26
        ? `vd${String.fromCharCode(97 + i)}`
        : `vd${String.fromCharCode(96 + Math.floor(i / 26))}${String.fromCharCode(97 + (i % 26))}`;
    if (!taken.has(name)) return `/dev/${name}`;
  }
  throw badRequest('No free device name is left on this server.');
}

export interface ServerVolumeAttachment {
  /** Nova's id of an attachment before 2.89: the volume id. */
  id: string;
  attachmentId: string;
  serverId: string;
  volumeId: string;
  device: string | null;
  tag: string | null;
  deleteOnTermination: boolean;
  status: string;
}

const toServerAttachment = (a: AttachmentRow): ServerVolumeAttachment => ({
  id: a.volumeId,
  attachmentId: a.id,
  serverId: a.serverId,
  volumeId: a.volumeId,
  device: a.device,
  tag: a.tag,
  deleteOnTermination: a.deleteOnTermination,
  status: a.status,
});

async function serverFor(ctx: AuthContext, serverId: string, action: string) {
  const s = await getServer(ctx, serverId);
  enforce(ctx, action, { project_id: s.projectId, user_id: s.userId });
  return s;
}

export async function listServerVolumeAttachments(
  ctx: AuthContext,
  serverId: string,
): Promise<ServerVolumeAttachment[]> {
  const s = await serverFor(ctx, serverId, 'os_compute_api:os-volumes-attachments:index');
  const rows = await db().volumeAttachment.findMany({ where: { serverId: s.id }, orderBy: { createdAt: 'asc' } });
  return rows.map(toServerAttachment);
}

export async function getServerVolumeAttachment(
  ctx: AuthContext,
  serverId: string,
  volumeId: string,
): Promise<ServerVolumeAttachment> {
  const s = await serverFor(ctx, serverId, 'os_compute_api:os-volumes-attachments:show');
  const a = isUuid(volumeId)
    ? await db().volumeAttachment.findUnique({ where: { volumeId_serverId: { volumeId, serverId: s.id } } })
    : null;
  if (!a) throw notFound(`Volume ${volumeId} is not attached to server ${serverId}.`);
  return toServerAttachment(a);
}

export const AttachInput = z.object({
  volumeId: z.string().min(1),
  device: z.string().nullish(),
  tag: z.string().max(60).nullish(),
  deleteOnTermination: z.boolean().optional(),
});

/** Attaches a volume of the caller's project to a server of it (hot-plug when running). */
export async function attachVolumeToServer(
  ctx: AuthContext,
  serverId: string,
  raw: z.input<typeof AttachInput>,
): Promise<ServerVolumeAttachment> {
  const r = AttachInput.safeParse(raw);
  if (!r.success)
    throw badRequest(`Invalid input for field/attribute volumeAttachment. ${r.error.issues[0]?.message ?? ''}`);
  const input = r.data;
  const server = await serverFor(ctx, serverId, 'os_compute_api:os-volumes-attachments:create');
  // The volume as the caller sees it: another project's volume does not exist for them.
  const vol = await loadVolume(ctx, input.volumeId, 'volume:get').catch((err: unknown) => {
    if (isStratusError(err) && err.code === 'NotFound') throw notFound(`Volume ${input.volumeId} could not be found.`);
    throw err;
  });
  if (vol.projectId !== server.projectId)
    throw badRequest(`Volume ${vol.id} belongs to another project than server ${server.id}.`);
  const requestId = currentRequestId() ?? `req-${newUuid()}`;
  const row = await db().$transaction(async (tx) => {
    const s = await lockServer(tx, server.id);
    if (!s || s.deleted) throw notFound(`Instance ${serverId} could not be found.`);
    if (!ATTACHABLE.has(s.vmState) || s.taskState !== null)
      throw conflict(
        `Cannot 'attach_volume' instance ${s.id} while it is in vm_state ${s.vmState}${s.taskState ? ` and task_state ${s.taskState}` : ''}`,
      );
    if (s.locked && s.lockedBy !== ctx.userId) throw conflict(`Instance ${s.id} is locked`);
    if (!s.host) throw conflict(`Instance ${s.id} is not on any host.`);
    const v = await lockVolume(tx, vol.id);
    if (!v) throw notFound(`Volume ${input.volumeId} could not be found.`);
    const existing = await tx.volumeAttachment.findUnique({
      where: { volumeId_serverId: { volumeId: v.id, serverId: s.id } },
    });
    if (existing) throw badRequest(`Invalid volume: volume ${v.id} is already attached to server ${s.id}.`);
    const ok = canDoVolume('attach', v);
    if (!ok.ok) throw badRequest(`Invalid volume: ${ok.reason}`);
    if (v.status === VolumeStatus.IN_USE) enforce(ctx, 'volume:multiattach', { project_id: v.projectId });
    if (v.host !== s.host)
      throw badRequest(
        `Invalid volume: volume ${v.id} is on host ${v.host ?? '-'} and server ${s.id} on host ${s.host}; the file backend attaches on its own host only.`,
      );
    const used = await tx.volumeAttachment.findMany({ where: { serverId: s.id }, select: { device: true } });
    const device = nextDevice(
      used.flatMap((u) => (u.device ? [u.device] : [])),
      input.device,
    );
    const actionId = await startAction(tx, {
      serverId: s.id,
      action: 'attach_volume',
      requestId,
      projectId: s.projectId,
      userId: ctx.userId,
    });
    const a = await tx.volumeAttachment.create({
      data: {
        id: newUuid(),
        volumeId: v.id,
        serverId: s.id,
        projectId: v.projectId,
        host: s.host,
        device,
        status: 'attaching',
        deleteOnTermination: input.deleteOnTermination ?? false,
        tag: input.tag ?? null,
      },
    });
    await updateVolumeRow(tx, v.id, {
      status: VolumeStatus.ATTACHING,
      attachStatus: AttachStatus.ATTACHING,
      previousStatus: v.status,
    });
    await enqueueJob(
      tx,
      volumeAttachJobDef,
      { attachmentId: a.id, actionId },
      { host: s.host, queueName: serverQueue(s.id) },
    );
    return a;
  }, TX);
  return toServerAttachment(row);
}

/** Detaches (hot-unplug when running). The root volume of a server cannot be detached. */
export async function detachVolumeFromServer(ctx: AuthContext, serverId: string, volumeId: string): Promise<void> {
  const server = await serverFor(ctx, serverId, 'os_compute_api:os-volumes-attachments:delete');
  const requestId = currentRequestId() ?? `req-${newUuid()}`;
  await db().$transaction(async (tx) => {
    const s = await lockServer(tx, server.id);
    if (!s || s.deleted) throw notFound(`Instance ${serverId} could not be found.`);
    const a = isUuid(volumeId)
      ? await tx.volumeAttachment.findUnique({ where: { volumeId_serverId: { volumeId, serverId: s.id } } })
      : null;
    if (!a) throw notFound(`Volume ${volumeId} is not attached to server ${serverId}.`);
    if (a.bootIndex === 0) throw badRequest(`Cannot detach a root device volume`);
    if (a.status !== 'attached') throw badRequest(`Invalid volume: the attachment of ${volumeId} is ${a.status}.`);
    if (!ATTACHABLE.has(s.vmState) || s.taskState !== null)
      throw conflict(
        `Cannot 'detach_volume' instance ${s.id} while it is in vm_state ${s.vmState}${s.taskState ? ` and task_state ${s.taskState}` : ''}`,
      );
    if (s.locked && s.lockedBy !== ctx.userId) throw conflict(`Instance ${s.id} is locked`);
    const v = await lockVolume(tx, a.volumeId);
    if (!v) throw notFound(`Volume ${volumeId} could not be found.`);
    if (v.status !== VolumeStatus.IN_USE)
      throw badRequest(`Invalid volume: Volume must be in-use to be detached (status: ${v.status}).`);
    // A live snapshot copies through the guest's disk: let it finish first.
    if ((await tx.volumeSnapshot.count({ where: { volumeId: v.id, status: 'creating' } })) > 0)
      throw badRequest(`Invalid volume: a snapshot of volume ${v.id} is being made; detach when it is done.`);
    const actionId = await startAction(tx, {
      serverId: s.id,
      action: 'detach_volume',
      requestId,
      projectId: s.projectId,
      userId: ctx.userId,
    });
    await tx.volumeAttachment.update({ where: { id: a.id }, data: { status: 'detaching' } });
    await updateVolumeRow(tx, v.id, { status: VolumeStatus.DETACHING, attachStatus: AttachStatus.DETACHING });
    await enqueueJob(
      tx,
      volumeDetachJobDef,
      { attachmentId: a.id, actionId },
      { host: a.host ?? s.host ?? '', queueName: serverQueue(s.id) },
    );
  }, TX);
}

/** The volume's status once an attachment is gone: in-use while others remain. */
export async function settleVolumeAfterDetach(tx: Tx, volumeId: string): Promise<void> {
  const left = await tx.volumeAttachment.count({ where: { volumeId, status: 'attached' } });
  await updateVolumeRow(tx, volumeId, {
    status: left > 0 ? VolumeStatus.IN_USE : VolumeStatus.AVAILABLE,
    attachStatus: left > 0 ? AttachStatus.ATTACHED : AttachStatus.DETACHED,
    previousStatus: null,
  });
}

export async function finishAttachAction(tx: Tx, actionId: string | undefined, message?: string): Promise<void> {
  if (actionId) await finishAction(tx, actionId, message);
}

// ---------------------------------------------------------------- block device mapping v2

/** One entry of Nova's block_device_mapping_v2 as the API takes it. */
export const BlockDeviceMappingV2 = z
  .object({
    boot_index: z.union([z.number().int(), z.string().regex(/^-?\d+$/), z.null()]).optional(),
    uuid: z.string().optional(),
    source_type: z.enum(['image', 'volume', 'snapshot', 'blank']),
    destination_type: z.enum(['volume', 'local']).optional(),
    volume_size: z.union([z.number().int().min(1), z.string().regex(/^\d+$/)]).optional(),
    delete_on_termination: z.union([z.boolean(), z.string()]).optional(),
    device_name: z.string().nullish(),
    volume_type: z.string().nullish(),
    tag: z.string().nullish(),
    disk_bus: z.string().nullish(),
    device_type: z.string().nullish(),
    guest_format: z.string().nullish(),
  })
  .loose();
export type BlockDeviceMappingV2 = z.input<typeof BlockDeviceMappingV2>;

export type BootVolumePlan =
  | { kind: 'existing'; volumeId: string; deleteOnTermination: boolean; device: string; bootIndex: number | null }
  | {
      kind: 'new';
      plan: Awaited<ReturnType<typeof planVolume>>;
      deleteOnTermination: boolean;
      device: string;
      bootIndex: number | null;
    };

export interface BootPlan {
  /** The image the root volume is made from (Nova shows '' for a server booted from a volume). */
  imageId: string | null;
  volumes: BootVolumePlan[];
  /** Size of the root volume in GB, for the flavor's disk check. */
  rootSizeGb: number;
}

const asBool = (v: boolean | string | undefined) => v === true || (typeof v === 'string' && /^(true|1|yes)$/i.test(v));

/**
 * Checks block_device_mapping_v2 for server create: volume-backed entries only (image →
 * volume, snapshot → volume, blank → volume, or an existing volume); boot index 0 is the
 * root disk. An image → local entry with boot index 0 is the ordinary image boot and is
 * left to imageRef. Returns undefined when no volume is involved.
 */
export async function planBootVolumes(
  ctx: AuthContext,
  raw: unknown[],
  o: { count: number; imageRef?: string | null },
): Promise<BootPlan | undefined> {
  const entries = raw.map((e, i) => {
    const r = BlockDeviceMappingV2.safeParse(e);
    if (!r.success)
      throw badRequest(
        `Invalid input for field/attribute block_device_mapping_v2[${i}]. ${r.error.issues[0]?.message ?? ''}`,
      );
    return r.data;
  });
  const volumeEntries = entries.filter((e) => e.destination_type === 'volume' || e.source_type === 'volume');
  if (volumeEntries.length === 0) return undefined;
  if (o.count > 1 && volumeEntries.some((e) => e.source_type === 'volume'))
    throw badRequest('Unable to launch multiple instances with a single existing volume.');
  if (o.count > 1)
    throw badRequest('Booting several servers from volumes at once is not supported; create them one by one.');
  const plans: BootVolumePlan[] = [];
  const devices: string[] = [];
  let imageId: string | null = null;
  let rootSizeGb = 0;
  let hasRoot = false;
  for (const e of volumeEntries) {
    const bootIndex = e.boot_index === undefined || e.boot_index === null ? null : Number(e.boot_index);
    const root = bootIndex === 0;
    if (root) {
      if (hasRoot)
        throw badRequest('Boot sequence for the instance and image/block device mapping combination is not valid.');
      hasRoot = true;
    }
    const device = root ? '/dev/vda' : nextDevice(devices, e.device_name);
    devices.push(device);
    const del = asBool(e.delete_on_termination);
    if (e.source_type === 'volume') {
      if (!e.uuid) throw badRequest('Invalid input: block_device_mapping_v2 with source_type volume needs a uuid.');
      const v = await loadVolume(ctx, e.uuid, 'volume:get').catch((err: unknown) => {
        if (isStratusError(err) && err.code === 'NotFound')
          throw badRequest(`Block Device Mapping is Invalid: failed to get volume ${e.uuid}.`);
        throw err;
      });
      const ok = canDoVolume('attach', v);
      if (!ok.ok)
        throw badRequest(
          `Block Device Mapping is Invalid: volume ${v.id} status must be available (status: ${v.status}).`,
        );
      if (root) rootSizeGb = v.size;
      plans.push({ kind: 'existing', volumeId: v.id, deleteOnTermination: del, device, bootIndex });
      continue;
    }
    const size = e.volume_size === undefined ? undefined : Number(e.volume_size);
    const base = { size: size ?? null, volumeType: e.volume_type ?? null, name: null };
    let plan: Awaited<ReturnType<typeof planVolume>>;
    if (e.source_type === 'image') {
      const ref = e.uuid ?? o.imageRef;
      if (!ref) throw badRequest('Invalid input: block_device_mapping_v2 with source_type image needs a uuid.');
      plan = await planVolume(ctx, { ...base, imageRef: ref }).catch(bdmError);
      if (root) imageId = plan.source.kind === 'image' ? plan.source.imageId : null;
    } else if (e.source_type === 'snapshot') {
      if (!e.uuid) throw badRequest('Invalid input: block_device_mapping_v2 with source_type snapshot needs a uuid.');
      plan = await planVolume(ctx, { ...base, snapshotId: e.uuid }).catch(bdmError);
    } else {
      if (!size) throw badRequest('Invalid input: a blank volume in block_device_mapping_v2 needs volume_size.');
      plan = await planVolume(ctx, base).catch(bdmError);
    }
    if (root) rootSizeGb = plan.size;
    plans.push({ kind: 'new', plan, deleteOnTermination: del, device, bootIndex });
  }
  if (!hasRoot && !o.imageRef)
    throw badRequest(
      'Block Device Mapping is Invalid: Boot sequence for the instance and image/block device mapping combination is not valid.',
    );
  return { imageId, volumes: plans, rootSizeGb };
}

function bdmError(err: unknown): never {
  if (isStratusError(err) && (err.code === 'BadRequest' || err.code === 'NotFound'))
    throw badRequest(`Block Device Mapping is Invalid: ${err.message}`);
  throw err;
}

/**
 * In the server-create transaction: creates the new volumes (quota, backend, create job)
 * and reserves every volume for the server with its attachment row. The build waits for
 * them to be available and boots from the one with boot index 0.
 */
export async function reserveBootVolumes(tx: Tx, serverId: string, projectId: string, plan: BootPlan): Promise<void> {
  for (const p of plan.volumes) {
    let volumeId: string;
    let host: string | null;
    if (p.kind === 'new') {
      const row = await insertVolume(tx, p.plan, { requireBackend: true });
      volumeId = row.id;
      host = row.host;
    } else {
      const v = await lockVolume(tx, p.volumeId);
      if (!v) throw badRequest(`Block Device Mapping is Invalid: failed to get volume ${p.volumeId}.`);
      const ok = canDoVolume('attach', v);
      if (!ok.ok)
        throw badRequest(
          `Block Device Mapping is Invalid: volume ${v.id} status must be available (status: ${v.status}).`,
        );
      if (v.projectId !== projectId)
        throw badRequest(`Block Device Mapping is Invalid: volume ${v.id} belongs to another project.`);
      await updateVolumeRow(tx, v.id, { status: VolumeStatus.RESERVED, previousStatus: v.status });
      volumeId = v.id;
      host = v.host;
    }
    await tx.volumeAttachment.create({
      data: {
        id: newUuid(),
        volumeId,
        serverId,
        projectId,
        host,
        device: p.device,
        status: 'reserved',
        bootIndex: p.bootIndex,
        deleteOnTermination: p.deleteOnTermination,
      },
    });
  }
}

/** The server's volumes as the build needs them: path facts come from the worker's backend. */
export async function serverBlockDevices(
  serverId: string,
): Promise<
  Array<
    VolumeAttachmentView & { volume: { id: string; status: string; format: string; host: string | null; size: number } }
  >
> {
  const rows = await db().volumeAttachment.findMany({
    where: { serverId },
    include: { volume: true },
    orderBy: { createdAt: 'asc' },
  });
  return rows.map((r) => ({
    ...toAttachment(r),
    volume: {
      id: r.volume.id,
      status: r.volume.status,
      format: r.volume.format,
      host: r.volume.host,
      size: r.volume.size,
    },
  }));
}

/** After a successful spawn: the reserved volumes are attached and in use. */
export async function markBootVolumesAttached(tx: Tx, serverId: string): Promise<void> {
  const rows = await tx.volumeAttachment.findMany({ where: { serverId, status: 'reserved' } });
  for (const a of rows) {
    await tx.volumeAttachment.update({ where: { id: a.id }, data: { status: 'attached', attachedAt: new Date() } });
    await updateVolumeRow(tx, a.volumeId, {
      status: VolumeStatus.IN_USE,
      attachStatus: AttachStatus.ATTACHED,
      previousStatus: null,
    });
  }
}

/**
 * When a server is deleted (or its build is given up): every attachment goes; volumes
 * marked delete_on_termination are deleted, the others become available again.
 */
export async function releaseServerVolumes(tx: Tx, serverId: string): Promise<void> {
  const rows = await tx.volumeAttachment.findMany({ where: { serverId } });
  for (const a of rows) {
    const v = await lockVolume(tx, a.volumeId);
    await tx.volumeAttachment.delete({ where: { id: a.id } });
    if (!v) continue;
    if (a.deleteOnTermination && v.host && v.status !== VolumeStatus.DELETING) {
      const others = await tx.volumeAttachment.count({ where: { volumeId: v.id } });
      if (others === 0) {
        await tx.volumeSnapshot.updateMany({ where: { volumeId: v.id }, data: { status: 'deleting' } });
        await updateVolumeRow(tx, v.id, { status: VolumeStatus.DELETING, attachStatus: AttachStatus.DETACHED });
        await enqueueJob(tx, volumeDeleteJobDef, { volumeId: v.id }, { host: v.host, queueName: volumeQueue(v.id) });
        continue;
      }
    }
    if (v.status === VolumeStatus.CREATING) continue;
    const left = await tx.volumeAttachment.count({ where: { volumeId: v.id, status: 'attached' } });
    await updateVolumeRow(tx, v.id, {
      status: left > 0 ? VolumeStatus.IN_USE : VolumeStatus.AVAILABLE,
      attachStatus: left > 0 ? AttachStatus.ATTACHED : AttachStatus.DETACHED,
      previousStatus: null,
    });
  }
}

/** Used by API adapters: the volume attachments of many servers in one query. */
export async function volumesAttachedTo(
  serverIds: string[],
): Promise<Map<string, Array<{ id: string; deleteOnTermination: boolean }>>> {
  const out = new Map<string, Array<{ id: string; deleteOnTermination: boolean }>>();
  if (serverIds.length === 0) return out;
  const rows = await db().volumeAttachment.findMany({
    where: { serverId: { in: serverIds } },
    orderBy: { createdAt: 'asc' },
  });
  for (const r of rows) {
    const l = out.get(r.serverId) ?? [];
    l.push({ id: r.volumeId, deleteOnTermination: r.deleteOnTermination });
    out.set(r.serverId, l);
  }
  return out;
}
