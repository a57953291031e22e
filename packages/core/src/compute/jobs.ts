import { z } from 'zod';
import type { JobDefinition } from '../platform/jobs.ts';

/*
 * The compute jobs as core enqueues them. Their handlers live in the worker
 * (apps/worker/src/jobs/compute.ts), which spreads these with a handler.
 */
const notHere = async (): Promise<void> => {
  throw new Error('compute job handlers run in the worker');
};

export const ServerJob = z.object({ serverId: z.string().uuid(), actionId: z.string().uuid() });
export const POWER_OPS = [
  'stop',
  'start',
  'reboot_soft',
  'reboot_hard',
  'pause',
  'unpause',
  'suspend',
  'resume',
] as const;
export type PowerOp = (typeof POWER_OPS)[number];
export const PowerJob = ServerJob.extend({ op: z.enum(POWER_OPS) });

export const scheduleJobDef: JobDefinition<typeof ServerJob> = {
  name: 'compute.schedule',
  payload: ServerJob,
  hostBound: false,
  maxAttempts: 5,
  handler: notHere,
};
export const buildJobDef: JobDefinition<typeof ServerJob> = {
  name: 'compute.build',
  payload: ServerJob,
  hostBound: true,
  maxAttempts: 5,
  handler: notHere,
};
export const deleteJobDef: JobDefinition<typeof ServerJob> = {
  name: 'compute.delete',
  payload: ServerJob,
  hostBound: true,
  maxAttempts: 10,
  handler: notHere,
};
export const powerJobDef: JobDefinition<typeof PowerJob> = {
  name: 'compute.power',
  payload: PowerJob,
  hostBound: true,
  maxAttempts: 3,
  handler: notHere,
};

export const rebuildJobDef: JobDefinition<typeof ServerJob> = {
  name: 'compute.rebuild',
  payload: ServerJob,
  hostBound: true,
  maxAttempts: 3,
  handler: notHere,
};
export const MigrationJob = ServerJob.extend({ migrationId: z.string().uuid() });
/** Resize, first step (any worker): allocations moved to the migration, new flavor claimed. */
export const resizePrepJobDef: JobDefinition<typeof MigrationJob> = {
  name: 'compute.resize_prep',
  payload: MigrationJob,
  hostBound: false,
  maxAttempts: 5,
  handler: notHere,
};
/** Resize on the host: stop, grow the disk, redefine with the new flavor, start. */
export const resizeJobDef: JobDefinition<typeof MigrationJob> = {
  name: 'compute.resize',
  payload: MigrationJob,
  hostBound: true,
  maxAttempts: 3,
  handler: notHere,
};
/** After confirmResize: the host drops what it kept for a revert. */
export const confirmResizeJobDef: JobDefinition<typeof MigrationJob> = {
  name: 'compute.confirm_resize',
  payload: MigrationJob,
  hostBound: true,
  maxAttempts: 5,
  handler: notHere,
};
export const revertResizeJobDef: JobDefinition<typeof MigrationJob> = {
  name: 'compute.revert_resize',
  payload: MigrationJob,
  hostBound: true,
  maxAttempts: 3,
  handler: notHere,
};

/**
 * Cold migration on the source host (after resize_prep claimed the destination): the
 * guest stops and hands its disk over; then finish_migration runs on the destination.
 */
export const migrateSourceJobDef: JobDefinition<typeof MigrationJob> = {
  name: 'compute.migrate_source',
  payload: MigrationJob,
  hostBound: true,
  maxAttempts: 3,
  handler: notHere,
};
export const FinishMigrationJob = MigrationJob.extend({ sourceDiskPath: z.string().min(1).nullable() });
/** Cold migration on the destination host: the disk copied in, the guest defined (and started): VERIFY_RESIZE. */
export const finishMigrationJobDef: JobDefinition<typeof FinishMigrationJob> = {
  name: 'compute.finish_migration',
  payload: FinishMigrationJob,
  hostBound: true,
  maxAttempts: 3,
  handler: notHere,
};
/** A reverted cold migration back on the source host (after the destination dropped its copy). */
export const finishRevertMigrationJobDef: JobDefinition<typeof MigrationJob> = {
  name: 'compute.finish_revert_migration',
  payload: MigrationJob,
  hostBound: true,
  maxAttempts: 3,
  handler: notHere,
};

/** Jobs on one server run one at a time, in order (graphile-worker queue name). */
export const serverQueue = (serverId: string): string => `server:${serverId}`;
