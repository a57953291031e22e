import { createHash, randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { loadConfig } from '../platform/config.ts';
import { notFound } from '../platform/errors.ts';

/*
 * Where image data lives. `put` streams the data in (never buffering it whole),
 * computing size, md5 and sha512 on the way, lets the caller inspect the complete
 * temporary copy, and only then makes it visible under the image's id. The filesystem
 * store is the default; the object store is another implementation of this interface.
 */
export interface StoredImage {
  size: number;
  md5: string;
  sha512: string;
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
      const sums = await writeHashed(source, tmp, opts.maxBytes ?? Number.POSITIVE_INFINITY, threaded);
      if (opts.inspect) await opts.inspect(tmp);
      await rename(tmp, final);
      await fsyncDir(this.dir);
      return { ...sums, path: final };
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
    const stream = createReadStream(path, { highWaterMark: 1024 * 1024, ...(range ? { start: range.start, end: range.end } : {}) });
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

/** Streams `source` into a new file at `path` (fsynced), hashing as it goes. */
function writeHashed(source: Readable, path: string, maxBytes: number, threaded: boolean): Promise<{ size: number; md5: string; sha512: string }> {
  return new Promise((resolve, reject) => {
    const hasher: Hasher = threaded ? new ThreadedHasher(() => source.resume(), () => source.pause()) : new InlineHasher();
    let size = 0;
    let ended = false;
    let failed = false;
    let draining = false;
    const out = createWriteStream(path, { flags: 'wx', mode: 0o640, flush: true, highWaterMark: 4 * 1024 * 1024 });
    const fail = (err: Error) => {
      if (failed) return;
      failed = true;
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('close', onClose);
      source.off('error', onError);
      // Leave the source alone (the caller still answers on its connection); only stop reading it.
      source.pause();
      hasher.abort();
      out.destroy();
      out.once('close', () => reject(err));
    };
    const onData = (chunk: Buffer | string) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += b.length;
      if (size > maxBytes) {
        fail(new StoreError('limit', `Image data exceeds the limit of ${maxBytes} bytes.`));
        return;
      }
      hasher.update(b);
      if (!out.write(b) && !draining) {
        draining = true;
        source.pause();
        out.once('drain', () => {
          draining = false;
          if (!failed && !hasher.busy()) source.resume();
        });
      }
    };
    const onEnd = () => {
      ended = true;
      out.end();
    };
    const onClose = () => {
      if (!ended) fail(new StoreError('aborted', 'The image data stream ended before all data arrived.'));
    };
    const onError = (err: Error) => fail(new StoreError('aborted', `The image data stream failed: ${err.message}`));
    out.once('error', (err) => fail(err));
    out.once('finish', () => {
      if (failed) return;
      out.once('close', () => {
        if (failed) return;
        hasher.digest().then(
          (d) => resolve({ size, ...d }),
          (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
        );
      });
    });
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
  update(b: Buffer): void;
  /** True while the hashing threads are too far behind: the reader should wait. */
  busy(): boolean;
  digest(): Promise<{ md5: string; sha512: string }>;
  abort(): void;
}

class InlineHasher implements Hasher {
  private md5 = createHash('md5');
  private sha512 = createHash('sha512');
  update(b: Buffer): void {
    this.md5.update(b);
    this.sha512.update(b);
  }
  busy(): boolean {
    return false;
  }
  async digest() {
    return { md5: this.md5.digest('hex'), sha512: this.sha512.digest('hex') };
  }
  abort(): void {}
}

/*
 * md5 and sha512 each on their own thread: on the event loop they cost ~3 CPU-seconds
 * per GiB and would cap an upload near 300 MB/s. Data goes to the threads in 1 MiB
 * batches of shared memory (copied once, never cloned per thread); at most MAX_BATCHES
 * are in flight, beyond that the reader is paused.
 */
const HASH_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const h = createHash(workerData.algo);
parentPort.on('message', (m) => {
  if (m === null) { parentPort.postMessage({ digest: h.digest('hex') }); return; }
  h.update(new Uint8Array(m.sab, 0, m.len));
  parentPort.postMessage({ ack: true });
});`;
const BATCH = 1024 * 1024;
const MAX_BATCHES = 16;

class ThreadedHasher implements Hasher {
  private workers: Worker[];
  private digests: Array<Promise<string>>;
  private batch = new Uint8Array(new SharedArrayBuffer(BATCH));
  private fill = 0;
  private inFlight = 0;
  private paused = false;
  constructor(
    private readonly resume: () => void,
    private readonly pause: () => void,
  ) {
    this.workers = ['md5', 'sha512'].map((algo) => new Worker(HASH_WORKER, { eval: true, workerData: { algo } }));
    this.digests = this.workers.map(
      (w) =>
        new Promise<string>((res, rej) => {
          w.on('message', (m: { ack?: true; digest?: string }) => {
            if (m.digest !== undefined) res(m.digest);
            else this.acked();
          });
          w.once('error', rej);
          w.once('exit', (code) => rej(new Error(`hash thread exited (${code})`)));
        }),
    );
    // An aborted upload never asks for its digests.
    for (const d of this.digests) d.catch(() => {});
  }
  private acked(): void {
    // Each batch is acknowledged by both threads.
    this.inFlight -= 0.5;
    if (this.paused && this.inFlight < MAX_BATCHES / 2) {
      this.paused = false;
      this.resume();
    }
  }
  private flush(): void {
    if (this.fill === 0) return;
    const msg = { sab: this.batch.buffer, len: this.fill };
    for (const w of this.workers) w.postMessage(msg);
    this.inFlight += 1;
    this.batch = new Uint8Array(new SharedArrayBuffer(BATCH));
    this.fill = 0;
    if (this.inFlight >= MAX_BATCHES && !this.paused) {
      this.paused = true;
      this.pause();
    }
  }
  update(b: Buffer): void {
    let off = 0;
    while (off < b.length) {
      const n = Math.min(b.length - off, BATCH - this.fill);
      this.batch.set(b.subarray(off, off + n), this.fill);
      this.fill += n;
      off += n;
      if (this.fill === BATCH) this.flush();
    }
  }
  busy(): boolean {
    return this.paused;
  }
  async digest() {
    this.flush();
    for (const w of this.workers) w.postMessage(null);
    const [md5 = '', sha512 = ''] = await Promise.all(this.digests);
    await Promise.all(this.workers.map((w) => w.terminate()));
    return { md5, sha512 };
  }
  abort(): void {
    for (const w of this.workers) void w.terminate();
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

let current: { dir: string; store: ImageStore } | undefined;
let override: ImageStore | undefined;

/** The configured store: the filesystem store under imageStoreDir or <stateDir>/images. */
export function imageStore(): ImageStore {
  if (override) return override;
  const c = loadConfig();
  const dir = c.imageStoreDir ?? join(c.stateDir, 'images');
  if (current?.dir !== dir) {
    const store = new FilesystemImageStore(dir);
    // Leftovers of uploads whose process died (a live upload's file is written to, so recent).
    void store.cleanupTemp().catch(() => {});
    current = { dir, store };
  }
  return current.store;
}

/** Replace the store (another implementation, or tests); undefined restores the default. */
export function setImageStore(store: ImageStore | undefined): void {
  override = store;
}
