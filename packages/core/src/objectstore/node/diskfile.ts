import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, open, readdir, readFile, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { noteDataBuffers } from '../../platform/gc.ts';
import type { ObjectMetadata, SwiftTimestamp } from '../backend.ts';
import { compareTimestamps, HASH_RE, SUFFIX_RE, suffixOfHash, TIMESTAMP_RE } from '../hash.ts';
import {
  cachedSuffixHashes,
  HASHES_FILE,
  type HashCacheOptions,
  type HashCacheStats,
  INVALID_FILE,
  invalidateHashDir,
} from './hashes.ts';

/*
 * The on-disk layout of one device, as Swift's:
 *   <device>/.stratus-device                          the mount marker (absent = unmounted: 507)
 *   <device>/objects/<partition>/<suffix>/<hash>/<timestamp>.data   bytes + metadata trailer
 *   <device>/objects/<partition>/<suffix>/<hash>/<timestamp>.meta   metadata of a later POST
 *   <device>/objects/<partition>/<suffix>/<hash>/<timestamp>.ts     tombstone of a DELETE
 *   <device>/tmp/                                       files being written
 *   <device>/quarantined/objects/<hash>-<uuid>/         what the auditor found corrupt
 * Every file is written in tmp/, fsynced, renamed into place and its directory fsynced, so a
 * crash leaves the old state or the new file. Between the files of one hash the newest
 * timestamp wins; older ones are removed right after each write (Swift's hash_cleanup_listdir).
 *
 * The metadata lives in the .data file itself, after the bytes: JSON, its length (uint32 BE)
 * and the magic "STRATUS1". One file, one rename: bytes and metadata can never disagree.
 */

export const DEVICE_MARKER = '.stratus-device';
const MAGIC = Buffer.from('STRATUS1');
const TRAILER_FIXED = 4 + MAGIC.length;

export class DiskError extends Error {
  override name = 'DiskError';
  constructor(
    readonly reason: 'unmounted' | 'etag' | 'conflict' | 'length' | 'corrupt' | 'not-found',
    message: string,
  ) {
    super(message);
  }
}

const Meta = z.record(z.string(), z.string());
export const DataMetadata = z.object({
  /** "/account/container/object", kept for operators and tools. */
  name: z.string(),
  etag: z.string().regex(/^[0-9a-f]{32}$/),
  size: z.number().int().min(0),
  contentType: z.string(),
  timestamp: z.string().regex(TIMESTAMP_RE),
  userMeta: Meta,
  sysMeta: Meta,
});
export type DataMetadata = z.infer<typeof DataMetadata>;

export const MetaFile = z.object({
  timestamp: z.string().regex(TIMESTAMP_RE),
  userMeta: Meta,
  sysMeta: Meta,
  contentType: z.string().optional(),
});
export type MetaFile = z.infer<typeof MetaFile>;

/** Set only by PUT: a POST never changes these. */
const PUT_ONLY_SYSMETA = ['x-static-large-object', 'x-object-manifest'];

export function isMounted(devPath: string): Promise<boolean> {
  return access(join(devPath, DEVICE_MARKER)).then(
    () => true,
    () => false,
  );
}

export async function assertMounted(devPath: string): Promise<void> {
  if (!(await isMounted(devPath))) throw new DiskError('unmounted', `device ${devPath} is not mounted`);
}

export function hashDir(devPath: string, partition: number, hash: string): string {
  return join(devPath, 'objects', String(partition), suffixOfHash(hash), hash);
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function tmpFile(devPath: string): Promise<string> {
  const dir = join(devPath, 'tmp');
  await mkdir(dir, { recursive: true });
  return join(dir, randomUUID());
}

/** Moves a complete temp file to `dir/name` durably, then removes what it made obsolete. */
async function commit(tmp: string, dir: string, name: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await rename(tmp, join(dir, name));
  await fsyncDir(dir);
  await cleanupHashDir(dir);
  await invalidateHashDir(dir);
}

/** Stream chunks in binary mode are Buffers; anything else is copied into one. */
function asBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(String(chunk));
}

function errCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (errCode(err) === 'ENOENT' || errCode(err) === 'ENOTDIR') return [];
    throw err;
  }
}

export interface HashState {
  /** The newest .data when it is newer than any tombstone. */
  data?: { file: string; timestamp: SwiftTimestamp };
  /** The newest .ts when it is the newest of data and tombstones. */
  tombstone?: { file: string; timestamp: SwiftTimestamp };
  /** The newest .meta newer than the data. */
  meta?: { file: string; timestamp: SwiftTimestamp };
}

const FILE_RE = /^(\d{10}\.\d{5})\.(data|meta|ts)$/;

/** What a hash directory holds once "newest wins" is applied to its file names. */
export function stateOfFiles(files: string[]): HashState & { obsolete: string[] } {
  let data: { file: string; timestamp: string } | undefined;
  let ts: { file: string; timestamp: string } | undefined;
  let meta: { file: string; timestamp: string } | undefined;
  const obsolete: string[] = [];
  const parsed = files.flatMap((f) => {
    const m = FILE_RE.exec(f);
    if (!m) return [];
    const kind = m[2] === 'data' || m[2] === 'meta' || m[2] === 'ts' ? m[2] : undefined;
    return kind && m[1] ? [{ file: f, timestamp: m[1], kind }] : [];
  });
  for (const p of parsed) {
    const slot = p.kind === 'data' ? data : p.kind === 'ts' ? ts : meta;
    if (!slot || compareTimestamps(p.timestamp, slot.timestamp) > 0) {
      if (slot) obsolete.push(slot.file);
      if (p.kind === 'data') data = p;
      else if (p.kind === 'ts') ts = p;
      else meta = p;
    } else obsolete.push(p.file);
  }
  const out: HashState & { obsolete: string[] } = { obsolete };
  if (data && (!ts || compareTimestamps(data.timestamp, ts.timestamp) > 0)) {
    out.data = data;
    if (ts) obsolete.push(ts.file);
  } else if (ts) {
    out.tombstone = ts;
    if (data) obsolete.push(data.file);
  }
  if (meta) {
    if (out.data && compareTimestamps(meta.timestamp, out.data.timestamp) > 0) out.meta = meta;
    else obsolete.push(meta.file);
  }
  return out;
}

export async function readHashState(dir: string): Promise<HashState> {
  const { obsolete: _o, ...state } = stateOfFiles(await listDir(dir));
  return state;
}

/** Removes files that newer ones made obsolete, and the directory when nothing is left. */
export async function cleanupHashDir(dir: string): Promise<void> {
  const files = await listDir(dir);
  const { obsolete } = stateOfFiles(files);
  for (const f of obsolete) await unlink(join(dir, f)).catch(() => {});
  if (obsolete.length === files.length && files.length > 0) await rmdir(dir).catch(() => {});
}

/** Newest timestamp of data or tombstone (what a newer write must beat). */
function newestOf(state: HashState): string | undefined {
  return state.data?.timestamp ?? state.tombstone?.timestamp;
}

export interface WriteDataInput {
  body: Readable;
  name: string;
  timestamp: SwiftTimestamp;
  contentType: string;
  userMeta: Record<string, string>;
  sysMeta: Record<string, string>;
  contentLength?: number;
  expectedEtag?: string;
}

/** Streams a PUT's bytes to disk and commits them as <timestamp>.data; returns md5 and size. */
export async function writeData(
  devPath: string,
  partition: number,
  hash: string,
  input: WriteDataInput,
): Promise<DataMetadata> {
  await assertMounted(devPath);
  const dir = hashDir(devPath, partition, hash);
  const before = newestOf(await readHashState(dir));
  if (before && compareTimestamps(before, input.timestamp) >= 0) {
    input.body.resume();
    throw new DiskError('conflict', `a newer version (${before}) exists`);
  }
  const tmp = await tmpFile(devPath);
  const fh = await open(tmp, 'wx', 0o640);
  let closed = false;
  try {
    const md5 = createHash('md5');
    let size = 0;
    let pos = 0;
    const sink = new Writable({
      writev(chunks, cb) {
        const bufs = chunks.map((c) => asBuffer(c.chunk));
        for (const b of bufs) {
          noteDataBuffers(b.length);
          md5.update(b);
          size += b.length;
        }
        fh.writev(bufs, pos).then((r) => {
          pos += r.bytesWritten;
          cb();
        }, cb);
      },
    });
    await pipeline(input.body, sink);
    if (input.contentLength !== undefined && size !== input.contentLength) {
      throw new DiskError('length', `received ${size} bytes, expected ${input.contentLength}`);
    }
    const etag = md5.digest('hex');
    if (input.expectedEtag && input.expectedEtag.toLowerCase() !== etag)
      throw new DiskError('etag', `etag ${etag} does not match ${input.expectedEtag}`);
    const meta: DataMetadata = {
      name: input.name,
      etag,
      size,
      contentType: input.contentType,
      timestamp: input.timestamp,
      userMeta: input.userMeta,
      sysMeta: input.sysMeta,
    };
    const json = Buffer.from(JSON.stringify(meta));
    const len = Buffer.alloc(4);
    len.writeUInt32BE(json.length);
    await fh.writev([json, len, MAGIC], pos);
    await fh.sync();
    await fh.close();
    closed = true;
    const now = newestOf(await readHashState(dir));
    if (now && compareTimestamps(now, input.timestamp) >= 0)
      throw new DiskError('conflict', `a newer version (${now}) exists`);
    await commit(tmp, dir, `${input.timestamp}.data`);
    return meta;
  } catch (err) {
    if (!closed) await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** Reads the metadata trailer of a .data file. */
export async function readDataMetadata(file: string): Promise<DataMetadata & { fileSize: number }> {
  const fh = await open(file, 'r');
  try {
    const { size: fileSize } = await fh.stat();
    if (fileSize < TRAILER_FIXED) throw new DiskError('corrupt', `${file}: too short for a trailer`);
    const fixed = Buffer.alloc(TRAILER_FIXED);
    await fh.read(fixed, 0, TRAILER_FIXED, fileSize - TRAILER_FIXED);
    if (!fixed.subarray(4).equals(MAGIC)) throw new DiskError('corrupt', `${file}: no metadata trailer`);
    const len = fixed.readUInt32BE(0);
    if (len > fileSize - TRAILER_FIXED) throw new DiskError('corrupt', `${file}: bad trailer length`);
    const json = Buffer.alloc(len);
    await fh.read(json, 0, len, fileSize - TRAILER_FIXED - len);
    let parsed: DataMetadata;
    try {
      parsed = DataMetadata.parse(JSON.parse(json.toString('utf8')));
    } catch {
      throw new DiskError('corrupt', `${file}: unreadable metadata`);
    }
    if (parsed.size !== fileSize - TRAILER_FIXED - len)
      throw new DiskError('corrupt', `${file}: size does not match its metadata`);
    return { ...parsed, fileSize };
  } finally {
    await fh.close();
  }
}

export async function readMetaFile(file: string): Promise<MetaFile> {
  try {
    return MetaFile.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (err) {
    if (errCode(err) === 'ENOENT') throw new DiskError('not-found', `${file} is gone`);
    throw new DiskError('corrupt', `${file}: unreadable metadata`);
  }
}

/** The object's metadata as the API sees it: the data's, with a newer POST applied. */
export function mergeMetadata(data: DataMetadata, meta?: MetaFile): ObjectMetadata {
  const out: ObjectMetadata = {
    etag: data.etag,
    size: data.size,
    contentType: data.contentType,
    timestamp: data.timestamp,
    userMeta: { ...data.userMeta },
    sysMeta: { ...data.sysMeta },
  };
  if (meta) {
    const kept = Object.fromEntries(
      PUT_ONLY_SYSMETA.flatMap((k) => {
        const v = data.sysMeta[k];
        return v !== undefined ? [[k, v]] : [];
      }),
    );
    const posted = Object.fromEntries(Object.entries(meta.sysMeta).filter(([k]) => !PUT_ONLY_SYSMETA.includes(k)));
    out.userMeta = { ...meta.userMeta };
    out.sysMeta = { ...posted, ...kept };
    if (meta.contentType) out.contentType = meta.contentType;
    out.metaTimestamp = meta.timestamp;
  }
  return out;
}

export interface OpenObject {
  state: HashState;
  /** Present when the object exists. */
  metadata?: ObjectMetadata;
  dataFile?: string;
}

/** The current version of an object on this device (or its tombstone, or nothing). */
export async function openObject(devPath: string, partition: number, hash: string): Promise<OpenObject> {
  await assertMounted(devPath);
  const dir = hashDir(devPath, partition, hash);
  for (let attempt = 0; ; attempt++) {
    const state = await readHashState(dir);
    if (!state.data) return { state };
    const dataFile = join(dir, state.data.file);
    try {
      const data = await readDataMetadata(dataFile);
      const meta = state.meta ? await readMetaFile(join(dir, state.meta.file)) : undefined;
      return { state, metadata: mergeMetadata(data, meta), dataFile };
    } catch (err) {
      // A concurrent write replaced the files we listed: look again.
      if ((errCode(err) === 'ENOENT' || (err instanceof DiskError && err.reason === 'not-found')) && attempt < 3)
        continue;
      throw err;
    }
  }
}

async function writeSmallFile(devPath: string, dir: string, name: string, content: string): Promise<void> {
  const tmp = await tmpFile(devPath);
  const fh = await open(tmp, 'wx', 0o640);
  try {
    await fh.writeFile(content);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await commit(tmp, dir, name);
  } catch (err) {
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

/** POST: records new metadata as <timestamp>.meta. Null when there is no object to update. */
export async function writeMeta(
  devPath: string,
  partition: number,
  hash: string,
  meta: MetaFile,
): Promise<ObjectMetadata | null> {
  const cur = await openObject(devPath, partition, hash);
  if (!cur.metadata || !cur.state.data) return null;
  const newest = cur.state.meta?.timestamp ?? cur.state.data.timestamp;
  if (compareTimestamps(newest, meta.timestamp) >= 0)
    throw new DiskError('conflict', `newer metadata (${newest}) exists`);
  const dir = hashDir(devPath, partition, hash);
  await writeSmallFile(devPath, dir, `${meta.timestamp}.meta`, JSON.stringify(meta));
  return (await openObject(devPath, partition, hash)).metadata ?? null;
}

/** DELETE: a tombstone. Returns whether an older object existed here. */
export async function writeTombstone(
  devPath: string,
  partition: number,
  hash: string,
  timestamp: SwiftTimestamp,
): Promise<boolean> {
  await assertMounted(devPath);
  const dir = hashDir(devPath, partition, hash);
  const state = await readHashState(dir);
  const newest = newestOf(state);
  if (newest && compareTimestamps(newest, timestamp) >= 0)
    throw new DiskError('conflict', `a newer version (${newest}) exists`);
  await writeSmallFile(devPath, dir, `${timestamp}.ts`, JSON.stringify({ timestamp }));
  return state.data !== undefined;
}

// ---- replication ----

export async function listPartitions(devPath: string): Promise<number[]> {
  const names = await listDir(join(devPath, 'objects'));
  return names.filter((n) => /^\d+$/.test(n)).map(Number);
}

/** Per hash of one suffix directory: its files after "newest wins". */
export async function listSuffix(
  devPath: string,
  partition: number,
  suffix: string,
  /** Tombstones older than this timestamp are removed (Swift's reclaim_age): the delete has had time to reach every replica. */
  reclaimBefore?: SwiftTimestamp,
): Promise<Record<string, string[]>> {
  const sdir = join(devPath, 'objects', String(partition), suffix);
  const out: Record<string, string[]> = {};
  for (const h of await listDir(sdir)) {
    if (!HASH_RE.test(h)) continue;
    const { obsolete, ...state } = stateOfFiles(await listDir(join(sdir, h)));
    if (reclaimBefore && state.tombstone && compareTimestamps(state.tombstone.timestamp, reclaimBefore) < 0) {
      await unlink(join(sdir, h, state.tombstone.file)).catch(() => {});
      await rmdir(join(sdir, h)).catch(() => {});
      continue;
    }
    const files = [state.data?.file, state.tombstone?.file, state.meta?.file].filter((f): f is string => !!f);
    if (files.length) out[h] = files.sort();
  }
  return out;
}

/** md5 over one suffix's (hash, files) listing; undefined when it holds nothing. */
export async function suffixHash(
  devPath: string,
  partition: number,
  suffix: string,
  reclaimBefore?: SwiftTimestamp,
): Promise<string | undefined> {
  const listing = await listSuffix(devPath, partition, suffix, reclaimBefore);
  const keys = Object.keys(listing).sort();
  if (!keys.length) return undefined;
  const md5 = createHash('md5');
  for (const k of keys) md5.update(`${k}:${(listing[k] ?? []).join(',')};`);
  return md5.digest('hex');
}

/** md5 over each suffix's (hash, files) listing: equal hashes mean equal contents. */
export async function suffixHashes(
  devPath: string,
  partition: number,
  reclaimBefore?: SwiftTimestamp,
): Promise<Record<string, string>> {
  const pdir = join(devPath, 'objects', String(partition));
  const out: Record<string, string> = {};
  for (const s of (await listDir(pdir)).sort()) {
    if (!SUFFIX_RE.test(s)) continue;
    const h = await suffixHash(devPath, partition, s, reclaimBefore);
    if (h !== undefined) out[s] = h;
  }
  return out;
}

/**
 * suffixHashes through the per-partition cache (hashes.ts); `maxAgeMs` 0 lists every suffix.
 */
export function cachedPartitionHashes(
  devPath: string,
  partition: number,
  opts: HashCacheOptions & { reclaimBefore?: SwiftTimestamp },
  stats?: HashCacheStats,
): Promise<Record<string, string>> {
  return cachedSuffixHashes(
    devPath,
    partition,
    opts,
    {
      all: () => suffixHashes(devPath, partition, opts.reclaimBefore),
      one: (s) => suffixHash(devPath, partition, s, opts.reclaimBefore),
    },
    stats,
  );
}

/** Replication: stores a file pushed by another node as-is (atomically), then applies newest-wins. */
export async function writeRawFile(
  devPath: string,
  partition: number,
  hash: string,
  file: string,
  body: Readable,
): Promise<void> {
  await assertMounted(devPath);
  if (!FILE_RE.test(file)) throw new DiskError('corrupt', `bad file name ${file}`);
  const dir = hashDir(devPath, partition, hash);
  const tmp = await tmpFile(devPath);
  const fh = await open(tmp, 'wx', 0o640);
  let closed = false;
  try {
    let pos = 0;
    const sink = new Writable({
      writev(chunks, cb) {
        const bufs = chunks.map((c) => asBuffer(c.chunk));
        fh.writev(bufs, pos).then((r) => {
          pos += r.bytesWritten;
          cb();
        }, cb);
      },
    });
    await pipeline(body, sink);
    await fh.sync();
    await fh.close();
    closed = true;
    if (file.endsWith('.data')) await readDataMetadata(tmp); // refuse a truncated copy
    await commit(tmp, dir, file);
  } catch (err) {
    if (!closed) await fh.close().catch(() => {});
    await unlink(tmp).catch(() => {});
    throw err;
  }
}

export async function removePartition(devPath: string, partition: number): Promise<void> {
  await rm(join(devPath, 'objects', String(partition)), { recursive: true, force: true });
}

/** Removes a partition's hash dirs that are exactly the files listed (pushed elsewhere), then empty dirs. */
export async function removeHashFiles(
  devPath: string,
  partition: number,
  hash: string,
  files: string[],
): Promise<void> {
  const dir = hashDir(devPath, partition, hash);
  for (const f of files) await unlink(join(dir, f)).catch(() => {});
  await rmdir(dir).catch(() => {});
  await invalidateHashDir(dir);
}

export async function removeEmptyDirs(devPath: string, partition: number): Promise<void> {
  const pdir = join(devPath, 'objects', String(partition));
  for (const s of await listDir(pdir)) if (SUFFIX_RE.test(s)) await rmdir(join(pdir, s)).catch(() => {});
  // No suffix left: the partition's hash cache goes with it (cache first: a change logged
  // meanwhile then finds no cache and the next reader lists the partition in full).
  if ((await listDir(pdir)).every((n) => !SUFFIX_RE.test(n))) {
    for (const f of [HASHES_FILE, INVALID_FILE]) await unlink(join(pdir, f)).catch(() => {});
  }
  await rmdir(pdir).catch(() => {});
}

/** Auditor: moves a hash directory aside so that replication restores a good copy. */
export async function quarantineHashDir(devPath: string, partition: number, hash: string): Promise<string> {
  const src = hashDir(devPath, partition, hash);
  const qdir = join(devPath, 'quarantined', 'objects');
  await mkdir(qdir, { recursive: true });
  const dest = join(qdir, `${hash}-${randomUUID()}`);
  await rename(src, dest);
  await fsyncDir(qdir);
  await invalidateHashDir(src);
  return dest;
}

/** Auditor: md5 of a .data file's bytes compared with the etag in its trailer. */
export async function verifyDataFile(file: string): Promise<{ ok: boolean; reason?: string; bytes: number }> {
  let meta: DataMetadata;
  try {
    meta = await readDataMetadata(file);
  } catch (err) {
    if (err instanceof DiskError && err.reason === 'corrupt') return { ok: false, reason: err.message, bytes: 0 };
    throw err;
  }
  const md5 = createHash('md5');
  if (meta.size > 0)
    await pipeline(
      createReadStream(file, { start: 0, end: meta.size - 1 }),
      new Writable({
        write(c, _e, cb) {
          md5.update(asBuffer(c));
          cb();
        },
      }),
    );
  const got = md5.digest('hex');
  return got === meta.etag
    ? { ok: true, bytes: meta.size }
    : { ok: false, reason: `md5 ${got} ≠ etag ${meta.etag}`, bytes: meta.size };
}

export async function fileSize(file: string): Promise<number> {
  return (await stat(file)).size;
}
