import { createHash, type Hash } from 'node:crypto';
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { noteDataBuffers } from '../platform/gc.ts';

/** Algorithms for os_hash_value (Glance's hashing_algorithm); md5 is always computed too. */
export type ImageHashAlgorithm = 'sha512' | 'sha256';

export class StoreError extends Error {
  override name = 'StoreError';
  constructor(
    readonly reason: 'limit' | 'aborted',
    message: string,
  ) {
    super(message);
  }
}

/*
 * The write path of an upload, one pass over the data:
 *   socket chunks (64 KiB) → copied once into a BATCH-sized buffer → when full, at the
 *   same time: one positional write of the whole batch (libuv thread pool) and, for big
 *   uploads, md5 and the os_hash algorithm each on its own thread reading the same
 *   shared memory (no copy per thread). A batch's buffer is reused once its write and
 *   both hashes are done. At most MAX_IN_FLIGHT batches are outstanding; beyond that
 *   the source is paused (backpressure to the client). No database work happens per chunk.
 *
 * Big uploads are written with O_DIRECT where the file system takes it (ext4, xfs; not
 * tmpfs): the device reads the batch straight from our memory, so the kernel neither
 * copies a GiB into the page cache nor has to write it back at the final fsync. On the
 * 2-core VM that is most of the CPU an upload cost besides the two hashes (bench/RESULTS.md,
 * "Image"). Direct I/O needs the memory, the file offset and the length aligned to the
 * device's block size: the batches are carved out of one buffer at an address the kernel
 * accepted (found by a probe write before any data), every batch but the last is a
 * multiple of ALIGN, and the last one's unaligned tail goes through a second, ordinary
 * descriptor. Without direct I/O (or when the kernel refuses it) the same writes go
 * through the page cache, with an fdatasync every SYNC_EVERY bytes in the background so
 * the final fsync has little left to do.
 */
const BATCH = 2 * 1024 * 1024;
const MAX_IN_FLIGHT = 8;
const SYNC_EVERY = 128 * 1024 * 1024;
/** Alignment of direct writes: a multiple of any device's logical block size (512 or 4096). */
const ALIGN = 4096;

export interface WriteOptions {
  /** Stop reading and fail with StoreError('limit') once more than this many bytes arrived. */
  maxBytes: number;
  algo: ImageHashAlgorithm;
  /** Hash on two threads and preallocate the batches (big or unknown sizes). */
  large: boolean;
  /** With `large`: write with O_DIRECT when the file system allows it. */
  directIo: boolean;
}

export interface WrittenData {
  size: number;
  md5: string;
  osHashValue: string;
  /** Whether the data went to the disk with direct I/O (for tests and benchmarks). */
  direct: boolean;
}

/** Streams `source` into a new file at `path` (fsynced), hashing as it goes. */
export async function writeHashed(source: Readable, path: string, opts: WriteOptions): Promise<WrittenData> {
  const out = await OutputFile.create(path, opts.large && opts.directIo);
  const hasher: Hasher = opts.large ? new ThreadedHasher(opts.algo) : new InlineHasher(opts.algo);
  try {
    const batches = opts.large
      ? await out.carve(new Uint8Array(new SharedArrayBuffer((MAX_IN_FLIGHT + 1) * BATCH + ALIGN)), MAX_IN_FLIGHT + 1)
      : [];
    const size = await pump(source, out, hasher, batches, opts.maxBytes);
    await out.finish(size);
    const d = await hasher.digest();
    return { size, md5: d.md5, osHashValue: d.osHash, direct: out.direct !== undefined };
  } catch (err) {
    hasher.abort();
    throw err;
  } finally {
    await out.close();
  }
}

/** The file being written: an ordinary descriptor, plus an O_DIRECT one while direct I/O works. */
class OutputFile {
  private constructor(
    private readonly fh: FileHandle,
    public direct: FileHandle | undefined,
  ) {}

  static async create(path: string, direct: boolean): Promise<OutputFile> {
    const fh = await open(path, 'wx', 0o640);
    // tmpfs and some other file systems refuse O_DIRECT (EINVAL): then the page cache it is.
    const dfh = direct ? await open(path, constants.O_WRONLY | constants.O_DIRECT).catch(() => undefined) : undefined;
    return new OutputFile(fh, dfh);
  }

  /** Whether writes go through the page cache (then they are synced along the way). */
  get buffered(): boolean {
    return this.direct === undefined;
  }

  /**
   * `count` BATCH-sized views of `mem` (which has ALIGN spare bytes). With direct I/O they
   * start at an offset whose address the kernel accepts: found by direct-writing ALIGN
   * bytes at file offset 0 from successive 16-byte offsets (allocations are 16-byte
   * aligned), before any data is written; `finish` truncates to the real size.
   */
  async carve(mem: Uint8Array, count: number): Promise<Uint8Array[]> {
    let base = 0;
    if (this.direct) {
      base = -1;
      for (let off = 0; off < ALIGN && base < 0; off += 16) {
        try {
          await this.direct.write(mem, off, ALIGN, 0);
          base = off;
        } catch {
          // EINVAL: that address is not aligned for the device; try the next one.
        }
      }
      if (base < 0) await this.dropDirect();
      base = Math.max(base, 0);
    }
    return Array.from({ length: count }, (_, i) => mem.subarray(base + i * BATCH, base + (i + 1) * BATCH));
  }

  /** Writes buf[0, len) at `at` (a multiple of BATCH): direct for the aligned part, the rest buffered. */
  async write(buf: Uint8Array, len: number, at: number): Promise<void> {
    const aligned = this.direct ? len - (len % ALIGN) : 0;
    if (aligned > 0 && this.direct) {
      try {
        await this.direct.write(buf, 0, aligned, at);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EINVAL') throw err;
        // The kernel refused direct I/O after all: this write and the rest go through the page cache.
        await this.dropDirect();
        await this.fh.write(buf, 0, aligned, at);
      }
    }
    if (aligned < len) await this.fh.write(buf, aligned, len - aligned, at + aligned);
  }

  datasync(): Promise<void> {
    return this.fh.datasync();
  }

  /** Sets the final size (the alignment probe may have written past it) and makes it durable. */
  async finish(size: number): Promise<void> {
    if (this.direct) await this.fh.truncate(size);
    await this.fh.sync();
  }

  private async dropDirect(): Promise<void> {
    const d = this.direct;
    this.direct = undefined;
    await d?.close();
  }

  async close(): Promise<void> {
    await Promise.all([this.fh.close(), this.dropDirect()]);
  }
}

/**
 * Feeds the source through batches to the file and the hasher. `preallocated` are the
 * batch buffers to cycle through (big uploads); without them buffers are allocated as
 * needed (at most MAX_IN_FLIGHT + 1).
 */
function pump(
  source: Readable,
  out: OutputFile,
  hasher: Hasher,
  preallocated: Uint8Array[],
  maxBytes: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const pool = [...preallocated].reverse();
    const take = () => pool.pop() ?? Buffer.allocUnsafeSlow(BATCH);
    let batch = take();
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
      batch = take();
      fill = 0;
      inFlight++;
      const op = Promise.all([out.write(buf, len, at), hasher.update(buf, len)]).then(
        () => {
          inFlight--;
          pool.push(buf);
          sinceSync += len;
          if (out.buffered && sinceSync >= SYNC_EVERY && !syncing && !ended) {
            sinceSync = 0;
            syncing = out.datasync().finally(() => {
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
      noteDataBuffers(b.length);
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
  h.update(new Uint8Array(m.sab, m.off, m.len));
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
  /** `buf` is a view of a SharedArrayBuffer: the thread reads the same memory. */
  update(buf: Uint8Array, len: number): Promise<void> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.acks.push({ resolve, reject });
      this.worker.postMessage({ sab: buf.buffer, off: buf.byteOffset, len });
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

/** Big uploads: batches are views of shared memory (see writeHashed). */
class ThreadedHasher implements Hasher {
  private md5: HashThread;
  private os: HashThread;
  constructor(algo: ImageHashAlgorithm) {
    this.md5 = new HashThread('md5');
    this.os = new HashThread(algo);
  }
  async update(buf: Uint8Array, len: number): Promise<void> {
    await Promise.all([this.md5.update(buf, len), this.os.update(buf, len)]);
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
