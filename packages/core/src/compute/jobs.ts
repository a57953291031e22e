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

/** Jobs on one server run one at a time, in order (graphile-worker queue name). */
export const serverQueue = (serverId: string): string => `server:${serverId}`;
