import { listVolumeTypes, showVolumeQuotaUsage, volumeAvailabilityZones } from '@stratus/core';
import { TRPCError } from '@trpc/server';
import { protectedProcedure, router } from '../../trpc/init';
import { backupsRouter, snapshotsRouter } from './snapshots';
import { transfersRouter } from './transfers';
import { volumesRouter } from './volumes';

/** Block storage (Cinder): thin adapters over packages/core/src/volume. */
export const volumeRouter = router({
  volumes: volumesRouter,
  snapshots: snapshotsRouter,
  backups: backupsRouter,
  transfers: transfersRouter,
  /** Public volume types with their extra specs (the create form and the list's Type column). */
  types: protectedProcedure.query(async ({ ctx }) =>
    (await listVolumeTypes(ctx.auth)).map((t) => ({
      id: t.id,
      name: t.name,
      description: t.description,
      extraSpecs: t.extraSpecs,
    })),
  ),
  zones: protectedProcedure.query(() => volumeAvailabilityZones()),
  /** The project's block-storage quota with usage, for the create form's check. */
  quotas: protectedProcedure.query(async ({ ctx }) => {
    const projectId = ctx.auth.projectId;
    if (!projectId) throw new TRPCError({ code: 'BAD_REQUEST', message: 'A project-scoped session is required.' });
    const q = await showVolumeQuotaUsage(ctx.auth, projectId);
    const pick = (u: { limit: number; in_use: number }) => ({ limit: u.limit, inUse: u.in_use });
    return {
      volumes: pick(q.volumes),
      gigabytes: pick(q.gigabytes),
      snapshots: pick(q.snapshots),
      backups: pick(q.backups),
      backupGigabytes: pick(q.backup_gigabytes),
      perVolumeGigabytes: pick(q.per_volume_gigabytes),
    };
  }),
});
