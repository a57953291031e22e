import { hasObjectBackend, logger, openObjectBackend, runtime, setObjectBackend } from '@stratus/core';

/*
 * The web process's object backend: the replicated store over the ring in PostgreSQL,
 * opened on the first object-store request (a test may have set one already).
 */
let opening: Promise<void> | undefined;

export function ensureObjectBackend(): Promise<void> {
  if (hasObjectBackend()) return Promise.resolve();
  opening ??= (async () => {
    const rt = runtime();
    const objects = await openObjectBackend({
      db: rt.db,
      databaseUrl: rt.databaseUrl,
      onError: (err) => logger().warn({ err }, 'object ring'),
    });
    setObjectBackend(objects.backend);
  })().catch((err: unknown) => {
    opening = undefined;
    throw err;
  });
  return opening;
}
