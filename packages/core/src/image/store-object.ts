import { createReadStream } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { ObjectBackend, ObjectPath } from '../objectstore/backend.ts';
import { swiftTimestamp } from '../objectstore/hash.ts';
import { openObjectBackend } from '../objectstore/index.ts';
import { hasObjectBackend, objectBackend, setObjectBackend } from '../objectstore/swift/store.ts';
import { notFound } from '../platform/errors.ts';
import { logger } from '../platform/log.ts';
import { runtime } from '../platform/runtime.ts';
import { type ByteRange, FilesystemImageStore, type ImageStore, type PutOptions, type StoredImage } from './store.ts';

/*
 * Image data as objects in the object store (Glance's single-tenant swift store): one
 * object per image, `<account>/glance/<image id>`, in a system account that no Swift URL can
 * name (`.glance`: Swift's reserved-name convention, like its `.expiring_objects`), so no
 * tenant can list, read or overwrite it, and no listing row or quota of any project counts
 * it. The replicated backend is used directly: three replicas, quorum writes, the
 * replicator and auditor look after it like any object.
 *
 * An upload is staged on local disk first (a FilesystemImageStore under the staging
 * directory): its size, md5 and os_hash are computed while it streams in, and `inspect`
 * (qemu-img) needs a local file. Only a staged, inspected image is sent to the object store,
 * with its md5 as the expected ETag (each replica checks it too), then the staged copy is
 * removed. Downloads and compute's image cache stream from the object store (with Range).
 */

let opening: Promise<ObjectBackend> | undefined;

/**
 * This process's replicated backend (the one the Swift API uses), opened over the ring in
 * PostgreSQL on first use when no entry point has set it yet.
 */
export function processObjectBackend(): Promise<ObjectBackend> {
  if (hasObjectBackend()) return Promise.resolve(objectBackend());
  opening ??= (async () => {
    const rt = runtime();
    const opened = await openObjectBackend({
      db: rt.db,
      databaseUrl: rt.databaseUrl,
      onError: (err) => logger().warn({ err }, 'object ring'),
    });
    if (!hasObjectBackend()) setObjectBackend(opened.backend);
    else await opened.close();
    return objectBackend();
  })().catch((err: unknown) => {
    opening = undefined;
    throw err;
  });
  return opening;
}

export const IMAGE_ACCOUNT = '.glance';
export const IMAGE_CONTAINER = 'glance';

export interface ObjectImageStoreOptions {
  /** The replicated backend (opened on first use in a server process). */
  backend: () => Promise<ObjectBackend>;
  /** Local staging directory for uploads in progress. */
  stagingDir: string;
  account?: string;
  container?: string;
  /**
   * Where images stored before the switch to this store live (the filesystem store): read and
   * checked there first (no object server needed for them), deleted in both. New data never
   * goes there.
   */
  fallback?: ImageStore;
}

export class ObjectImageStore implements ImageStore {
  readonly staging: FilesystemImageStore;
  private readonly account: string;
  private readonly container: string;

  constructor(private readonly opts: ObjectImageStoreOptions) {
    this.staging = new FilesystemImageStore(opts.stagingDir);
    this.account = opts.account ?? IMAGE_ACCOUNT;
    this.container = opts.container ?? IMAGE_CONTAINER;
  }

  private pathOf(id: string): ObjectPath {
    // The staging store's id check (safe characters, no leading dot) applies here too.
    this.staging.pathOf(id);
    return { account: this.account, container: this.container, object: id };
  }

  /** What Image.location records for an image in this store. */
  locationOf(id: string): string {
    return `stratus-object://${this.account}/${this.container}/${id}`;
  }

  async put(id: string, source: Readable, opts: PutOptions = {}): Promise<StoredImage> {
    const path = this.pathOf(id);
    const staged = await this.staging.put(id, source, opts);
    try {
      const backend = await this.opts.backend();
      await backend.put(path, {
        body: createReadStream(staged.path, { highWaterMark: 2 * 1024 * 1024 }),
        contentLength: staged.size,
        expectedEtag: staged.md5,
        contentType: 'application/octet-stream',
        userMeta: {},
        sysMeta: {},
        timestamp: swiftTimestamp(),
      });
    } finally {
      await this.staging.delete(id);
    }
    return { ...staged, path: this.locationOf(id) };
  }

  async get(id: string, range?: ByteRange): Promise<{ stream: Readable; size: number }> {
    const path = this.pathOf(id);
    // An image is in one store only; the local one answers without the object servers.
    if (this.opts.fallback && (await this.opts.fallback.exists(id))) return this.opts.fallback.get(id, range);
    const got = await (await this.opts.backend()).get(path, range);
    if (got) return { stream: got.body, size: got.metadata.size };
    throw notFound(`No image data for ${id}.`);
  }

  async delete(id: string): Promise<void> {
    const path = this.pathOf(id);
    await (await this.opts.backend()).delete(path, swiftTimestamp());
    await this.opts.fallback?.delete(id);
  }

  async exists(id: string): Promise<boolean> {
    if (await this.opts.fallback?.exists(id)) return true;
    return (await (await this.opts.backend()).head(this.pathOf(id))) !== null;
  }

  /** Staged uploads whose process died (temp files, and staged copies never sent). */
  async cleanupTemp(olderThanMs = 24 * 3600_000): Promise<number> {
    let n = await this.staging.cleanupTemp(olderThanMs);
    for (const name of await readdir(this.opts.stagingDir).catch(() => [])) {
      const p = join(this.opts.stagingDir, name);
      const st = await stat(p).catch(() => undefined);
      if (st?.isFile() && Date.now() - st.mtimeMs > olderThanMs) {
        await rm(p, { force: true });
        n++;
      }
    }
    return n;
  }
}
