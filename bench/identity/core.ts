// In-process cost of the identity hot paths (no HTTP), each beside a baseline from the same run:
//   token issue (authenticate, password) vs a bare argon2id verify and a `SELECT 1` round trip;
//   validateToken on a warm cache.
//   STRATUS_STATE_DIR=… STRATUS_PG_PORT=… [STRATUS_ADMIN_PASSWORD=…] node --import tsx bench/identity/core.ts
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { verify } from '@node-rs/argon2';
import { authenticate, loadConfig, runtime, stopRevocationListener, validateToken } from '@stratus/core';
import { closePrisma } from '@stratus/db';
import { hashPassword } from '../../packages/core/src/identity/password.ts';

const cfg = loadConfig();
const password =
  cfg.adminPassword ??
  /^admin password: (\S+)$/m.exec(readFileSync(join(cfg.stateDir, 'credentials.txt'), 'utf8'))?.[1] ??
  '';
const pct = (xs: number[], p: number) =>
  xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
async function timeIt(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}
const login = (noCatalog: boolean) =>
  authenticate({ method: 'password', userName: 'admin', password, scope: { projectName: 'admin' }, noCatalog });
const stored = await hashPassword('bench-password-baseline');
const { tokenId } = await login(false);
const N_ISSUE = 60;
const rounds: Record<string, number[]> = { issue: [], issueNoCatalog: [], verify: [], select1: [] };
// Interleaved, so load changes on the shared machine hit every series alike.
for (let i = 0; i < N_ISSUE; i++) {
  rounds.issue?.push(...(await timeIt(1, () => login(false))));
  rounds.issueNoCatalog?.push(...(await timeIt(1, () => login(true))));
  rounds.verify?.push(...(await timeIt(1, () => verify(stored, 'bench-password-baseline'))));
  rounds.select1?.push(...(await timeIt(1, () => runtime().db.$queryRaw`SELECT 1`)));
}
const p50 = (k: string) => pct(rounds[k] ?? [], 50);
console.log(
  `authenticate (password, project scope, catalog): p50 ${p50('issue').toFixed(2)} ms; ?nocatalog ${p50('issueNoCatalog').toFixed(2)} ms; ` +
    `bare argon2id verify p50 ${p50('verify').toFixed(2)} ms; SELECT 1 p50 ${p50('select1').toFixed(2)} ms; ` +
    `issue − verify = ${(p50('issue') - p50('verify')).toFixed(2)} ms (${N_ISSUE} interleaved rounds)`,
);
const N = 200_000;
for (let i = 0; i < 1000; i++) await validateToken(tokenId);
const t0 = performance.now();
for (let i = 0; i < N; i++) await validateToken(tokenId);
const ms = performance.now() - t0;
console.log(
  `validateToken (warm cache, one core): ${N} calls, ${Math.round((N / ms) * 1000)} per second, ${((ms * 1000) / N).toFixed(2)} µs each`,
);
await stopRevocationListener();
await closePrisma();
