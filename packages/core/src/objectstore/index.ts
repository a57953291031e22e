/*
 * Object storage: the contract the Swift/S3 API layer uses (backend.ts), its replicated
 * implementation (replicated.ts: ring, quorum, handoffs), the ring (ring/), and the pieces each
 * storage host runs (node/: object server, replicator, auditor). See README.md beside this file.
 */
import type { PrismaClient } from '@stratus/db';
import { ReplicatedObjectBackend, type ReplicatedBackendOptions } from './replicated.ts';
import { type RingWatcher, watchRing } from './ring/store.ts';

export type {
  ObjectBackend,
  ObjectPath,
  ObjectMetadata,
  PutObjectInput,
  GetObjectResult,
  ByteRange as ObjectByteRange,
  SwiftTimestamp,
} from './backend.ts';
export { ReplicatedObjectBackend, type ReplicatedBackendOptions } from './replicated.ts';
export {
  hashPath,
  partitionOfHash,
  swiftTimestamp,
  normalizeTimestamp,
  compareTimestamps,
  type HashSecret,
} from './hash.ts';
export * from './ring/index.ts';
export {
  startObjectServer,
  createObjectServer,
  type ObjectServerOptions,
  type RunningObjectServer,
} from './node/server.ts';
export {
  replicateOnce,
  auditOnce,
  type ReplicatorOptions,
  type ReplicationStats,
  type AuditorOptions,
  type AuditStats,
} from './node/replicator.ts';
export { DEVICE_MARKER, isMounted } from './node/diskfile.ts';

/** The replicated backend over a ring source (a watcher of the PostgreSQL ring, or a fixed ring in tests). */
export function createObjectBackend(deps: ReplicatedBackendOptions): ReplicatedObjectBackend {
  return new ReplicatedObjectBackend(deps);
}

/**
 * For a server process: watches the ring in PostgreSQL and returns the backend over it.
 * Until a worker has registered its devices, every call fails with 503 (Unavailable).
 */
export async function openObjectBackend(opts: {
  db: PrismaClient;
  databaseUrl: string;
  onError?: (err: unknown) => void;
}): Promise<{
  backend: ReplicatedObjectBackend;
  ring: RingWatcher;
  close(): Promise<void>;
}> {
  const ring = await watchRing(opts.db, opts.databaseUrl, opts.onError ? { onError: opts.onError } : {});
  const backend = createObjectBackend({ ring });
  return {
    backend,
    ring,
    async close() {
      backend.close();
      await ring.close();
    },
  };
}
