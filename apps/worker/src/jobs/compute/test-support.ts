import {
  type AuthContext,
  createFlavor,
  heartbeat,
  type JobDefinition,
  registerImageBackend,
  toTask,
} from '@stratus/core';
import { getPrisma, type PrismaClient, startQueueWorker } from '@stratus/db';
import type { ComputeDriver } from '../../drivers/compute/types.ts';
import { type ComputeDeps, computeJobs } from '../compute.ts';
import { registerThisHost } from './host.ts';
import { FakeComputeDriver, fakeImageCache } from './fake-driver.ts';

/*
 * For compute tests and benchmarks: a fake image, a fake hypervisor host registered as
 * an up compute service, and an in-process queue worker running the real compute jobs
 * against a FakeComputeDriver. registerHostUp, startJobsWorker and keepAlive serve the
 * real-guest system tests too (../guest-test-support.ts).
 */
export const FAKE_IMAGE_ID = '00000000-0000-4000-8000-00000000f00d';

export function useFakeImage(): void {
  const image = {
    id: FAKE_IMAGE_ID,
    name: 'fake',
    status: 'active',
    minDiskGb: 0,
    minRamMb: 0,
    sizeBytes: 1024,
    virtualSizeBytes: 1024,
    diskFormat: 'qcow2',
  };
  registerImageBackend({
    find: async (_ctx, id) => (id === FAKE_IMAGE_ID ? image : undefined),
    open: async () => ({ image, bytes: '/dev/null' }),
  });
}

let n = 0;
export async function testFlavor(admin: AuthContext, o: { vcpus?: number; ramMb?: number; diskGb?: number } = {}) {
  n++;
  return createFlavor(admin, {
    name: `ci-${process.pid}-${Date.now().toString(36)}-${n}`,
    vcpus: o.vcpus ?? 1,
    ramMb: o.ramMb ?? 128,
    diskGb: o.diskGb ?? 1,
  });
}

export async function fakeHost(
  url: string,
  host: string,
  driver = new FakeComputeDriver({ vcpus: 256, memoryMb: 1024 * 1024, diskGbTotal: 100_000 }),
) {
  await registerHostUp(getPrisma(url), host, driver);
  return driver;
}

/** The roles a compute worker in these tests runs. */
export const WORKER_ROLES = ['compute', 'scheduler', 'conductor'];

/** As a starting worker does: its first heartbeat, then its compute node (real or fake driver). */
export async function registerHostUp(
  db: PrismaClient,
  host: string,
  driver: ComputeDriver,
  roles: string[] = WORKER_ROLES,
): Promise<void> {
  await heartbeat(db, { binary: 'stratus-worker', host, roles }, { starting: true });
  await registerThisHost(db, host, driver);
}

/** A queue worker in this process running `jobs` (host-bound ones for `host`); stop() it. */
export function startJobsWorker(url: string, host: string, jobs: JobDefinition[], concurrency = 4) {
  const tasks = (f: (j: JobDefinition) => boolean) =>
    Object.fromEntries(jobs.filter(f).map((j) => [j.name, toTask(j)]));
  return startQueueWorker({
    connectionString: url,
    host,
    concurrency,
    shared: tasks((j) => !j.hostBound),
    hostBound: tasks((j) => j.hostBound),
  });
}

export async function startComputeWorker(
  url: string,
  host: string,
  driver: FakeComputeDriver,
  concurrency = 4,
  extra: Pick<ComputeDeps, 'syncNetwork'> = {},
) {
  const db = getPrisma(url);
  const jobs: JobDefinition[] = computeJobs(() => ({ db, host, driver, images: fakeImageCache, ...extra }));
  return startJobsWorker(url, host, jobs, concurrency);
}

/** Heartbeats for fake hosts every few seconds, as their worker would (clearInterval it). */
export function keepAlive(url: string, hosts: string[], everyMs = 5_000, roles = WORKER_ROLES): NodeJS.Timeout {
  const db = getPrisma(url);
  return setInterval(() => {
    for (const host of hosts) {
      heartbeat(db, { binary: 'stratus-worker', host, roles }).catch(() => {});
    }
  }, everyMs);
}
