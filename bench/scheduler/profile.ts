// Scheduler profile: where a decision's milliseconds go (candidates query, filters +
// weighers, claim), sequentially and with concurrent schedulers, against real PostgreSQL.
//   node --experimental-wasm-modules --no-warnings --import tsx bench/scheduler/profile.ts [--nodes 200] [--placements 400] [--concurrency 8] [--candidates 1000]
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startScratchPostgres } from '@stratus/db/testing';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(v) || v < 1 || v > 100_000) throw new Error(`--${name} must be 1..100000`);
  return v;
};
const NODES = arg('nodes', 200);
const PLACEMENTS = arg('placements', 400);
const CONC = arg('concurrency', 8);
const CANDIDATES = arg('candidates', 1000);

const root = fileURLToPath(new URL('../../', import.meta.url));
const pg = await startScratchPostgres();
try {
  execFileSync(
    process.execPath,
    ['--no-warnings', '--experimental-wasm-modules', '--import', 'tsx', 'packages/db/src/cli/migrate.ts'],
    { cwd: root, env: { ...process.env, DATABASE_URL: pg.connectionString }, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const core = await import('@stratus/core');
  core.setConfig(
    core.parseConfig({
      DATABASE_URL: pg.connectionString,
      STRATUS_STATE_DIR: mkdtempSync(join(tmpdir(), 'stratus-bench-')),
      STRATUS_LOG_LEVEL: 'silent',
    }),
  );
  const infos = new Map<string, import('@stratus/core').ComputeHostInfo>();
  for (let i = 0; i < NODES; i++) {
    const rp = await core.createResourceProvider('service', { name: `bench-node-${i}` });
    await core.setInventories('service', rp.uuid, {
      resourceProviderGeneration: rp.generation,
      inventories: { VCPU: { total: 64 }, MEMORY_MB: { total: 131072, reserved: 512 }, DISK_GB: { total: 2000 } },
    });
    infos.set(rp.uuid, {
      host: `bench-node-${i}`,
      serviceDisabled: false,
      lastHeartbeat: new Date(),
      hypervisorType: 'qemu',
      cpuArch: 'x86_64',
      aggregates: [],
    });
  }
  const settings = core.schedulerSettings(core.loadConfig(), { hostSubsetSize: 10, maxPlacementResults: CANDIDATES });
  const resources = { VCPU: 1, MEMORY_MB: 1024, DISK_GB: 10 };
  const spec = {
    projectId: 'bench',
    userId: 'bench',
    resources,
    flavor: { vcpus: 1, memoryMb: 1024, diskGb: 10 },
    image: { properties: { hw_architecture: 'x86_64' } },
  };
  const { getPrisma } = await import('@stratus/db');
  const db = getPrisma(pg.connectionString);
  const t = { select1: [] as number[], candidates: [] as number[], rank: [] as number[], claim: [] as number[] };
  const one = async () => {
    let s = performance.now();
    await db.$queryRaw`SELECT 1`;
    t.select1.push(performance.now() - s);
    s = performance.now();
    const c = await core.getAllocationCandidates('service', {
      resources,
      limit: settings.maxPlacementResults,
      randomize: true,
    });
    t.candidates.push(performance.now() - s);
    s = performance.now();
    const hosts = core.buildHostStates(c, infos, settings);
    const { ranked } = core.rankHosts(hosts, spec, settings);
    t.rank.push(performance.now() - s);
    const h = ranked[0];
    if (!h) throw new Error('no host');
    s = performance.now();
    await core.claimAllocations('service', {
      consumerId: randomUUID(),
      projectId: 'bench',
      userId: 'bench',
      allocations: [{ providerId: h.providerId, resources }],
    });
    t.claim.push(performance.now() - s);
  };
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]?.toFixed(2);
  const report = (label: string) => {
    process.stdout.write(
      `${label}: select1 ${med(t.select1)} ms, candidates ${med(t.candidates)} ms, rank ${med(t.rank)} ms, claim ${med(t.claim)} ms (medians of ${t.claim.length})\n`,
    );
    for (const k of Object.keys(t) as Array<keyof typeof t>) t[k] = [];
  };
  for (let i = 0; i < 20; i++) await one(); // warm-up
  for (const k of Object.keys(t) as Array<keyof typeof t>) t[k] = [];
  for (let i = 0; i < PLACEMENTS / 4; i++) await one();
  report('sequential');
  let n = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (n++ < PLACEMENTS) await one();
    }),
  );
  const wall = (performance.now() - start) / 1000;
  report(`concurrency ${CONC} (${(PLACEMENTS / wall).toFixed(0)} decisions/s)`);
  await core.stopRevocationListener().catch(() => undefined);
  await db.$disconnect();
} finally {
  await pg.stop();
}
