// In-process cost of the validation hot path (no HTTP): validateToken on a warm cache.
//   STRATUS_STATE_DIR=… STRATUS_PG_PORT=… STRATUS_ADMIN_PASSWORD=… node --import tsx bench/identity/core.ts
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { authenticate, loadConfig, stopRevocationListener, validateToken } from '@stratus/core';
import { closePrisma } from '@stratus/db';

const cfg = loadConfig();
const password =
  cfg.adminPassword ??
  /^admin password: (\S+)$/m.exec(readFileSync(join(cfg.stateDir, 'credentials.txt'), 'utf8'))?.[1] ??
  '';
const { tokenId } = await authenticate({
  method: 'password',
  userName: 'admin',
  password,
  scope: { projectName: 'admin' },
});
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
