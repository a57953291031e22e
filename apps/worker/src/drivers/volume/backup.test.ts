import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type BackupTarget,
  FilesystemBackupTarget,
  readBackupMetadata,
  restoreBackupToRaw,
  writeBackup,
} from './backup.ts';

const CHUNK = 64 * 1024;

describe('chunked backups on the filesystem target', () => {
  it('stores non-zero chunks, an incremental stores only changed ones, restores byte for byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-backup-'));
    const target = new FilesystemBackupTarget(join(dir, 'target'));
    const data = Buffer.alloc(CHUNK * 8);
    data.fill(0x11, 0, CHUNK * 2); // chunks 0-1 data, 2-7 zero
    data.fill(0x22, CHUNK * 5, CHUNK * 5 + 100);
    const raw = join(dir, 'vol.raw');
    writeFileSync(raw, data);
    const progress: number[] = [];
    const full = await writeBackup({
      target,
      container: 'c',
      backupId: 'b1',
      volumeId: 'v',
      rawPath: raw,
      chunkSize: CHUNK,
      progress: async (p) => {
        progress.push(p);
      },
    });
    expect(full.storedBytes).toBe(CHUNK * 3);
    expect(full.meta.chunks.filter((c) => c.sha256 === null)).toHaveLength(5);
    expect(progress.length).toBeGreaterThan(0);
    expect(Math.max(...progress)).toBeLessThan(100);

    data.fill(0x33, CHUNK * 7, CHUNK * 7 + 10);
    writeFileSync(raw, data);
    const parent = await readBackupMetadata(target, 'c', 'b1');
    const inc = await writeBackup({
      target,
      container: 'c',
      backupId: 'b2',
      volumeId: 'v',
      rawPath: raw,
      chunkSize: CHUNK,
      parent,
    });
    expect(inc.storedBytes).toBe(CHUNK);
    expect(inc.meta.chunks[0]?.object).toBe(full.meta.chunks[0]?.object);
    expect(inc.meta.parentId).toBe('b1');

    const out = join(dir, 'restored.raw');
    await restoreBackupToRaw({ target, container: 'c', meta: inc.meta, rawPath: out });
    expect(readFileSync(out).equals(data)).toBe(true);

    // A corrupt chunk is refused, never restored silently.
    writeFileSync(join(dir, 'target', 'c', 'b1', 'chunk-00000000'), Buffer.alloc(CHUNK, 0x99));
    await expect(restoreBackupToRaw({ target, container: 'c', meta: inc.meta, rawPath: out })).rejects.toThrow(
      /corrupt/,
    );
    expect(await target.deletePrefix('c', 'b2/')).toBeGreaterThan(0);
  });

  it('refuses object names that would leave the target', async () => {
    const target = new FilesystemBackupTarget(mkdtempSync(join(tmpdir(), 'stratus-backup-')));
    await expect(target.put('..', 'x', Buffer.from('a'))).rejects.toThrow(/bad container/);
    await expect(target.put('c', '../x', Buffer.from('a'))).rejects.toThrow(/bad object/);
  });

  it('keeps up to `parallel` chunk writes in flight and settles them all before failing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-backup-'));
    const data = Buffer.alloc(CHUNK * 12, 0x44);
    for (let i = 0; i < 12; i++) data[i * CHUNK] = i; // every chunk differs
    const raw = join(dir, 'vol.raw');
    writeFileSync(raw, data);
    const store = new Map<string, Buffer>();
    let running = 0;
    let most = 0;
    let settledAfterFailure = 0;
    let failed = false;
    const slow = (failAt?: string): BackupTarget => ({
      name: 'memory',
      parallel: 3,
      async put(c, o, b) {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        if (failed) settledAfterFailure++;
        if (o === failAt) {
          failed = true;
          throw new Error('put failed');
        }
        store.set(`${c}/${o}`, b);
      },
      async get(c, o) {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        const b = store.get(`${c}/${o}`);
        if (!b) throw new Error(`missing ${o}`);
        return b;
      },
      async deletePrefix() {
        return 0;
      },
    });
    const full = await writeBackup({
      target: slow(),
      container: 'c',
      backupId: 'b1',
      volumeId: 'v',
      rawPath: raw,
      chunkSize: CHUNK,
    });
    expect(most).toBe(3);
    expect(full.objectCount).toBe(13);
    most = 0;
    const out = join(dir, 'restored.raw');
    await restoreBackupToRaw({ target: slow(), container: 'c', meta: full.meta, rawPath: out });
    expect(most).toBe(3);
    expect(readFileSync(out).equals(data)).toBe(true);

    await expect(
      writeBackup({
        target: slow('b2/chunk-00000004'),
        container: 'c',
        backupId: 'b2',
        volumeId: 'v',
        rawPath: raw,
        chunkSize: CHUNK,
      }),
    ).rejects.toThrow(/put failed/);
    // The writes in flight beside the failed one finished before writeBackup returned.
    expect(running).toBe(0);
    expect(settledAfterFailure).toBeGreaterThan(0);
  });
});
