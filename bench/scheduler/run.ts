// Scheduler benchmark: placements through selectDestinations (placement candidates →
// filters → weighers → atomic claim) against real PostgreSQL, then an over-commit audit.
//   node --experimental-wasm-modules --import tsx bench/scheduler/run.ts [--nodes 200] [--placements 1000] [--concurrency 8] [--subset 1] [--candidates 1000] [--cache-ms 0]
// Starts its own scratch embedded PostgreSQL and migrates it with the product's migrator,
// so it needs nothing running. Schedulers are concurrent async loops in this process
// sharing the product's Prisma pool (10 connections).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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
const PLACEMENTS = arg('placements', 1000);
const CONC = arg('concurrency', 8);
const SUBSET = arg('subset', 1);
const CANDIDATES = arg('candidates', 1000);
const CACHE_MS = process.argv.includes('--cache-ms') ? arg('cache-ms', 1) : 0;

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
  const core = await import('@stratus/core');
  core.setConfig(
    core.parseConfig({
      DATABASE_URL: pg.connectionString,
      STRATUS_STATE_DIR: mkdtempSync(join(tmpdir(), 'stratus-bench-')),
      STRATUS_LOG_LEVEL: 'silent',
    }),
  );

  // 200 compute nodes: 8 VCPU (ratio 1), 16 GiB, 200 GB each.
  const infos = new Map<string, import('@stratus/core').ComputeHostInfo>();
  const t0 = performance.now();
  for (let i = 0; i < NODES; i++) {
    const rp = await core.createResourceProvider('service', { name: `bench-node-${i}` });
    await core.setInventories('service', rp.uuid, {
      resourceProviderGeneration: rp.generation,
      inventories: { VCPU: { total: 8 }, MEMORY_MB: { total: 16384, reserved: 512 }, DISK_GB: { total: 200 } },
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
  const setupMs = performance.now() - t0;
  const source: import('@stratus/core').ComputeInfoSource = {
    hostsForProviders: async (ids) =>
      new Map(
        ids.flatMap((id) => {
          const h = infos.get(id);
          return h ? [[id, { ...h, lastHeartbeat: new Date() }] as const] : [];
        }),
      ),
  };
  const flavors = [
    { vcpus: 1, memoryMb: 1024, diskGb: 10 },
    { vcpus: 1, memoryMb: 2048, diskGb: 20 },
    { vcpus: 2, memoryMb: 2048, diskGb: 20 },
  ];

  // CPU accounting, less sensitive to other load than wall time: this process
  // (process.cpuUsage) and the whole PostgreSQL instance: the postmaster with the CPU of
  // its exited children (cutime/cstime: backends the pool closed) plus its live children.
  const { getPrisma } = await import('@stratus/db');
  const db = getPrisma(pg.connectionString);
  const clk = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const statOf = (pid: number | string) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    } catch {
      return [];
    }
  };
  const [{ pid: backend } = { pid: 0 }] = await db.$queryRaw<Array<{ pid: number }>>`SELECT pg_backend_pid() AS pid`;
  const postmaster = Number(statOf(backend)[1]);
  const postgresCpuMs = () => {
    const p = statOf(postmaster);
    let ticks = Number(p[11]) + Number(p[12]) + Number(p[13]) + Number(p[14]);
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const f = statOf(d);
      if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
    }
    return (ticks * 1000) / clk;
  };
  const pg0 = postgresCpuMs();
  const cpu0 = process.cpuUsage();
  let next = 0;
  let placed = 0;
  let noValidHost = 0;
  const latencies: number[] = [];
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (next < PLACEMENTS) {
        const i = next++;
        const f = flavors[i % flavors.length] ?? flavors[0];
        if (!f) throw new Error('no flavor');
        const t = performance.now();
        try {
          await core.selectDestinations({
            request: {
              projectId: 'bench',
              userId: 'bench',
              resources: { VCPU: f.vcpus, MEMORY_MB: f.memoryMb, DISK_GB: f.diskGb },
              flavor: f,
              image: { properties: { hw_architecture: 'x86_64' } },
            },
            consumerIds: [randomUUID()],
            source,
            settings: { hostSubsetSize: SUBSET, maxPlacementResults: CANDIDATES, candidateCacheMs: CACHE_MS },
          });
          placed++;
        } catch (e) {
          if (!core.isNoValidHost(e)) throw e;
          noValidHost++;
        }
        latencies.push(performance.now() - t);
      }
    }),
  );
  const wallS = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const pgMs = postgresCpuMs() - pg0;
  const nodeMs = (cpu.user + cpu.system) / 1000;

  // Audit: for every provider and class, allocations ≤ (total - reserved) * ratio.
  const over = await db.$queryRaw<Array<{ providerId: string; resourceClass: string; used: number; capacity: number }>>`
    SELECT i."providerId"::text AS "providerId", i."resourceClass", COALESCE(SUM(a.used), 0)::int AS used,
           floor((i.total - i.reserved) * i."allocationRatio")::int AS capacity
      FROM "PlacementInventory" i
      LEFT JOIN "PlacementAllocation" a ON a."providerId" = i."providerId" AND a."resourceClass" = i."resourceClass"
     GROUP BY i."providerId", i."resourceClass", i.total, i.reserved, i."allocationRatio"
    HAVING COALESCE(SUM(a.used), 0) > floor((i.total - i.reserved) * i."allocationRatio")`;
  // The per-class counters the claims check must equal the allocations they sum up.
  const drift = await db.$queryRaw<Array<{ n: number }>>`
    SELECT count(*)::int AS n FROM "PlacementInventory" i
     WHERE i.used <> COALESCE((SELECT SUM(a.used) FROM "PlacementAllocation" a
                                WHERE a."providerId" = i."providerId" AND a."resourceClass" = i."resourceClass"), 0)`;
  const consumers = await db.placementConsumer.count();
  const vcpu = await db.$queryRaw<
    Array<{ used: number }>
  >`SELECT COALESCE(SUM(used), 0)::int AS used FROM "PlacementAllocation" WHERE "resourceClass" = 'VCPU'`;
  latencies.sort((a, b) => a - b);
  const pct = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]?.toFixed(1);
  const out = {
    nodes: NODES,
    placements: PLACEMENTS,
    concurrency: CONC,
    hostSubsetSize: SUBSET,
    maxPlacementResults: CANDIDATES,
    candidateCacheMs: CACHE_MS,
    setupSeconds: +(setupMs / 1000).toFixed(2),
    wallSeconds: +wallS.toFixed(2),
    decisionsPerSecond: +(PLACEMENTS / wallS).toFixed(0),
    placed,
    noValidHost,
    latencyMs: { p50: pct(0.5), p95: pct(0.95), p99: pct(0.99) },
    cpuMsPerDecision: {
      scheduler: +(nodeMs / PLACEMENTS).toFixed(2),
      postgres: +(pgMs / PLACEMENTS).toFixed(2),
    },
    loadAverage: loadavg()[0]?.toFixed(1),
    consumersWithAllocations: consumers,
    vcpuAllocated: `${vcpu[0]?.used ?? 0} of ${NODES * 8}`,
    overCommittedProviders: over.length,
    countersNotEqualToAllocations: drift[0]?.n ?? -1,
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  if (over.length > 0 || consumers !== placed || drift[0]?.n !== 0) {
    process.stderr.write(
      `OVER-COMMIT or lost claims: ${JSON.stringify(over.slice(0, 5))} consumers=${consumers} placed=${placed}\n`,
    );
    process.exitCode = 1;
  }
  await core.stopRevocationListener().catch(() => undefined);
  await db.$disconnect();
} finally {
  await pg.stop();
}
