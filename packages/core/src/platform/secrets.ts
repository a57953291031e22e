import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from './config.ts';

/*
 * Secrets that must stay the same across restarts and across the processes of one
 * host. When the operator does not set one, a random value is created once under the
 * state directory (mode 0600) and read back from then on.
 */

function errCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
}

function persistedSecret(stateDir: string, name: string): string {
  const dir = join(stateDir, 'secrets');
  const file = join(dir, name);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    if (errCode(err) !== 'ENOENT') throw err;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const value = randomBytes(32).toString('base64url');
  try {
    // 'wx': when two processes start together, the first writer wins and both read it.
    writeFileSync(file, `${value}\n`, { flag: 'wx', mode: 0o600 });
    return value;
  } catch (err) {
    if (errCode(err) !== 'EEXIST') throw err;
    return readFileSync(file, 'utf8').trim();
  }
}

const cache = new Map<string, string>();

/** The key that signs and encrypts dashboard sessions: STRATUS_AUTH_SECRET, or a persisted random one. */
export function authSecret(config: Pick<Config, 'authSecret' | 'stateDir'>): string {
  if (config.authSecret) return config.authSecret;
  const key = `${config.stateDir}:auth`;
  let v = cache.get(key);
  if (!v) {
    v = persistedSecret(config.stateDir, 'auth-secret');
    cache.set(key, v);
  }
  return v;
}
