import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FilesystemBackupTarget, readBackupMetadata, restoreBackupToRaw, writeBackup } from './backup.ts';

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
});
