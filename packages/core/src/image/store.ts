import { createHash, type Hash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { type FileHandle, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { loadConfig } from '../platform/config.ts';
import { notFound } from '../platform/errors.ts';
import { ObjectImageStore, processObjectBackend } from './store-object.ts';

/*
 * Where image data lives. `put` streams the data in (never buffering it whole),
 * computing size, md5 and the os_hash (sha512 by default) on the way, lets the caller inspect the complete
 * temporary copy, and only then makes it visible under the image's id. The filesystem
 * store is the default; the object store is another implementation of this interface.
 */
/** Algorithms for os_hash_value (Glance's hashing_algorithm); md5 is always computed too. */
export type ImageHashAlgorithm = 'sha512' | 'sha256';

export interface StoredImage {
  size: number;
  /** Glance's `checksum`. */
  md5: string;
  osHashAlgo: ImageHashAlgorithm;
  osHashValue: string;
  /** Where the data is, as recorded in Image.location (an absolute path for this store). */
  path: string;
}

export interface PutOptions {
  /** Stop reading and fail with StoreError('limit') once more than this many bytes arrived. */
  maxBytes?: number;
  /** Expected size (Content-Length), when known. */
  sizeHint?: number;
  /** Runs on the complete temporary file before it is committed; throwing discards it. */
  inspect?: (tempPath: string) => Promise<void>;
  /** os_hash algorithm (default sha512). */
  hashAlgorithm?: ImageHashAlgorithm;
}

export interface ByteRange {
  /** First byte, inclusive. */
  start: number;
  /** Last byte, inclusive. */
  end: number;
}

export interface ImageStore {
  put(id: string, source: Readable, opts?: PutOptions): Promise<StoredImage>;
  /** The data (or a byte range of it) and the total size. NotFound when absent. */
  get(id: string, range?: ByteRange): Promise<{ stream: Readable; size: number }>;
  delete(id: string): Promise<void>;
  exists(id: string): Promise<boolean>;
}

export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly reason: 'limit' | 'aborted',
    message: string,
  ) {
    super(message);
  }
}

const THREADED_HASH_MIN_BYTES = 16 * 1024 * 1024;
const SAFE_ID = /^[A-Za-z0-9._-]{1,128}$/;
function checkId(id: string): string {
  if (!SAFE_ID.test(id) || id.startsWith('.')) throw notFound(`No image data for ${id}.`);
  return id;
}

/**
 * `<dir>/<id>` per image, written as `<dir>/tmp/<id>.<uuid>.part`, fsynced, renamed into
 * place and the directory fsynced: a crash leaves either the old state or the new file,
 * plus at worst a stray .part file that `cleanupTemp` removes.
 */
export class FilesystemImageStore implements ImageStore {
  readonly tmpDir: string;
  constructor(readonly dir: string) {
    this.tmpDir = join(dir, 'tmp');
  }

  pathOf(id: string): string {
    return join(this.dir, checkId(id));
  }

  async put(id: string, source: Readable, opts: PutOptions = {}): Promise<StoredImage> {
    // Until writeHashed listens, a broken source must not throw an unhandled 'error'.
    source.on('error', () => {});
    const final = this.pathOf(id);
    await mkdir(this.tmpDir, { recursive: true, mode: 0o750 });
    const tmp = join(this.tmpDir, `${id}.${randomUUID()}.part`);
    try {
      // Threads pay off only for big data (starting them costs a few ms).
      const threaded = opts.sizeHint === undefined || opts.sizeHint >= THREADED_HASH_MIN_BYTES;
      const algo = opts.hashAlgorithm ?? 'sha512';
      const sums = await writeHashed(source, tmp, opts.maxBytes ?? Number.POSITIVE_INFINITY, algo, threaded);
      if (opts.inspect) await opts.inspect(tmp);
      await rename(tmp, final);
      await fsyncDir(this.dir);
      return { ...sums, osHashAlgo: algo, path: final };
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  async get(id: string, range?: ByteRange): Promise<{ stream: Readable; size: number }> {
    const path = this.pathOf(id);
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw notFound(`No image data for ${id}.`);
    }
    const stream = createReadStream(path, {
      highWaterMark: 2 * 1024 * 1024,
      ...(range ? { start: range.start, end: range.end } : {}),
    });
    return { stream, size };
  }

  async delete(id: string): Promise<void> {
    await rm(this.pathOf(id), { force: true });
  }

  async exists(id: string): Promise<boolean> {
    try {
      return (await stat(this.pathOf(id))).isFile();
    } catch {
      return false;
    }
  }

  /** Removes temporary files older than `olderThanMs` (uploads that died with their process). */
  async cleanupTemp(olderThanMs = 24 * 3600_000): Promise<number> {
    let n = 0;
    const names = await readdir(this.tmpDir).catch(() => []);
    for (const name of names) {
      const p = join(this.tmpDir, name);
      const st = await stat(p).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > olderThanMs) {
        await rm(p, { force: true });
        n++;
      }
    }
    return n;
  }
}

/*
 * The write path of an upload, one pass over the data:
 *   socket chunks (64 KiB) → copied once into a BATCH-sized buffer → when full, at the
 *   same time: one positional write of the whole batch (libuv thread pool) and, for big
 *   uploads, md5 and the os_hash algorithm each on its own thread reading the same
 *   shared memory (no copy per thread). A batch's buffer is reused once its write and
 *   both hashes are done. At most MAX_IN_FLIGHT batches are outstanding; beyond that
 *   the source is paused (backpressure to the client). Every SYNC_EVERY bytes an
 *   fdatasync is started in the background, so the disk writes behind the upload and the
 *   final fsync has little left to do. No database work happens per chunk.
 */
const BATCH = 2 * 1024 * 1024;
const MAX_IN_FLIGHT = 8;
const SYNC_EVERY = 128 * 1024 * 1024;

/** Streams `source` into a new file at `path` (fsynced), hashing as it goes. */
async function writeHashed(
  source: Readable,
  path: string,
  maxBytes: number,
  algo: ImageHashAlgorithm,
  threaded: boolean,
): Promise<{ size: number; md5: string; osHashValue: string }> {
  const fh = await open(path, 'wx', 0o640);
  const hasher: Hasher = threaded ? new ThreadedHasher(algo) : new InlineHasher(algo);
  try {
    const size = await pump(source, fh, hasher, maxBytes);
    await fh.sync();
    const d = await hasher.digest();
    return { size, md5: d.md5, osHashValue: d.osHash };
  } catch (err) {
    hasher.abort();
    throw err;
  } finally {
    await fh.close();
  }
}

function pump(source: Readable, fh: FileHandle, hasher: Hasher, maxBytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const pool: Uint8Array[] = [];
    let batch = hasher.buffer(BATCH);
    let fill = 0;
    let size = 0;
    let position = 0;
    let inFlight = 0;
    let ended = false;
    let failed = false;
    let pausedByUs = false;
    let sinceSync = 0;
    let syncing: Promise<void> | undefined;
    const outstanding = new Set<Promise<void>>();

    const finishIfDone = () => {
      if (!ended || failed || inFlight > 0) return;
      void Promise.all([syncing]).then(() => resolve(size), fail);
    };
    const track = (p: Promise<void>) => {
      outstanding.add(p);
      void p.finally(() => outstanding.delete(p)).catch(() => {});
    };
    const dispatch = () => {
      if (fill === 0) return;
      const buf = batch;
      const len = fill;
      const at = position;
      position += len;
      batch = pool.pop() ?? hasher.buffer(BATCH);
      fill = 0;
      inFlight++;
      const op = Promise.all([fh.write(buf, 0, len, at), hasher.update(buf, len)]).then(
        () => {
          inFlight--;
          pool.push(buf);
          sinceSync += len;
          if (sinceSync >= SYNC_EVERY && !syncing && !ended) {
            sinceSync = 0;
            syncing = fh.datasync().finally(() => {
              syncing = undefined;
            });
            track(syncing);
          }
          if (pausedByUs && inFlight <= MAX_IN_FLIGHT / 2 && !failed) {
            pausedByUs = false;
            source.resume();
          }
          finishIfDone();
        },
        (err: unknown) => {
          inFlight--;
          fail(err instanceof Error ? err : new Error(String(err)));
        },
      );
      track(op);
      if (inFlight >= MAX_IN_FLIGHT && !pausedByUs) {
        pausedByUs = true;
        source.pause();
      }
    };
    function fail(err: unknown): void {
      if (failed) return;
      failed = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('close', onClose);
      source.off('error', onError);
      // Leave the source alone (the caller still answers on its connection); only stop reading it.
      source.pause();
      // The file is closed by the caller: let the writes already queued finish first.
      void Promise.allSettled([...outstanding]).then(() => reject(err instanceof Error ? err : new Error(String(err))));
    }
    const onData = (chunk: Buffer | string) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += b.length;
      if (size > maxBytes) {
        fail(new StoreError('limit', `Image data exceeds the limit of ${maxBytes} bytes.`));
        return;
      }
      let off = 0;
      while (off < b.length) {
        const n = Math.min(b.length - off, BATCH - fill);
        batch.set(b.subarray(off, off + n), fill);
        fill += n;
        off += n;
        if (fill === BATCH) dispatch();
      }
    };
    const onEnd = () => {
      if (failed) return;
      ended = true;
      dispatch();
      finishIfDone();
    };
    const onClose = () => {
      if (!ended) fail(new StoreError('aborted', 'The image data stream ended before all data arrived.'));
    };
    const onError = (err: Error) => fail(new StoreError('aborted', `The image data stream failed: ${err.message}`));
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('close', onClose);
    source.once('error', onError);
    // It may have broken while the caller was still checking things.
    if (source.destroyed) {
      onError(source.errored ?? new Error('closed before the data was read'));
      return;
    }
    source.resume();
  });
}

interface Hasher {
  /** A batch buffer the hashes can read (shared memory when they run on threads). */
  buffer(n: number): Uint8Array;
  /** Hashes buf[0, len); resolves once the buffer may be reused. */
  update(buf: Uint8Array, len: number): Promise<void>;
  digest(): Promise<{ md5: string; osHash: string }>;
  abort(): void;
}

/** Small uploads: both hashes on the event loop (starting threads costs a few ms). */
class InlineHasher implements Hasher {
  private md5 = createHash('md5');
  private os: Hash;
  constructor(algo: ImageHashAlgorithm) {
    this.os = createHash(algo);
  }
  buffer(n: number): Uint8Array {
    return Buffer.allocUnsafeSlow(n);
  }
  async update(buf: Uint8Array, len: number): Promise<void> {
    const v = buf.subarray(0, len);
    this.md5.update(v);
    this.os.update(v);
  }
  async digest() {
    return { md5: this.md5.digest('hex'), osHash: this.os.digest('hex') };
  }
  abort(): void {}
}

/*
 * md5 and the os_hash algorithm each on its own thread: on the event loop they cost
 * ~2.6 CPU-seconds per GiB (md5 ~760 MB/s, sha512 ~800 MB/s per core here) and would
 * serialise with the I/O. Each thread reads the batch from shared memory and answers
 * in order, so a batch is free once both threads have acknowledged it.
 */
const HASH_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const h = createHash(workerData.algo);
parentPort.on('message', (m) => {
  if (m === null) { parentPort.postMessage({ digest: h.digest('hex') }); return; }
  h.update(new Uint8Array(m.sab, 0, m.len));
  parentPort.postMessage(0);
});`;

class HashThread {
  private worker: Worker;
  private acks: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private final: { resolve: (d: string) => void; reject: (e: Error) => void } | undefined;
  private broken: Error | undefined;
  constructor(algo: string) {
    this.worker = new Worker(HASH_WORKER, { eval: true, workerData: { algo } });
    this.worker.on('message', (m: 0 | { digest: string }) => {
      if (m === 0) this.acks.shift()?.resolve();
      else this.final?.resolve(m.digest);
    });
    const die = (err: Error) => {
      this.broken = err;
      for (const a of this.acks.splice(0)) a.reject(err);
      this.final?.reject(err);
    };
    this.worker.once('error', die);
    this.worker.once('exit', (code) => die(new Error(`hash thread exited (${code})`)));
  }
  update(sab: ArrayBufferLike, len: number): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.acks.push({ resolve, reject });
      this.worker.postMessage({ sab, len });
    });
  }
  digest(): Promise<string> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.final = { resolve, reject };
      this.worker.postMessage(null);
    });
  }
  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

class ThreadedHasher implements Hasher {
  private md5: HashThread;
  private os: HashThread;
  constructor(algo: ImageHashAlgorithm) {
    this.md5 = new HashThread('md5');
    this.os = new HashThread(algo);
  }
  buffer(n: number): Uint8Array {
    return new Uint8Array(new SharedArrayBuffer(n));
  }
  async update(buf: Uint8Array, len: number): Promise<void> {
    await Promise.all([this.md5.update(buf.buffer, len), this.os.update(buf.buffer, len)]);
  }
  async digest() {
    const [md5, osHash] = await Promise.all([this.md5.digest(), this.os.digest()]);
    await Promise.all([this.md5.terminate(), this.os.terminate()]);
    return { md5, osHash };
  }
  abort(): void {
    void this.md5.terminate();
    void this.os.terminate();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

let current: { key: string; store: ImageStore } | undefined;
let override: ImageStore | undefined;

/**
 * The configured store: the filesystem store under imageStoreDir or <stateDir>/images, or
 * with imageStore=object the object store (store-object.ts), staging uploads under
 * <that dir>/staging and still reading images stored in the filesystem store before.
 */
export function imageStore(): ImageStore {
  if (override) return override;
  const c = loadConfig();
  const dir = c.imageStoreDir ?? join(c.stateDir, 'images');
  const key = `${c.imageStore}:${dir}`;
  if (current?.key !== key) {
    const files = new FilesystemImageStore(dir);
    const store =
      c.imageStore === 'object'
        ? new ObjectImageStore({ backend: processObjectBackend, stagingDir: join(dir, 'staging'), fallback: files })
        : files;
    // Leftovers of uploads whose process died (a live upload's file is written to, so recent).
    void store.cleanupTemp().catch(() => {});
    current = { key, store };
  }
  return current.store;
}

/** Replace the store (another implementation, or tests); undefined restores the default. */
export function setImageStore(store: ImageStore | undefined): void {
  override = store;
}
