import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Runner, qemuImgInfo, runTool } from './libvirt.ts';
import { HypervisorError } from './types.ts';

/*
 * The per-host cache of base images: <stateDir>/instances/_base/<imageId>, always
 * qcow2, never modified once in place (root disks are overlays backed by it).
 * A file appears there only complete: it is written to a temporary name and renamed.
 */

/** Where the bytes come from: a stream (e.g. the image service) or a local file. */
export type ImageSource = string | (() => Readable | Promise<Readable>);

export interface ImageChecksum {
  algorithm: 'md5' | 'sha256' | 'sha512';
  /** Lower-case hex digest of the bytes as served (Glance's checksum / os_hash_value). */
  hex: string;
}

export interface ImageCacheOptions {
  stateDir: string;
  run?: Runner;
}

const imageIdPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

// Keyed by final path, so that every cache object of this process shares the fetches.
const inflight = new Map<string, Promise<string>>();

export class ImageCache {
  readonly baseDir: string;
  private readonly run: Runner;

  constructor(opts: ImageCacheOptions) {
    this.baseDir = join(opts.stateDir, 'instances', '_base');
    this.run = opts.run ?? runTool;
  }

  pathOf(imageId: string): string {
    if (!imageIdPattern.test(imageId)) throw new HypervisorError('InvalidSpec', `not an image id: ${imageId}`);
    return join(this.baseDir, imageId);
  }

  /**
   * Returns the path of the cached qcow2 base image, fetching it first when absent.
   * Concurrent calls for one image share a single fetch.
   */
  ensureBaseImage(imageId: string, source: ImageSource, opts: { checksum?: ImageChecksum } = {}): Promise<string> {
    const path = this.pathOf(imageId);
    const running = inflight.get(path);
    if (running) return running;
    const p = this.fetch(path, source, opts.checksum).finally(() => inflight.delete(path));
    inflight.set(path, p);
    return p;
  }

  private async fetch(path: string, source: ImageSource, checksum: ImageChecksum | undefined): Promise<string> {
    if (await isFile(path)) return path;
    // QEMU runs as an unprivileged user and must be able to read the base through here.
    await mkdir(this.baseDir, { recursive: true, mode: 0o755 });
    await chmod(this.baseDir, 0o755);
    const tmp = join(this.baseDir, `.${randomBytes(6).toString('hex')}.part`);
    const converted = `${tmp}.qcow2`;
    try {
      const input = typeof source === 'string' ? createReadStream(source) : await source();
      const hash = checksum ? createHash(checksum.algorithm) : undefined;
      const tap = new Transform({
        transform(chunk: Buffer, _enc, done) {
          hash?.update(chunk);
          done(null, chunk);
        },
      });
      await pipeline(input, tap, createWriteStream(tmp, { mode: 0o644 }));
      if (checksum && hash) {
        const got = hash.digest('hex');
        if (got !== checksum.hex.toLowerCase()) {
          throw new HypervisorError('Failed', `image checksum mismatch: ${checksum.algorithm} ${got}`);
        }
      }

      const info = await qemuImgInfo(tmp, this.run);
      // A backing file inside an image would let a user read any file of this host.
      if (info['backing-filename'] !== undefined) {
        throw new HypervisorError('InvalidSpec', 'images with a backing file are not accepted');
      }
      let final = tmp;
      if (info.format !== 'qcow2') {
        await this.run('qemu-img', ['convert', '-q', '-f', info.format, '-O', 'qcow2', tmp, converted], {
          timeoutMs: 60 * 60_000,
        });
        final = converted;
      }
      await chmod(final, 0o644);
      // Another process may have finished first: keep its file, overlays may use it already.
      if (await isFile(path)) return path;
      await rename(final, path);
      return path;
    } finally {
      await rm(tmp, { force: true });
      await rm(converted, { force: true });
    }
  }
}

async function isFile(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}
