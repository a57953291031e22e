import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { loadConfig } from '../platform/config.ts';
import { notFound } from '../platform/errors.ts';
import { FileRangeStream } from '../platform/file-range.ts';
import { ObjectImageStore, processObjectBackend } from './store-object.ts';
import { type ImageHashAlgorithm, writeHashed } from './write.ts';

/*
 * Where image data lives. `put` streams the data in (never buffering it whole),
 * computing size, md5 and the os_hash (sha512 by default) on the way, lets the caller inspect the complete
 * temporary copy, and only then makes it visible under the image's id. The filesystem
 * store is the default; the object store is another implementation of this interface.
 */
export type { ImageHashAlgorithm } from './write.ts';

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

export { StoreError } from './write.ts';

/** Below this (known) size an upload is hashed on the event loop and written through the page cache. */
const LARGE_UPLOAD_MIN_BYTES = 16 * 1024 * 1024;
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
      // Hash threads and direct I/O pay off only for big data (starting them costs a few ms).
      const large = opts.sizeHint === undefined || opts.sizeHint >= LARGE_UPLOAD_MIN_BYTES;
      const algo = opts.hashAlgorithm ?? 'sha512';
      const { size, md5, osHashValue } = await writeHashed(source, tmp, {
        maxBytes: opts.maxBytes ?? Number.POSITIVE_INFINITY,
        algo,
        large,
        // Big uploads bypass the page cache where the file system allows it (write.ts).
        directIo: true,
      });
      if (opts.inspect) await opts.inspect(tmp);
      await rename(tmp, final);
      await fsyncDir(this.dir);
      return { size, md5, osHashAlgo: algo, osHashValue, path: final };
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
    const stream = new FileRangeStream(path, range?.start ?? 0, range?.end ?? size - 1);
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
