import {
  type BackupView,
  createBackup,
  createSnapshot,
  deleteBackup,
  deleteSnapshot,
  getBackup,
  getSnapshot,
  listBackups,
  listSnapshots,
  restoreBackup,
  type SnapshotView,
  updateSnapshot,
} from '@stratus/core';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const SnapshotId = z.object({ snapshotId: z.string().min(1) });
const BackupId = z.object({ backupId: z.string().min(1) });

export const shapeSnapshot = (s: SnapshotView) => ({
  id: s.id,
  volumeId: s.volumeId,
  name: s.name,
  description: s.description,
  size: s.size,
  status: s.status,
  progress: s.progress,
  metadata: s.metadata,
  errorMessage: s.errorMessage,
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

export const shapeBackup = (b: BackupView) => ({
  id: b.id,
  volumeId: b.volumeId,
  snapshotId: b.snapshotId,
  name: b.name,
  description: b.description,
  size: b.size,
  status: b.status,
  progress: b.progress,
  isIncremental: b.isIncremental,
  parentId: b.parentId,
  hasDependentBackups: b.hasDependentBackups,
  driver: b.driver,
  container: b.container,
  objectCount: b.objectCount,
  storedBytes: b.storedBytes,
  availabilityZone: b.availabilityZone,
  failReason: b.failReason,
  dataTimestamp: b.dataTimestamp.toISOString(),
  createdAt: b.createdAt.toISOString(),
  updatedAt: b.updatedAt.toISOString(),
});

const ListInput = z.object({
  volumeId: z.string().min(1).optional(),
  name: z.string().max(255).optional(),
  status: z.string().max(32).optional(),
  marker: z.string().optional(),
  limit: z.number().int().min(1).max(200).default(20),
});

/** One extra row tells whether there is a next page. */
function page<T extends { id: string }>(rows: T[], limit: number) {
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

const Describe = {
  name: z.string().max(255).optional(),
  description: z.string().max(255).optional(),
};

export const snapshotsRouter = router({
  list: protectedProcedure.input(ListInput).query(async ({ ctx, input }) => {
    const rows = await listSnapshots(ctx.auth, { ...input, limit: input.limit + 1 });
    const p = page(rows, input.limit);
    return { items: p.items.map(shapeSnapshot), next: p.next };
  }),
  get: protectedProcedure
    .input(SnapshotId)
    .query(async ({ ctx, input }) => shapeSnapshot(await getSnapshot(ctx.auth, input.snapshotId))),
  /** In-use volumes are snapshotted live (Cinder ≥ 3.66 needs no force flag). */
  create: protectedProcedure
    .input(z.object({ volumeId: z.string().min(1), ...Describe }))
    .mutation(async ({ ctx, input }) => shapeSnapshot(await createSnapshot(ctx.auth, { ...input, force: true }))),
  update: protectedProcedure
    .input(SnapshotId.extend({ name: z.string().max(255).nullable(), description: z.string().max(255).nullable() }))
    .mutation(async ({ ctx, input }) =>
      shapeSnapshot(
        await updateSnapshot(ctx.auth, input.snapshotId, { name: input.name, description: input.description }),
      ),
    ),
  delete: protectedProcedure.input(SnapshotId).mutation(({ ctx, input }) => deleteSnapshot(ctx.auth, input.snapshotId)),
});

export const backupsRouter = router({
  list: protectedProcedure.input(ListInput).query(async ({ ctx, input }) => {
    const rows = await listBackups(ctx.auth, { ...input, limit: input.limit + 1 });
    const p = page(rows, input.limit);
    return { items: p.items.map(shapeBackup), next: p.next };
  }),
  get: protectedProcedure
    .input(BackupId)
    .query(async ({ ctx, input }) => shapeBackup(await getBackup(ctx.auth, input.backupId))),
  /** Full or incremental; an in-use volume is backed up too (Cinder's force). */
  create: protectedProcedure
    .input(z.object({ volumeId: z.string().min(1), incremental: z.boolean().default(false), ...Describe }))
    .mutation(async ({ ctx, input }) => shapeBackup(await createBackup(ctx.auth, { ...input, force: true }))),
  delete: protectedProcedure.input(BackupId).mutation(({ ctx, input }) => deleteBackup(ctx.auth, input.backupId)),
  /** Into an existing available volume, or a new one when volumeId is left out. */
  restore: protectedProcedure
    .input(BackupId.extend({ volumeId: z.string().min(1).optional(), name: z.string().max(255).optional() }))
    .mutation(({ ctx, input }) =>
      restoreBackup(ctx.auth, input.backupId, { volumeId: input.volumeId ?? null, name: input.name ?? null }),
    ),
});
