import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/*
 * Token key repository with Fernet's rotation semantics: file `0` is the staged key
 * (already accepted, so every node knows it before it becomes primary), the highest
 * number is the primary (encrypts new tokens), the ones between are old keys that
 * still decrypt until rotated out. Files are 0600 in a 0700 directory.
 */
export interface KeyRepository {
  dir: string;
  primary: { index: number; kid: string; key: Buffer };
  /** Every accepted key by its 4-byte id (hex); tokens name the key that made them. */
  byKid: Map<string, Buffer>;
  indices: number[];
}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest().subarray(0, 4).toString('hex');
}

function writeKey(dir: string, index: number): void {
  const tmp = join(dir, `.tmp-${index}-${process.pid}`);
  writeFileSync(tmp, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  renameSync(tmp, join(dir, String(index)));
}

function listIndices(dir: string): number[] {
  return readdirSync(dir)
    .filter((f) => /^\d+$/.test(f))
    .map(Number)
    .sort((a, b) => a - b);
}

/** Creates the repository (staged 0 + primary 1) when missing. */
export function ensureKeyRepository(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const idx = listIndices(dir);
  if (!idx.includes(0)) writeKey(dir, 0);
  if (!idx.some((i) => i > 0)) writeKey(dir, 1);
}

export function loadKeyRepository(dir: string, opts: { create?: boolean } = {}): KeyRepository {
  if (opts.create !== false) ensureKeyRepository(dir);
  const indices = listIndices(dir);
  const byKid = new Map<string, Buffer>();
  let primary: KeyRepository['primary'] | undefined;
  for (const i of indices) {
    const key = Buffer.from(readFileSync(join(dir, String(i)), 'utf8').trim(), 'base64');
    if (key.length !== 32) throw new Error(`token key ${join(dir, String(i))} is not 32 bytes`);
    const kid = keyId(key);
    byKid.set(kid, key);
    if (i > 0 && (!primary || i > primary.index)) primary = { index: i, kid, key };
  }
  if (!primary) throw new Error(`token key repository ${dir} has no primary key`);
  return { dir, primary, byKid, indices };
}

/**
 * Rotates: the staged key becomes primary, a new staged key is created, and the oldest
 * keys beyond `maxActiveKeys` are removed (tokens they made stop validating).
 */
export function rotateKeys(opts: { dir: string; maxActiveKeys: number }): KeyRepository {
  const { dir } = opts;
  ensureKeyRepository(dir);
  const idx = listIndices(dir);
  const next = Math.max(...idx) + 1;
  renameSync(join(dir, '0'), join(dir, String(next)));
  writeKey(dir, 0);
  const after = listIndices(dir);
  const removable = after.filter((i) => i > 0 && i !== next);
  while (removable.length + 2 > opts.maxActiveKeys) {
    const oldest = removable.shift();
    if (oldest === undefined) break;
    unlinkSync(join(dir, String(oldest)));
  }
  return loadKeyRepository(dir);
}

/** Directory change stamp, to notice rotations done by another process. */
export function repoStamp(dir: string): number {
  try {
    return statSync(dir).mtimeMs;
  } catch {
    return 0;
  }
}
