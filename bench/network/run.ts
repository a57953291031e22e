// Network IPAM throughput: ports created per second (each one a transaction that
// locks its subnet, picks the lowest free address, inserts the port, its address and
// its security group binding) under concurrent clients, in process against real PostgreSQL.
//   node --experimental-wasm-modules --import tsx bench/network/run.ts [--ports 2000] [--clients 8] [--subnets 1]
// Starts its own scratch PostgreSQL (embedded), migrates it, removes it at the end.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createNetwork, createPort, createSubnet, stopRevocationListener, updateNetworkQuota } from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import { closePrisma } from '@stratus/db';
import { startScratchPostgres } from '@stratus/db/testing';

const arg = (name: string, def: number, max: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`--${name} must be 1..${max}`);
  return v;
};
const N = arg('ports', 2000, 20000);
const CLIENTS = arg('clients', 8, 64);
const SUBNETS = arg('subnets', 1, 16);
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
  await setupIdentityTest(pg.connectionString);
  const admin = await adminContext();
  const { project, auth } = await projectWithMember(admin);
  const ctx = auth.context;
  await updateNetworkQuota(admin, project.id, { port: -1 });
  // One network per "subnet" so that clients can spread over independent locks.
  const nets: string[] = [];
  for (let i = 0; i < SUBNETS; i++) {
    const net = await createNetwork(ctx, { name: `bench-${i}` });
    await createSubnet(ctx, { network_id: net.id, cidr: `10.${100 + i}.0.0/16` });
    nets.push(net.id);
  }
  // Warm-up (connection pool, prepared statements).
  for (let i = 0; i < 20; i++) await createPort(ctx, { network_id: nets[0] ?? '' });

  let next = 0;
  const lat: number[] = [];
  const ips = new Set<string>();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (;;) {
        const i = next++;
        if (i >= N) return;
        const s = performance.now();
        const p = await createPort(ctx, { network_id: nets[(i + c) % nets.length] ?? '' });
        lat.push(performance.now() - s);
        for (const f of p.fixedIps) ips.add(`${f.subnetId}/${f.ip}`);
      }
    }),
  );
  const ms = performance.now() - t0;
  lat.sort((a, b) => a - b);
  const pct = (q: number) => (lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] ?? 0).toFixed(1);
  if (ips.size !== N) throw new Error(`duplicate addresses: ${N} ports, ${ips.size} distinct`);
  console.log(
    `ports: ${N} with ${CLIENTS} clients on ${SUBNETS} subnet(s): ${((N / ms) * 1000).toFixed(0)} ports/s, ` +
      `latency p50 ${pct(0.5)} ms, p95 ${pct(0.95)} ms, p99 ${pct(0.99)} ms; all ${ips.size} addresses distinct`,
  );
} finally {
  await stopRevocationListener().catch(() => {});
  await closePrisma();
  await pg.stop();
}
