import type { Prisma, Tx, VolumeBackup as BackupRow } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import type { ObjectCaller } from '../objectstore/swift/access.ts';
import { loadConfig } from '../platform/config.ts';
import { enqueueJob } from '../platform/jobs.ts';
import { badRequest, notFound } from '../platform/errors.ts';
import { markerPage } from '../platform/paging.ts';
import {
  allowedRow,
  checkMetadata,
  db,
  invalid,
  isUuid,
  listScope,
  NEWEST_FIRST,
  newUuid,
  TX,
  type VolumeListScope,
} from './common.ts';
import { backupCreateJobDef, backupDeleteJobDef, backupRestoreJobDef, volumeQueue } from './jobs.ts';
import { checkVolumeQuota } from './quotas.ts';
import { type BackupView, emitBackupEvent, toBackup, updateVolumeRow, type VolumeView } from './records.ts';
import { VolumeStatus } from './state.ts';
import { loadVolumeToCopy, lockVolumeFor } from './volume-guards.ts';
import { createVolume, getVolume, loadVolume } from './volumes.ts';

/*
 * Backups: full or incremental copies of a volume's data kept by a backup driver: the
 * object store (chunks as objects in the owner's account, as Cinder's swift driver) or a
 * filesystem target, both behind the worker's BackupTarget interface. Which one is
 * decided at create and written on the row (`driver`, `container`), so a backup is
 * restored and deleted where it lives whatever the configuration says later. An
 * incremental backup stores only the chunks that changed since its parent (the volume's
 * latest available backup) and lives beside it; a backup with dependents cannot be
 * deleted. Progress is reported on the backup while data moves.
 */

/** Where a backup's data lives: the object store or the filesystem target. */
export type BackupDriver = 'object' | 'file';

/**
 * The driver for a new full backup: STRATUS_BACKUP_TARGET, or with `auto` the object store
 * when its ring has a device with weight (a worker with the object role has joined).
 */
export async function chooseBackupDriver(tx: Tx): Promise<BackupDriver> {
  const target = loadConfig().backupTarget;
  if (target === 'object') return 'object';
  if (target === 'filesystem') return 'file';
  const devices = await tx.objectRingDevice.count({ where: { weight: { gt: 0 } } });
  return devices > 0 ? 'object' : 'file';
}

/**
 * The caller the backup service acts as in the object store: a member of the backup's
 * project (Cinder's swift driver writes with the user's token into the user's account), so
 * object-store policy, ACLs and account quotas apply as to the owner's own uploads.
 */
export function backupObjectCaller(b: { projectId: string; userId: string; id: string }): ObjectCaller {
  return {
    kind: 'token',
    ctx: {
      userId: b.userId,
      userName: 'stratus-backup',
      domainId: 'default',
      projectId: b.projectId,
      projectName: null,
      domainScopeId: null,
      system: false,
      roles: ['member', 'reader'],
      tokenId: `backup:${b.id}`,
      auditId: `backup:${b.id}`,
      expiresAt: new Date(Date.now() + 24 * 3600_000),
      methods: ['service'],
    },
  };
}

export async function loadBackup(ctx: AuthContext, id: string, action: string): Promise<BackupRow> {
  const b = isUuid(id) ? await db().volumeBackup.findUnique({ where: { id } }) : null;
  return allowedRow(ctx, b, action, `Backup ${id} could not be found.`);
}

async function dependents(ids: string[]): Promise<Set<string>> {
  const rows = await db().volumeBackup.findMany({ where: { parentId: { in: ids } }, select: { parentId: true } });
  return new Set(rows.flatMap((r) => (r.parentId ? [r.parentId] : [])));
}

export async function getBackup(ctx: AuthContext, id: string): Promise<BackupView> {
  const b = await loadBackup(ctx, id, 'backup:get');
  return toBackup(b, (await dependents([b.id])).has(b.id));
}

export async function listBackups(ctx: AuthContext, o: VolumeListScope = {}): Promise<BackupView[]> {
  const where: Prisma.VolumeBackupWhereInput = listScope(ctx, 'backup:get_all', o);
  const page = await markerPage<Prisma.VolumeBackupWhereInput, Prisma.VolumeBackupOrderByWithRelationInput>(
    o,
    NEWEST_FIRST,
    (id) => db().volumeBackup.findFirst({ where: { AND: [where, { id }] } }),
  );
  const rows = await db().volumeBackup.findMany({ ...page, where: { AND: [where, page.where] } });
  const dep = await dependents(rows.map((r) => r.id));
  return rows.map((r) => toBackup(r, dep.has(r.id)));
}

export async function createBackup(
  ctx: AuthContext,
  input: {
    volumeId: string;
    incremental?: boolean;
    force?: boolean;
    name?: string | null;
    description?: string | null;
    container?: string | null;
    metadata?: Record<string, string>;
  },
): Promise<BackupView> {
  const vol = await loadVolumeToCopy(ctx, 'backup:create', input);
  if (input.container && !/^[A-Za-z0-9_.-]{1,255}$/.test(input.container))
    throw badRequest('Invalid input received: container names are 1-255 characters of [A-Za-z0-9_.-].');
  const metadata = checkMetadata(input.metadata ?? {});
  const row = await db().$transaction(async (tx) => {
    const v = await lockVolumeFor(tx, vol.id, input.volumeId, input.force ? 'backup_attached' : 'backup');
    if (!v.host) throw invalid('volume', 'Volume is not on any backend.');
    let parentId: string | null = null;
    let driver: BackupDriver;
    let container = input.container ?? null;
    if (input.incremental) {
      const parent = await tx.volumeBackup.findFirst({
        where: { volumeId: v.id, status: 'available' },
        orderBy: [{ dataTimestamp: 'desc' }, { createdAt: 'desc' }],
      });
      if (!parent) throw invalid('backup', 'No backups available to do an incremental backup.');
      parentId = parent.id;
      // Its chunks point at the parent's objects: it lives where the parent lives.
      driver = parent.driver === 'object' ? 'object' : 'file';
      const parentContainer = parent.container ?? 'volumebackups';
      if (container !== null && container !== parentContainer)
        throw invalid(
          'backup',
          `An incremental backup is kept in its parent's container ${parentContainer}, not ${container}.`,
        );
      container = parentContainer;
    } else {
      driver = await chooseBackupDriver(tx);
      container ??= loadConfig().backupContainer;
    }
    await checkVolumeQuota(tx, v.projectId, { backups: 1, backup_gigabytes: v.size });
    const id = newUuid();
    const b = await tx.volumeBackup.create({
      data: {
        id,
        volumeId: v.id,
        projectId: v.projectId,
        userId: ctx.userId,
        name: input.name ?? null,
        description: input.description ?? null,
        size: v.size,
        isIncremental: parentId !== null,
        parentId,
        container,
        driver,
        availabilityZone: v.availabilityZone,
        host: v.host,
        metadata,
      },
    });
    await updateVolumeRow(tx, v.id, { status: VolumeStatus.BACKING_UP, previousStatus: v.status });
    await enqueueJob(tx, backupCreateJobDef, { backupId: id }, { host: v.host, queueName: volumeQueue(v.id) });
    await emitBackupEvent(tx, b, 'backup.created');
    return b;
  }, TX);
  return toBackup(row, false);
}

export async function updateBackup(
  ctx: AuthContext,
  id: string,
  input: { name?: string | null; description?: string | null; metadata?: Record<string, string> },
): Promise<BackupView> {
  const b = await loadBackup(ctx, id, 'backup:update');
  const u = await db().volumeBackup.update({
    where: { id: b.id },
    data: {
      ...(input.name !== undefined ? { name: input.name } : {}),
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.metadata !== undefined ? { metadata: checkMetadata(input.metadata) } : {}),
    },
  });
  return toBackup(u, (await dependents([b.id])).has(b.id));
}

export async function deleteBackup(ctx: AuthContext, id: string, o: { force?: boolean } = {}): Promise<void> {
  const b0 = await loadBackup(ctx, id, 'backup:delete');
  await db().$transaction(async (tx) => {
    const rows = await tx.$queryRaw<
      Array<{ status: string }>
    >`SELECT status FROM "VolumeBackup" WHERE id = ${b0.id}::uuid FOR UPDATE`;
    const status = rows[0]?.status;
    if (status === undefined) throw notFound(`Backup ${id} could not be found.`);
    if (status === 'deleting') return;
    if (!['available', 'error', 'error_deleting'].includes(status) && !(o.force && status === 'creating'))
      throw invalid('backup', `Backup status must be available or error (status: ${status})`);
    if ((await tx.volumeBackup.count({ where: { parentId: b0.id } })) > 0)
      throw invalid('backup', 'Incremental backups exist for this backup.');
    const u = await tx.volumeBackup.update({ where: { id: b0.id }, data: { status: 'deleting' } });
    await emitBackupEvent(tx, u, 'backup.updated');
    if (!b0.host) {
      await tx.volumeBackup.delete({ where: { id: b0.id } });
      return;
    }
    await enqueueJob(tx, backupDeleteJobDef, { backupId: b0.id }, { host: b0.host, queueName: `backup:${b0.id}` });
  }, TX);
}

/**
 * Restores into an existing available volume at least as large as the backup, or, without
 * `volumeId`, into a new volume of the backup's size.
 */
export async function restoreBackup(
  ctx: AuthContext,
  id: string,
  input: { volumeId?: string | null; name?: string | null },
): Promise<{ backupId: string; volumeId: string; volumeName: string | null }> {
  const b = await loadBackup(ctx, id, 'backup:restore');
  if (b.status !== 'available') throw invalid('backup', `Backup status must be available (status: ${b.status})`);
  if (!input.volumeId) {
    const v: VolumeView = await createVolume(ctx, {
      backupId: b.id,
      size: b.size,
      name: input.name ?? `restore_backup_${b.id}`,
    });
    return { backupId: b.id, volumeId: v.id, volumeName: v.name };
  }
  const asked = input.volumeId;
  const target = await loadVolume(ctx, asked, 'volume:update');
  await db().$transaction(async (tx) => {
    const v = await lockVolumeFor(tx, target.id, asked, 'restore_into');
    if (v.attachStatus !== 'detached') throw invalid('volume', 'Volume to be restored to must be detached.');
    if (v.size < b.size)
      throw invalid('volume', `volume size ${v.size}GB is too small to restore backup of size ${b.size}GB.`);
    // Object-store backups are readable from every host; filesystem ones only where they were made.
    if (!v.host || (b.driver !== 'object' && v.host !== b.host))
      throw invalid(
        'volume',
        `Volume is on host ${v.host ?? '-'}; the backup can be restored on host ${b.host ?? '-'} only.`,
      );
    const rows = await tx.$queryRaw<
      Array<{ status: string }>
    >`SELECT status FROM "VolumeBackup" WHERE id = ${b.id}::uuid FOR UPDATE`;
    if (rows[0]?.status !== 'available') throw invalid('backup', 'Backup status must be available.');
    const u = await tx.volumeBackup.update({
      where: { id: b.id },
      data: { status: 'restoring', restoreVolumeId: v.id, progress: 0 },
    });
    await emitBackupEvent(tx, u, 'backup.updated');
    await updateVolumeRow(tx, v.id, { status: VolumeStatus.RESTORING_BACKUP, previousStatus: v.status });
    await enqueueJob(
      tx,
      backupRestoreJobDef,
      { backupId: b.id, volumeId: v.id },
      { host: v.host, queueName: volumeQueue(v.id) },
    );
  }, TX);
  const v = await getVolume(ctx, target.id);
  return { backupId: b.id, volumeId: v.id, volumeName: v.name };
}
