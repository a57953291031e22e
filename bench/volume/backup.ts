// Volume backups: MB/s of a full backup of a 1 GiB volume (every byte written) to the object
// store against the filesystem target, measured in the same run, through the real core,
// queue, PostgreSQL, file backend (qemu-img) and, for the object store, a real replicated
// object store (3 object servers, 3 replicas, startTestObjectCluster) behind the Swift API's
// core functions. Also an incremental backup after 16 MiB changed, and a restore to a new volume.
//   node --experimental-wasm-modules --import tsx bench/volume/backup.ts [--runs 3] [--size-mb 1024]
// MB/s = volume size / (API create → backup available). Both targets include the same
// qemu-img convert of the volume to a raw scratch file (measured alone as "read" below).
// Starts its own scratch PostgreSQL; everything it makes is under one temp dir, removed at the end.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AuthContext,
  backupObjectCaller,
  createBackup,
  createVolume,
  deleteBackup,
  deleteVolume,
  getBackup,
  getVolume,
  heartbeat,
  isStratusError,
  type JobDefinition,
  loadConfig,
  restoreBackup,
  setConfig,
  setObjectBackend,
  stopRevocationListener,
  toTask,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import { startTestObjectCluster } from '@stratus/core/objectstore/test-support';
import { closePrisma, getPrisma, startQueueWorker } from '@stratus/db';
import { startScratchPostgres } from '@stratus/db/testing';
import { FilesystemBackupTarget } from '../../apps/worker/src/drivers/volume/backup.ts';
import { ObjectStoreBackupTarget } from '../../apps/worker/src/drivers/volume/backup-object.ts';
import { FileVolumeBackend } from '../../apps/worker/src/drivers/volume/file.ts';
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
const mbps = (ms: number) => Math.round((SIZE_MB / (ms / 1000)) * 10) / 10;
const secs = (ms: number) => Math.round(ms / 10) / 100;

const work = mkdtempSync(join(tmpdir(), 'stratus-bench-backup-'));
const pg = await startScratchPostgres();
const cluster = await startTestObjectCluster();
try {
  execFileSync(
    process.execPath,
    ['--no-warnings', '--experimental-wasm-modules', '--import', 'tsx', 'packages/db/src/cli/migrate.ts'],
    { cwd: root, env: { ...process.env, DATABASE_URL: pg.connectionString }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = pg.connectionString;
  const host = 'bench-backup';
  await setupIdentityTest(url, { STRATUS_HOST: host, STRATUS_LOG_LEVEL: 'silent' });
  setObjectBackend(cluster.backend);
  const admin = await adminContext();
  const member: AuthContext = (await projectWithMember(admin)).auth.context;
  const db = getPrisma(url);
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
    compute: { attachVolume: async () => {}, detachVolume: async () => {} },
    images: {
      ensureBaseImage: async () => {
        throw new Error('no images in this benchmark');
      },
    },
    backups: new FilesystemBackupTarget(join(work, 'backups')),
    objectBackups: (b) => new ObjectStoreBackupTarget({ caller: backupObjectCaller(b), projectId: b.projectId }),
    backupChunkBytes: loadConfig().backupChunkMb * 1024 * 1024,
  };
  await registerThisBackend(deps);
  const jobs: JobDefinition[] = volumeJobs(() => deps);
  const tasks = Object.fromEntries(jobs.map((j) => [j.name, toTask(j)]));
  const runner = await startQueueWorker({ connectionString: url, host, concurrency: 2, shared: {}, hostBound: tasks });

  const poll = async <T>(f: () => Promise<T | undefined>): Promise<T> => {
    for (;;) {
      const v = await f();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const volumeReady = (id: string) =>
    poll(async () => {
      const s = await getVolume(member, id);
      if (s.status.startsWith('error')) throw new Error(`volume ${s.status}: ${s.errorMessage}`);
      return s.status === 'available' ? s : undefined;
    });
  const backupReady = (id: string) =>
    poll(async () => {
      const b = await getBackup(member, id);
      if (b.status === 'error') throw new Error(`backup error: ${b.failReason}`);
      return b.status === 'available' ? b : undefined;
    });
  const gone = (id: string) =>
    poll(async () => {
      try {
        await getBackup(member, id);
        return undefined;
      } catch (err) {
        if (isStratusError(err) && err.code === 'NotFound') return true;
        throw err;
      }
    });

  const gb = Math.ceil(SIZE_MB / 1024);
  const vol = await createVolume(member, { size: gb, name: 'bench-src' });
  await volumeReady(vol.id);
  const path = deps.backend.locate(vol.id, 'qcow2').path;
  execFileSync('qemu-io', ['-f', 'qcow2', '-c', `write -P 0x5a 0 ${SIZE_MB}M`, path], { stdio: 'ignore' });

  // The part both targets share: the volume read into a raw scratch file.
  const read: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const out = join(work, 'read.raw');
    const t = performance.now();
    execFileSync('qemu-img', ['convert', '-q', '-U', '-f', 'qcow2', '-O', 'raw', path, out]);
    read.push(performance.now() - t);
    rmSync(out);
  }

  type Fig = { full: number[]; inc: number[]; restore: number[] };
  const figs: Record<'object' | 'filesystem', Fig> = {
    object: { full: [], inc: [], restore: [] },
    filesystem: { full: [], inc: [], restore: [] },
  };
  for (let i = 0; i < RUNS; i++) {
    // Alternate the order so that neither target always runs on a warmer page cache.
    const order: Array<'object' | 'filesystem'> = i % 2 === 0 ? ['object', 'filesystem'] : ['filesystem', 'object'];
    for (const target of order) {
      setConfig({ ...loadConfig(), backupTarget: target });
      let t = performance.now();
      const full = await createBackup(member, { volumeId: vol.id });
      const fb = await backupReady(full.id);
      figs[target].full.push(performance.now() - t);
      if (fb.storedBytes !== SIZE_MB * 1024 * 1024) throw new Error(`stored ${fb.storedBytes} bytes`);
      await volumeReady(vol.id);
      execFileSync('qemu-io', ['-f', 'qcow2', '-c', `write -P ${0x10 + i} 256M 16M`, path], { stdio: 'ignore' });
      t = performance.now();
      const inc = await createBackup(member, { volumeId: vol.id, incremental: true });
      await backupReady(inc.id);
      figs[target].inc.push(performance.now() - t);
      await volumeReady(vol.id);
      t = performance.now();
      const r = await restoreBackup(member, inc.id, { name: 'bench-restore' });
      await volumeReady(r.volumeId);
      figs[target].restore.push(performance.now() - t);
      await deleteVolume(member, r.volumeId);
      await deleteBackup(member, inc.id);
      await gone(inc.id);
      await deleteBackup(member, full.id);
      await gone(full.id);
    }
  }

  const o = figs.object;
  const f = figs.filesystem;
  console.log(`backups of a ${SIZE_MB} MiB volume, every byte written (${RUNS} runs, medians, 8 MiB chunks):`);
  console.log(`  read alone (qemu-img convert qcow2→raw, part of every backup): ${secs(median(read))} s`);
  const line = (what: string, a: number[], b: number[]) =>
    console.log(
      `  ${what}: object store ${secs(median(a))} s (${mbps(median(a))} MB/s), filesystem ${secs(median(b))} s (${mbps(median(b))} MB/s), object/filesystem time ${(median(a) / median(b)).toFixed(2)} ×`,
    );
  line('full backup, create → available', o.full, f.full);
  line('incremental (16 MiB changed)', o.inc, f.inc);
  line('restore of the incremental to a new volume', o.restore, f.restore);
  console.log(
    JSON.stringify({
      sizeMb: SIZE_MB,
      readMs: read.map(Math.round),
      object: { full: o.full.map(Math.round), inc: o.inc.map(Math.round), restore: o.restore.map(Math.round) },
      filesystem: { full: f.full.map(Math.round), inc: f.inc.map(Math.round), restore: f.restore.map(Math.round) },
    }),
  );
  await deleteVolume(member, vol.id);
  clearInterval(beat);
  await runner.stop();
  await stopRevocationListener();
} finally {
  setObjectBackend(undefined);
  await cluster.close();
  await closePrisma();
  await pg.stop();
  rmSync(work, { recursive: true, force: true });
}
