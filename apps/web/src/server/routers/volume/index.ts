import { listVolumeTypes, showVolumeQuotaUsage, VOLUME_RULES, volumeAvailabilityZones } from '@stratus/core';
import { can } from '@stratus/core/policy/index';
import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';
import { backupsRouter, snapshotsRouter } from './snapshots';
import { transfersRouter } from './transfers';
import { volumesRouter } from './volumes';

const RULES = new Set(VOLUME_RULES.map((r) => r.name));

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
  /**
   * Which volume actions the caller may take in their project, to show or hide controls.
   * Cinder's rules are project-scoped (project_member on the target's project), so the
   * target is the caller's project, as core's own checks use for their project's volumes.
   */
  can: protectedProcedure
    .input(
      z.object({
        actions: z.array(z.string().refine((a) => RULES.has(a), 'Not a block-storage policy rule.')).max(50),
      }),
    )
    .query(({ ctx, input }) =>
      Object.fromEntries(
        input.actions.map((a) => [
          a,
          can(ctx.auth, a, { project_id: ctx.auth.projectId ?? '', user_id: ctx.auth.userId }),
        ]),
      ),
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
