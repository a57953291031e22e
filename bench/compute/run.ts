// Compute control plane: time from the create call to ACTIVE with the guest boot
// excluded (an in-memory driver behind the real queue, jobs and PostgreSQL).
//   node --experimental-wasm-modules --import tsx bench/compute/run.ts [--servers 20] [--parallel 1]
// Starts its own scratch PostgreSQL (embedded), migrates it, runs one in-process worker.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServers, deleteServer, stopRevocationListener } from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import { closePrisma, getPrisma, listenEvents } from '@stratus/db';
import { startScratchPostgres } from '@stratus/db/testing';
import {
  FAKE_IMAGE_ID,
  fakeHost,
  startComputeWorker,
  testFlavor,
  useFakeImage,
} from '../../apps/worker/src/jobs/compute/test-support.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(v) || v < 1 || v > 500) throw new Error(`--${name} must be 1..500`);
  return v;
};
const N = arg('servers', 20);
const PAR = arg('parallel', 1);
const root = fileURLToPath(new URL('../../', import.meta.url));

const pg = await startScratchPostgres();
try {
  execFileSync(
    process.execPath,
    ['--no-warnings', '--experimental-wasm-modules', '--import', 'tsx', 'packages/db/src/cli/migrate.ts'],
    {
      cwd: root,
      env: { ...process.env, DATABASE_URL: pg.connectionString },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = pg.connectionString;
  await setupIdentityTest(url, {
    STRATUS_QUOTA_INSTANCES: '1000',
    STRATUS_QUOTA_CORES: '1000',
    STRATUS_QUOTA_RAM_MB: '10000000',
  });
  useFakeImage();
  const admin = await adminContext();
  const member = (await projectWithMember(admin)).auth.context;
  const flavor = await testFlavor(admin);
  const driver = await fakeHost(url, 'bench-host');
  const runner = await startComputeWorker(url, 'bench-host', driver);

  const active = new Map<string, number>();
  const waiters = new Map<string, () => void>();
  const listener = await listenEvents(url, (e) => {
    if (e.type === 'server.updated' && e.data.status === 'ACTIVE' && e.resourceId && !active.has(e.resourceId)) {
      active.set(e.resourceId, performance.now());
      waiters.get(e.resourceId)?.();
    }
  });

  const one = async (i: number) => {
    const t0 = performance.now();
    const { servers } = await createServers(member, {
      name: `bench-${i}`,
      imageRef: FAKE_IMAGE_ID,
      flavorRef: flavor.id,
    });
    const id = servers[0]?.id ?? '';
    const accepted = performance.now() - t0;
    await new Promise<void>((resolve) => {
      if (active.has(id)) resolve();
      else waiters.set(id, resolve);
    });
    return { id, accepted, total: (active.get(id) ?? 0) - t0 };
  };

  // Warm-up (JIT, connection pools, prepared statements), not counted.
  const warm = await one(-1);
  await deleteServer(member, warm.id);

  const results: Array<{ id: string; accepted: number; total: number }> = [];
  for (let i = 0; i < N; i += PAR) {
    results.push(...(await Promise.all(Array.from({ length: Math.min(PAR, N - i) }, (_, k) => one(i + k)))));
  }
  const pct = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
  };
  const totals = results.map((r) => r.total);
  const accepts = results.map((r) => r.accepted);
  const f = (x: number) => `${Math.round(x)} ms`;
  console.log(`servers ${N}, parallel ${PAR}`);
  console.log(`create call (API, quota, one transaction): p50 ${f(pct(accepts, 50))}, p95 ${f(pct(accepts, 95))}`);
  console.log(
    `create call → ACTIVE (schedule + build jobs, fake driver): p50 ${f(pct(totals, 50))}, p95 ${f(pct(totals, 95))}, max ${f(Math.max(...totals))}`,
  );

  for (const r of results) await deleteServer(member, r.id);
  await listener.close();
  await runner.stop();
  stopRevocationListener();
  await closePrisma();
  void getPrisma;
} finally {
  await pg.stop();
}
