import { z } from 'zod';
import type { JobDefinition } from '../../platform/jobs.ts';

/*
 * The object expirer as core enqueues it: one job per object with X-Delete-At, due at
 * that time (deduplicated per object: a new X-Delete-At replaces the pending job).
 * The handler (apps/worker/src/jobs/objectstore.ts) calls expireObject, which deletes
 * only when the object still carries that same X-Delete-At.
 */
export const ObjectExpireJob = z.object({
  account: z.string().min(1),
  container: z.string().min(1),
  object: z.string().min(1),
  deleteAt: z.number().int().min(0),
});

export const objectExpireJobDef: JobDefinition<typeof ObjectExpireJob> = {
  name: 'objectstore.expire',
  payload: ObjectExpireJob,
  hostBound: false,
  maxAttempts: 25,
  handler: async () => {
    throw new Error('object store job handlers run in the worker');
  },
};

export const expireJobKey = (account: string, container: string, object: string) =>
  `objectstore.expire:${account}/${container}/${object}`;
