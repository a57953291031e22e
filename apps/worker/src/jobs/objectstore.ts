import {
  databaseUrl,
  defineJob,
  expireObject,
  hasObjectBackend,
  type JobDefinition,
  loadConfig,
  logger,
  objectExpireJobDef,
  openObjectBackend,
  setObjectBackend,
} from '@stratus/core';
import { getPrisma } from '@stratus/db';

/*
 * The object expirer: `objectstore.expire` runs when an object's X-Delete-At comes
 * (core enqueues it with that run time when the object is written or posted) and
 * deletes the object through the replicated backend if it still carries that time.
 * Any worker may run it (not host-bound): it talks to the object servers over the ring.
 */
let opening: Promise<void> | undefined;

/** The replicated backend over the ring in PostgreSQL, opened on first use. */
export function ensureWorkerObjectBackend(): Promise<void> {
  if (hasObjectBackend()) return Promise.resolve();
  opening ??= (async () => {
    const url = databaseUrl(loadConfig());
    const objects = await openObjectBackend({
      db: getPrisma(url),
      databaseUrl: url,
      onError: (err) => logger().warn({ err }, 'object ring'),
    });
    setObjectBackend(objects.backend);
  })().catch((err: unknown) => {
    opening = undefined;
    throw err;
  });
  return opening;
}

export const objectStoreJobs: JobDefinition[] = [
  defineJob({
    ...objectExpireJobDef,
    handler: async (payload) => {
      await ensureWorkerObjectBackend();
      const r = await expireObject(payload);
      logger().info(
        { object: `${payload.account}/${payload.container}/${payload.object}`, deleteAt: payload.deleteAt, result: r },
        'object expirer',
      );
    },
  }),
];
