import { createHash } from 'node:crypto';
import { open, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { VolumeDriverError } from './types.ts';

/*
 * Backups, Cinder's chunked way: a volume's raw data is cut into fixed-size chunks; each
 * non-zero chunk is stored as one object, and a metadata object lists every chunk with
 * its sha256 and the object holding it. An incremental backup compares each chunk's
 * hash with its parent's list and stores only the chunks that changed, pointing at the
 * parent's objects for the rest; so a restore of any backup reads its own list only.
 *
 * Where objects go is a BackupTarget: the object store (ObjectStoreBackupTarget in
 * backup-object.ts: objects in the owner's account) or a folder tree under the state dir
 * (FilesystemBackupTarget below), implementing the same calls.
 */
export interface BackupTarget {
  readonly name: string;
  /** Chunks written (or read ahead) at once; 1 when absent. */
  readonly parallel?: number;
  put(container: string, object: string, data: Buffer): Promise<void>;
  get(container: string, object: string): Promise<Buffer>;
  /** Removes every object whose name starts with `prefix`. */
  deletePrefix(container: string, prefix: string): Promise<number>;
}

const SAFE = /^[A-Za-z0-9_.-]{1,255}$/;
const OBJECT = /^[A-Za-z0-9_.-]{1,128}(\/[A-Za-z0-9_.-]{1,128}){0,3}$/;

export class FilesystemBackupTarget implements BackupTarget {
  readonly name = 'file';
  constructor(private readonly root: string) {}

  private path(container: string, object: string): string {
    if (!SAFE.test(container) || container.startsWith('.'))
      throw new VolumeDriverError('InvalidSpec', `bad container ${container}`);
    if (!OBJECT.test(object) || object.split('/').some((s) => s.startsWith('.')))
      throw new VolumeDriverError('InvalidSpec', `bad object name ${object}`);
    return join(this.root, container, object);
  }

  async put(container: string, object: string, data: Buffer): Promise<void> {
    const p = this.path(container, object);
    await mkdir(dirname(p), { recursive: true, mode: 0o700 });
    const tmp = `${p}.part`;
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, p);
  }

  async get(container: string, object: string): Promise<Buffer> {
    try {
      return await readFile(this.path(container, object));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new VolumeDriverError('NotFound', `backup object ${container}/${object} is missing`);
      throw err;
    }
  }

  async deletePrefix(container: string, prefix: string): Promise<number> {
    // Objects of one backup live in the folder <container>/<backupId>/.
    const dir = this.path(container, prefix.replace(/\/$/, ''));
    const names = await readdir(dir).catch(() => [] as string[]);
    await rm(dir, { recursive: true, force: true });
    return names.length;
  }
}

export const BackupMetadata = z.object({
  version: z.literal(1),
  backupId: z.string(),
  volumeId: z.string(),
  /** Bytes of the volume's raw image. */
  bytes: z.number().int().nonnegative(),
  chunkSize: z.number().int().positive(),
  parentId: z.string().nullable(),
  chunks: z.array(
    z.object({
      index: z.number().int().nonnegative(),
      /** null for an all-zero chunk, which is not stored. */
      sha256: z.string().nullable(),
      /** container-relative object holding the chunk (this backup's or a parent's). */
      object: z.string().nullable(),
      length: z.number().int().positive(),
    }),
  ),
});
export type BackupMetadata = z.infer<typeof BackupMetadata>;

export const metadataObject = (backupId: string) => `${backupId}/metadata.json`;

export type BackupProgress = (percent: number) => Promise<void>;

/**
 * Reads `rawPath` chunk by chunk into `target`. With `parent`, unchanged chunks point
 * at the parent's objects. Returns the metadata and the bytes actually stored.
 */
export async function writeBackup(o: {
  target: BackupTarget;
  container: string;
  backupId: string;
  volumeId: string;
  rawPath: string;
  chunkSize: number;
  parent?: BackupMetadata | null;
  progress?: BackupProgress;
}): Promise<{ meta: BackupMetadata; storedBytes: number; objectCount: number }> {
  const fh = await open(o.rawPath, 'r');
  try {
    const bytes = (await fh.stat()).size;
    const n = Math.ceil(bytes / o.chunkSize);
    const buf = Buffer.alloc(o.chunkSize);
    const prior = new Map((o.parent?.chunks ?? []).map((c) => [c.index, c]));
    const chunks: BackupMetadata['chunks'] = [];
    let stored = 0;
    let objects = 0;
    let lastPct = -1;
    // Up to `parallel` chunk writes in flight; each has its own copy of the chunk's bytes.
    const window = Math.max(1, o.target.parallel ?? 1);
    const inflight: Promise<void>[] = [];
    const oldest = async () => {
      const p = inflight.shift();
      if (p) await p;
    };
    try {
      for (let i = 0; i < n; i++) {
        const want = Math.min(o.chunkSize, bytes - i * o.chunkSize);
        let got = 0;
        while (got < want) {
          const { bytesRead } = await fh.read(buf, got, want - got, i * o.chunkSize + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        const data = buf.subarray(0, want);
        if (isZero(data)) {
          chunks.push({ index: i, sha256: null, object: null, length: want });
        } else {
          const sha = createHash('sha256').update(data).digest('hex');
          const before = prior.get(i);
          if (before && before.sha256 === sha && before.object && before.length === want) {
            chunks.push({ index: i, sha256: sha, object: before.object, length: want });
          } else {
            const object = `${o.backupId}/chunk-${String(i).padStart(8, '0')}`;
            const p = o.target.put(o.container, object, Buffer.from(data));
            // Its failure is seen when awaited below; never an unhandled rejection meanwhile.
            p.catch(() => {});
            inflight.push(p);
            if (inflight.length >= window) await oldest();
            stored += want;
            objects++;
            chunks.push({ index: i, sha256: sha, object, length: want });
          }
        }
        const pct = Math.floor(((i + 1) * 100) / Math.max(n, 1));
        if (o.progress && pct >= lastPct + 5) {
          lastPct = pct;
          await o.progress(Math.min(pct, 99));
        }
      }
      while (inflight.length > 0) await oldest();
    } catch (err) {
      // Let every write finish before the caller cleans up, so none lands after the cleanup.
      await Promise.allSettled(inflight);
      throw err;
    }
    const meta: BackupMetadata = {
      version: 1,
      backupId: o.backupId,
      volumeId: o.volumeId,
      bytes,
      chunkSize: o.chunkSize,
      parentId: o.parent?.backupId ?? null,
      chunks,
    };
    await o.target.put(o.container, metadataObject(o.backupId), Buffer.from(JSON.stringify(meta)));
    return { meta, storedBytes: stored, objectCount: objects + 1 };
  } finally {
    await fh.close();
  }
}

export async function readBackupMetadata(
  target: BackupTarget,
  container: string,
  backupId: string,
): Promise<BackupMetadata> {
  const raw = await target.get(container, metadataObject(backupId));
  const parsed = BackupMetadata.safeParse(JSON.parse(raw.toString('utf8')));
  if (!parsed.success) throw new VolumeDriverError('Failed', `backup ${backupId}: unreadable metadata`);
  return parsed.data;
}

/** Writes a backup's data into a new sparse raw file at `rawPath`, verifying every chunk. */
export async function restoreBackupToRaw(o: {
  target: BackupTarget;
  container: string;
  meta: BackupMetadata;
  rawPath: string;
  progress?: BackupProgress;
}): Promise<void> {
  const fh = await open(o.rawPath, 'w', 0o600);
  try {
    await fh.truncate(o.meta.bytes);
    let lastPct = -1;
    const total = o.meta.chunks.length;
    // Reads run ahead of the writes by up to `parallel` chunks.
    const ahead = Math.max(1, o.target.parallel ?? 1);
    const reads = new Map<number, Promise<Buffer>>();
    const fetch = (k: number) => {
      const c = o.meta.chunks[k];
      if (!c?.object || !c.sha256 || reads.has(k)) return;
      const p = o.target.get(o.container, c.object);
      p.catch(() => {});
      reads.set(k, p);
    };
    try {
      for (const [k, c] of o.meta.chunks.entries()) {
        for (let j = k; j < Math.min(k + ahead, total); j++) fetch(j);
        if (c.object && c.sha256) {
          const data = await (reads.get(k) ?? o.target.get(o.container, c.object));
          reads.delete(k);
          const sha = createHash('sha256').update(data).digest('hex');
          if (sha !== c.sha256 || data.length !== c.length)
            throw new VolumeDriverError('Failed', `backup ${o.meta.backupId}: chunk ${c.index} is corrupt`);
          await fh.write(data, 0, data.length, c.index * o.meta.chunkSize);
        }
        const pct = Math.floor(((k + 1) * 100) / Math.max(total, 1));
        if (o.progress && pct >= lastPct + 5) {
          lastPct = pct;
          await o.progress(Math.min(pct, 99));
        }
      }
    } finally {
      await Promise.allSettled(reads.values());
    }
  } finally {
    await fh.close();
  }
}

const zeroes = new Map<number, Buffer>();
function isZero(b: Buffer): boolean {
  let z = zeroes.get(b.length);
  if (!z) {
    z = Buffer.alloc(b.length);
    zeroes.set(b.length, z);
  }
  return b.equals(z);
}
