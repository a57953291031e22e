import { randomUUID } from 'node:crypto';
import { appendFile, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { z } from 'zod';
import { SUFFIX_RE } from '../hash.ts';

/*
 * Per-partition cache of suffix hashes (Swift's hashes.pkl + hashes.invalid), so that a
 * replication pass reads one small file per partition instead of every hash directory when
 * nothing changed:
 *   <device>/objects/<partition>/hashes.json      { suffix → md5 of its listing }, the byte
 *                                                  offset of hashes.invalid it includes, and
 *                                                  when it was last computed in full
 *   <device>/objects/<partition>/hashes.invalid   suffixes changed since, one per line
 * Every change to a hash directory made through diskfile.ts (PUT, POST, DELETE, a file pushed
 * by a replicator, a handoff copy removed, a quarantine) is made first and then its suffix
 * appended to hashes.invalid (one small O_APPEND write, so lines never interleave). Reading
 * the hashes takes the lines past the cached offset, recomputes only those suffixes and
 * writes hashes.json atomically with the new offset. No lock is needed between the object
 * server and the replicator: the offset is read before any suffix is listed, so a change
 * whose line lies before it was made before the listing (and is seen), and a later one lies
 * past the offset (and is taken next time); two writers of hashes.json only ever leave an
 * offset that lets some lines be taken twice, which is harmless.
 * hashes.invalid is rotated (renamed away) once it passes ROTATE_BYTES, followed by a full
 * recomputation, which covers any line written to the old file during the rotation: such a
 * line's change was made before the rename, hence before the full listing.
 * Changes made behind the object server's back (a file deleted by hand) are not seen until
 * the suffix is invalidated: by a read that finds this replica missing an object the others
 * hold (the proxy asks for it, see replicated.ts), or by the full recomputation when the
 * cache is older than its maximum age.
 */

export const HASHES_FILE = 'hashes.json';
export const INVALID_FILE = 'hashes.invalid';
const ROTATE_BYTES = 64 * 1024;
/** Tombstones older than this are removed when their suffix is hashed (Swift's reclaim_age). */
export const RECLAIM_AGE_SECONDS = 7 * 24 * 3600;
/** Default maximum age of a cache before a full listing (catches changes made by hand). */
export const DEFAULT_HASH_CACHE_MAX_AGE_MS = 3600_000;

const Cache = z.object({
  version: z.literal(1),
  /**
   * Which hashes.invalid `offset` refers to: its inode and birth time (an inode number can be
   * reused by the next log after a rotation; 0 = there was no log).
   */
  invalidIno: z.number(),
  invalidBirth: z.number(),
  offset: z.number().int().min(0),
  /** When every suffix was last listed (ms since the epoch). */
  fullAt: z.number(),
  hashes: z.record(z.string(), z.string()),
});
type Cache = z.infer<typeof Cache>;

export interface HashCacheOptions {
  /** A cache older than this is recomputed in full (0: always recompute, i.e. no cache). */
  maxAgeMs: number;
}

export interface HashCacheStats {
  /** Partitions answered from the cache (possibly with some suffixes recomputed). */
  hits: number;
  /** Partitions listed in full. */
  full: number;
  /** Suffixes recomputed because they were invalidated. */
  suffixesRecomputed: number;
}

function errCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
}

/** Marks one suffix of a partition as changed (after the change is on disk). */
export async function invalidateSuffix(devPath: string, partition: number, suffix: string): Promise<void> {
  await invalidateSuffixIn(join(devPath, 'objects', String(partition)), suffix);
}

/** Marks the suffix of a hash directory (<partition dir>/<suffix>/<hash>) as changed. */
export async function invalidateHashDir(hashDirPath: string): Promise<void> {
  const suffixDir = dirname(hashDirPath);
  await invalidateSuffixIn(dirname(suffixDir), basename(suffixDir));
}

async function invalidateSuffixIn(partitionDir: string, suffix: string): Promise<void> {
  if (!SUFFIX_RE.test(suffix)) return;
  try {
    await appendFile(join(partitionDir, INVALID_FILE), `${suffix}\n`);
  } catch (err) {
    // The partition went away (handoff removed, quarantine of its last object): nothing to mark.
    if (errCode(err) !== 'ENOENT') throw err;
  }
}

async function readCache(partitionDir: string): Promise<Cache | undefined> {
  try {
    const parsed = Cache.safeParse(JSON.parse(await readFile(join(partitionDir, HASHES_FILE), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // missing or torn: recompute
  }
}

async function writeCache(partitionDir: string, cache: Cache): Promise<void> {
  const tmp = join(partitionDir, `.${HASHES_FILE}.${randomUUID()}`);
  try {
    const fh = await open(tmp, 'wx', 0o640);
    try {
      await fh.writeFile(JSON.stringify(cache));
    } finally {
      await fh.close();
    }
    // No fsync: a cache lost in a crash is recomputed; a torn one fails to parse.
    await rename(tmp, join(partitionDir, HASHES_FILE));
  } catch (err) {
    await unlink(tmp).catch(() => {});
    // The partition was removed meanwhile (handoff moved home): there is nothing to cache.
    if (errCode(err) !== 'ENOENT') throw err;
  }
}

/** The invalid-suffix log from `offset` on: its inode, end offset and the suffixes in it. */
async function readInvalid(
  partitionDir: string,
  from: { ino: number; birth: number; offset: number } | undefined,
): Promise<{ ino: number; birth: number; end: number; suffixes: Set<string>; size: number }> {
  const file = join(partitionDir, INVALID_FILE);
  const none = { ino: 0, birth: 0, end: 0, suffixes: new Set<string>(), size: 0 };
  // The common case, nothing logged since: one stat, no open.
  const st = await stat(file).catch((err: unknown) => {
    if (errCode(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return none;
  const same = (ino: number, birth: number) => from !== undefined && from.ino === ino && from.birth === birth;
  if (same(st.ino, st.birthtimeMs) && from?.offset === st.size)
    return { ino: st.ino, birth: st.birthtimeMs, end: st.size, suffixes: new Set(), size: st.size };
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return none;
    throw err;
  }
  try {
    const { ino, size, birthtimeMs: birth } = await fh.stat();
    const start = from && same(ino, birth) && from.offset <= size ? from.offset : 0;
    const buf = Buffer.alloc(size - start);
    const { bytesRead } = await fh.read(buf, 0, buf.length, start);
    const text = buf.subarray(0, bytesRead).toString('latin1');
    // Only whole lines: a line being appended right now is taken next time.
    const whole = text.lastIndexOf('\n') + 1;
    const suffixes = new Set(
      text
        .slice(0, whole)
        .split('\n')
        .filter((s) => SUFFIX_RE.test(s)),
    );
    return { ino, birth, end: start + whole, suffixes, size };
  } finally {
    await fh.close();
  }
}

/**
 * The suffix hashes of one partition, from the cache where it is valid. `computeAll` lists
 * every suffix (diskfile's suffixHashes); `computeOne` one suffix (undefined when empty).
 */
export async function cachedSuffixHashes(
  devPath: string,
  partition: number,
  opts: HashCacheOptions,
  compute: {
    all(): Promise<Record<string, string>>;
    one(suffix: string): Promise<string | undefined>;
  },
  stats?: HashCacheStats,
): Promise<Record<string, string>> {
  const pdir = join(devPath, 'objects', String(partition));
  if (opts.maxAgeMs <= 0) {
    if (stats) stats.full++;
    return compute.all();
  }
  // (A partition that does not exist has no cache: computeAll finds nothing, writeCache skips.)
  const cache = await readCache(pdir);
  let invalid = await readInvalid(
    pdir,
    cache ? { ino: cache.invalidIno, birth: cache.invalidBirth, offset: cache.offset } : undefined,
  );
  const now = Date.now();
  // A log replaced under the cache (rotated by another process, whose full listing may not be
  // written yet) is no base for a partial update: list in full.
  // (A cache taken while there was no log at all reads a new log from its start; a missing log
  // under a cache that had one counts as replaced.)
  const replaced =
    cache !== undefined &&
    cache.invalidIno !== 0 &&
    (invalid.ino !== cache.invalidIno || invalid.birth !== cache.invalidBirth);
  if (!cache || replaced || now - cache.fullAt > opts.maxAgeMs || invalid.size > ROTATE_BYTES) {
    if (invalid.size > ROTATE_BYTES) {
      await rename(join(pdir, INVALID_FILE), join(pdir, `${INVALID_FILE}.old`)).catch(() => {});
      await unlink(join(pdir, `${INVALID_FILE}.old`)).catch(() => {});
      invalid = await readInvalid(pdir, undefined);
    }
    // The log position is taken before listing: whatever is appended later is taken next time.
    const fullAt = Date.now();
    const hashes = await compute.all();
    const log = { invalidIno: invalid.ino, invalidBirth: invalid.birth, offset: invalid.end };
    await writeCache(pdir, { version: 1, ...log, fullAt, hashes });
    if (stats) stats.full++;
    return hashes;
  }
  if (stats) stats.hits++;
  if (invalid.suffixes.size === 0) return cache.hashes;
  const hashes = { ...cache.hashes };
  for (const s of [...invalid.suffixes].sort()) {
    const h = await compute.one(s);
    if (h === undefined) delete hashes[s];
    else hashes[s] = h;
    if (stats) stats.suffixesRecomputed++;
  }
  await writeCache(pdir, {
    ...cache,
    invalidIno: invalid.ino,
    invalidBirth: invalid.birth,
    offset: invalid.end,
    hashes,
  });
  return hashes;
}
