// Block storage: seconds to create a volume from a 1 GiB image, through the real core,
// queue, PostgreSQL, image store, host image cache and file backend (qemu-img).
//   node --experimental-wasm-modules --import tsx bench/volume/run.ts [--runs 3] [--size-mb 1024]
// Baseline measured in the same run: `qemu-img convert -O qcow2` of the same image file
// (the irreducible data copy). "cold" includes filling the host's image cache from the
// image store; "warm" creates reuse the cached base. Starts its own scratch PostgreSQL.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createVolume,
  deleteVolume,
  getVolume,
  heartbeat,
  type JobDefinition,
  registerTestImage,
  stopRevocationListener,
  toTask,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import { closePrisma, getPrisma, startQueueWorker } from '@stratus/db';
import { startScratchPostgres } from '@stratus/db/testing';
import { ImageCache } from '../../apps/worker/src/drivers/compute/image-cache.ts';
import { FilesystemBackupTarget } from '../../apps/worker/src/drivers/volume/backup.ts';
import { FileVolumeBackend } from '../../apps/worker/src/drivers/volume/file.ts';
import { FakeComputeDriver } from '../../apps/worker/src/jobs/compute/fake-driver.ts';
import { registerThisBackend, type VolumeDeps, volumeJobs } from '../../apps/worker/src/jobs/volume.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(v) || v < 1 || v > 65536) throw new Error(`--${name} must be 1..65536`);
  return v;
};
const RUNS = arg('runs', 3);
const SIZE_MB = arg('size-mb', 1024);
const root = fileURLToPath(new URL('../../', import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const secs = (ms: number) => Math.round(ms / 10) / 100;

const work = mkdtempSync(join(tmpdir(), 'stratus-bench-vol-'));
const pg = await startScratchPostgres();
try {
  execFileSync(
    process.execPath,
    ['--no-warnings', '--experimental-wasm-modules', '--import', 'tsx', 'packages/db/src/cli/migrate.ts'],
    { cwd: root, env: { ...process.env, DATABASE_URL: pg.connectionString }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = pg.connectionString;
  const { stateDir } = await setupIdentityTest(url, { STRATUS_HOST: 'bench-vol' });
  const admin = await adminContext();
  const member = (await projectWithMember(admin)).auth.context;

  // A raw image of SIZE_MB with every byte written (no sparse shortcut for anyone).
  const raw = join(work, 'image.raw');
  execFileSync('qemu-img', ['create', '-q', '-f', 'raw', raw, `${SIZE_MB}M`]);
  execFileSync('qemu-io', ['-f', 'raw', '-c', `write -P 0x5a 0 ${SIZE_MB}M`, raw], { stdio: 'ignore' });
  const image = await registerTestImage({ path: raw, name: 'bench-1g' });

  const baseline: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = join(work, `baseline-${i}.qcow2`);
    const t = performance.now();
    execFileSync('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', raw, out]);
    baseline.push(performance.now() - t);
    rmSync(out);
  }

  const db = getPrisma(url);
  const host = 'bench-vol';
  const svc = { binary: 'stratus-worker', host, roles: ['volume'] };
  await heartbeat(db, svc, { starting: true });
  const beat = setInterval(() => void heartbeat(db, svc).catch(() => {}), 5000);
  const deps: VolumeDeps = {
    db,
    host,
    backend: new FileVolumeBackend({ dir: join(work, 'volumes') }),
    backendName: 'file',
    availabilityZone: 'nova',
    overSubscription: 20,
    live: { isRunning: async () => false, blockResize: async () => {}, blockCopy: async () => {} },
    compute: new FakeComputeDriver(),
    images: new ImageCache({ stateDir }),
    backups: new FilesystemBackupTarget(join(work, 'backups')),
    backupChunkBytes: 8 * 1024 * 1024,
  };
  await registerThisBackend(deps);
  const jobs: JobDefinition[] = volumeJobs(() => deps);
  const tasks = Object.fromEntries(jobs.map((j) => [j.name, toTask(j)]));
  const runner = await startQueueWorker({ connectionString: url, host, concurrency: 2, shared: {}, hostBound: tasks });

  const create = async () => {
    const t = performance.now();
    const v = await createVolume(member, { imageRef: image.id, size: Math.ceil(SIZE_MB / 1024) });
    for (;;) {
      const s = await getVolume(member, v.id);
      if (s.status === 'available') break;
      if (s.status === 'error') throw new Error(`volume error: ${s.errorMessage}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ms = performance.now() - t;
    await deleteVolume(member, v.id);
    return ms;
  };
  const cold = await create();
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) warm.push(await create());

  const b = median(baseline);
  console.log(`volume from a ${SIZE_MB} MiB image (${RUNS} runs, medians):`);
  console.log(`  baseline qemu-img convert raw→qcow2: ${secs(b)} s`);
  console.log(`  create → available, cold image cache: ${secs(cold)} s (${(cold / b).toFixed(2)} × baseline)`);
  console.log(
    `  create → available, warm image cache: ${secs(median(warm))} s (${(median(warm) / b).toFixed(2)} × baseline)`,
  );
  console.log(
    JSON.stringify({
      sizeMb: SIZE_MB,
      baselineMs: Math.round(b),
      coldMs: Math.round(cold),
      warmMs: warm.map(Math.round),
    }),
  );
  clearInterval(beat);
  await runner.stop();
  await stopRevocationListener();
} finally {
  await closePrisma();
  await pg.stop();
  rmSync(work, { recursive: true, force: true });
}
