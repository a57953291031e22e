import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AuthContext,
  createVolumeType,
  getVolume,
  heartbeat,
  isStratusError,
  type JobDefinition,
  type VolumeView,
} from '@stratus/core';
import { getPrisma, type PrismaClient } from '@stratus/db';
import { waitFor } from '../../../../test/helpers.ts';
import { FilesystemBackupTarget } from '../drivers/volume/backup.ts';
import { FileVolumeBackend } from '../drivers/volume/file.ts';
import type { LiveDisk } from '../drivers/volume/types.ts';
import { startJobsWorker } from './compute/test-support.ts';
import { registerThisBackend, type VolumeDeps, volumeJobs } from './volume.ts';

/*
 * For the volume jobs' integration tests: a volume worker in this process on the REAL
 * file backend (qemu-img files in a temporary folder) with its heartbeat, backend and a
 * volume type that selects only this worker's backend (other files may register theirs),
 * plus waiting for a volume's status and a call's HTTP status.
 *
 *   const w = await startVolumeTestWorker({
 *     url, host, admin, backendName: `file-${tag}`, typeName: `ci-${tag}`, dirPrefix: 'stratus-vol',
 *   });
 *   ... w.deps.backend.locate(id, 'qcow2').path ...
 *   await w.stop();
 */

/** A hypervisor with no running guest: online resize/copy are never asked of it. */
export const notLive: LiveDisk = {
  isRunning: async () => false,
  blockResize: async () => {
    throw new Error('not running');
  },
  blockCopy: async () => {
    throw new Error('not running');
  },
};

/** The HTTP status a core call fails with ('ok' when it succeeds); other errors rethrown. */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isStratusError(err)) return `${err.status}`;
    throw err;
  }
  return 'ok';
}

/** Waits until the volume is `status`; a volume gone to an error state fails at once. */
export async function untilVolume(
  ctx: AuthContext,
  id: string,
  status: string,
  timeoutMs = 120_000,
): Promise<VolumeView> {
  return waitFor(
    async () => {
      const v = await getVolume(ctx, id);
      if (v.status.startsWith('error') && !status.startsWith('error'))
        throw new Error(`volume went to ${v.status}: ${v.errorMessage}`);
      return v.status === status ? v : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `volume ${id} ${status}` },
  );
}

/** A small real qcow2 (64 MiB virtual, 0x77 in its first 64 KiB) at `path`, as an image cache holds one. */
export function tinyQcow2(path: string): string {
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path, '64M']);
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x77 0 64k', path]);
  return path;
}

export interface VolumeTestWorker {
  db: PrismaClient;
  deps: VolumeDeps;
  /** The temporary folder: volumes/ and backups/ below it; removed by stop(). */
  dir: string;
  /** The volume type selecting this worker's backend. */
  typeName: string;
  stop(): Promise<void>;
}

export async function startVolumeTestWorker(o: {
  url: string;
  host: string;
  admin: AuthContext;
  /** This worker's backend name (volume_backend_name of the type). */
  backendName: string;
  typeName: string;
  /** Prefix of the temporary folder's name. */
  dirPrefix: string;
  /** The worker's service roles (its heartbeat); default volume only. */
  roles?: string[];
  concurrency?: number;
  /** What differs from a worker with no hypervisor and no images (given the temporary folder). */
  deps?: (dir: string) => Partial<Omit<VolumeDeps, 'db' | 'host' | 'backendName'>>;
  /** Jobs run besides the volume jobs (given the deps as they are when a job runs). */
  jobs?: (deps: () => VolumeDeps) => JobDefinition[];
}): Promise<VolumeTestWorker> {
  const { url, host } = o;
  const db = getPrisma(url);
  const svc = { binary: 'stratus-worker', host, roles: o.roles ?? ['volume'] };
  await heartbeat(db, svc);
  // The worker's heartbeat, which the volume scheduler reads (a backend must be up).
  const beat = setInterval(() => void heartbeat(db, svc).catch(() => {}), 5000);
  const dir = mkdtempSync(join(tmpdir(), `${o.dirPrefix}-`));
  const deps: VolumeDeps = {
    db,
    host,
    backend: new FileVolumeBackend({ dir: join(dir, 'volumes') }),
    backendName: o.backendName,
    availabilityZone: 'nova',
    overSubscription: 20,
    live: notLive,
    compute: {
      attachVolume: async () => {
        throw new Error('no hypervisor in this test');
      },
      detachVolume: async () => {
        throw new Error('no hypervisor in this test');
      },
    },
    images: {
      ensureBaseImage: async () => {
        throw new Error('no images in this test');
      },
    },
    backups: new FilesystemBackupTarget(join(dir, 'backups')),
    backupChunkBytes: 1024 * 1024,
    ...o.deps?.(dir),
  };
  let runner: { stop(): Promise<void> } | undefined;
  const stop = async () => {
    clearInterval(beat);
    await runner?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await registerThisBackend(deps);
    const jobs = [...(o.jobs?.(() => deps) ?? []), ...volumeJobs(() => deps)];
    runner = await startJobsWorker(url, host, jobs, o.concurrency ?? 2);
    const type = await createVolumeType(o.admin, {
      name: o.typeName,
      extraSpecs: { volume_backend_name: o.backendName },
    });
    return { db, deps, dir, typeName: type.name, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
