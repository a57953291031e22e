import type { Prisma, VolumeSnapshot as SnapshotRow } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { enqueueJob } from '../platform/jobs.ts';
import { notFound } from '../platform/errors.ts';
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
import { snapshotCreateJobDef, snapshotDeleteJobDef, volumeQueue } from './jobs.ts';
import { checkVolumeQuota } from './quotas.ts';
import { emitSnapshotEvent, type SnapshotView, toSnapshot } from './records.ts';
import { loadVolumeToCopy, lockVolumeFor } from './volume-guards.ts';
import { lockVolume } from './volumes.ts';

/*
 * Snapshots: a point-in-time copy of a volume kept on the volume's backend. An attached
 * volume is copied through libvirt while the guest runs (the worker's block copy), so the
 * copy is crash-consistent without pausing the guest. A snapshot is a standalone file:
 * volumes made from it are full copies and it can be deleted independently of them.
 */

export async function loadSnapshot(ctx: AuthContext, id: string, action: string): Promise<SnapshotRow> {
  const s = isUuid(id) ? await db().volumeSnapshot.findUnique({ where: { id } }) : null;
  return allowedRow(ctx, s, action, `Snapshot ${id} could not be found.`);
}

export async function getSnapshot(ctx: AuthContext, id: string): Promise<SnapshotView> {
  return toSnapshot(await loadSnapshot(ctx, id, 'volume:get_snapshot'));
}

export async function listSnapshots(ctx: AuthContext, o: VolumeListScope = {}): Promise<SnapshotView[]> {
  const where: Prisma.VolumeSnapshotWhereInput = listScope(ctx, 'volume:get_all_snapshots', o);
  const page = await markerPage<Prisma.VolumeSnapshotWhereInput, Prisma.VolumeSnapshotOrderByWithRelationInput>(
    o,
    NEWEST_FIRST,
    (id) => db().volumeSnapshot.findFirst({ where: { AND: [where, { id }] } }),
  );
  const rows = await db().volumeSnapshot.findMany({ ...page, where: { AND: [where, page.where] } });
  return rows.map(toSnapshot);
}

/**
 * Snapshots an available volume, or an in-use one when `force` (or microversion ≥ 3.66,
 * which the adapter passes as force).
 */
export async function createSnapshot(
  ctx: AuthContext,
  input: {
    volumeId: string;
    force?: boolean;
    name?: string | null;
    description?: string | null;
    metadata?: Record<string, string>;
  },
): Promise<SnapshotView> {
  const vol = await loadVolumeToCopy(ctx, 'volume:create_snapshot', input);
  const metadata = checkMetadata(input.metadata ?? {});
  const row = await db().$transaction(async (tx) => {
    const v = await lockVolumeFor(tx, vol.id, input.volumeId, input.force ? 'snapshot_attached' : 'snapshot');
    if (!v.host) throw invalid('volume', 'Volume is not on any backend.');
    await checkVolumeQuota(tx, v.projectId, { snapshots: 1, gigabytes: v.size }, v.size);
    const s = await tx.volumeSnapshot.create({
      data: {
        id: newUuid(),
        volumeId: v.id,
        projectId: v.projectId,
        userId: ctx.userId,
        name: input.name ?? null,
        description: input.description ?? null,
        size: v.size,
        metadata,
        backend: v.backend,
        host: v.host,
      },
    });
    await enqueueJob(tx, snapshotCreateJobDef, { snapshotId: s.id }, { host: v.host, queueName: volumeQueue(v.id) });
    await emitSnapshotEvent(tx, s, 'snapshot.created');
    return s;
  }, TX);
  return toSnapshot(row);
}

export async function updateSnapshot(
  ctx: AuthContext,
  id: string,
  input: { name?: string | null; description?: string | null },
): Promise<SnapshotView> {
  const s = await loadSnapshot(ctx, id, 'volume:update_snapshot');
  const u = await db().$transaction(async (tx) => {
    const r = await tx.volumeSnapshot.update({
      where: { id: s.id },
      data: {
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
      },
    });
    await emitSnapshotEvent(tx, r, 'snapshot.updated');
    return r;
  }, TX);
  return toSnapshot(u);
}

export async function setSnapshotMetadata(
  ctx: AuthContext,
  id: string,
  items: Record<string, string>,
  o: { replace?: boolean } = {},
): Promise<Record<string, string>> {
  const s = await loadSnapshot(ctx, id, 'volume:update_snapshot_metadata');
  const md = o.replace ? checkMetadata(items) : { ...toSnapshot(s).metadata, ...checkMetadata(items) };
  await db().volumeSnapshot.update({ where: { id: s.id }, data: { metadata: md } });
  return md;
}

export async function deleteSnapshot(ctx: AuthContext, id: string): Promise<void> {
  const s0 = await loadSnapshot(ctx, id, 'volume:delete_snapshot');
  await db().$transaction(async (tx) => {
    await lockVolume(tx, s0.volumeId);
    const s = await tx.volumeSnapshot.findUnique({ where: { id: s0.id } });
    if (!s) throw notFound(`Snapshot ${id} could not be found.`);
    if (s.status === 'deleting') return;
    if (!['available', 'error', 'error_deleting'].includes(s.status))
      throw invalid(
        'snapshot',
        `Snapshot status must be available or error and must not be part of a group (status: ${s.status})`,
      );
    const u = await tx.volumeSnapshot.update({ where: { id: s.id }, data: { status: 'deleting' } });
    await emitSnapshotEvent(tx, u, 'snapshot.updated');
    if (!s.host) {
      await tx.volumeSnapshot.delete({ where: { id: s.id } });
      return;
    }
    await enqueueJob(
      tx,
      snapshotDeleteJobDef,
      { snapshotId: s.id },
      { host: s.host, queueName: volumeQueue(s.volumeId) },
    );
  }, TX);
}
