import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { writeHashed } from './write.ts';

/** Whether the file system under `dir` takes O_DIRECT at all (old tmpfs refuses it at open). */
const takesDirectIo = (dir: string) =>
  open(join(dir, 'probe'), constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT).then(
    (fh) => fh.close().then(() => true),
    () => false,
  );
const dirs: string[] = [];
const scratch = (parent: string) => {
  const d = mkdtempSync(join(parent, 'stratus-write-test-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');
const chunksOf = (b: Buffer, n: number) =>
  Readable.from(Array.from({ length: Math.ceil(b.length / n) }, (_, i) => b.subarray(i * n, (i + 1) * n)));
const big = { maxBytes: Number.POSITIVE_INFINITY, algo: 'sha512', large: true, directIo: true } as const;

describe('writeHashed', () => {
  it('writes big uploads with direct I/O where the file system allows it, byte-exact, whatever the tail', async () => {
    const dir = scratch(tmpdir());
    const direct = await takesDirectIo(dir);
    // Sizes around the alignment: none, under one block, one block + 1, several batches + an odd tail.
    for (const size of [0, 100, 4097, 5 * 1024 * 1024 + 12_345]) {
      const data = randomBytes(size);
      const path = join(dir, `f${size}`);
      const r = await writeHashed(chunksOf(data, 65_536), path, big);
      expect(r).toEqual({ size, md5: md5(data), osHashValue: sha512(data), direct });
      // The alignment probe writes a block at offset 0 before the data: the file is cut back to size.
      expect(statSync(path).size).toBe(size);
      expect(readFileSync(path).equals(data)).toBe(true);
    }
  });

  it('goes through the page cache when told to and for small uploads', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 7);
    const dir = scratch(tmpdir());
    const off = await writeHashed(chunksOf(data, 10_000), join(dir, 'off'), { ...big, directIo: false });
    const small = await writeHashed(chunksOf(data, 10_000), join(dir, 'small'), { ...big, large: false });
    for (const r of [off, small])
      expect(r).toEqual({ size: data.length, md5: md5(data), osHashValue: sha512(data), direct: false });
    expect(readFileSync(join(dir, 'off')).equals(data)).toBe(true);
    expect(readFileSync(join(dir, 'small')).equals(data)).toBe(true);
  });

  it('refuses to overwrite an existing file', async () => {
    const path = join(scratch(tmpdir()), 'exists');
    await writeHashed(chunksOf(Buffer.from('x'), 1), path, big);
    await expect(writeHashed(chunksOf(Buffer.from('y'), 1), path, big)).rejects.toMatchObject({ code: 'EEXIST' });
    expect(readFileSync(path, 'utf8')).toBe('x');
  });
});
