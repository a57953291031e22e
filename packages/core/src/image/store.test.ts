import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FilesystemImageStore, StoreError } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'stratus-store-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const store = new FilesystemImageStore(dir);
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');
const chunksOf = (b: Buffer, n: number) =>
  Readable.from(Array.from({ length: Math.ceil(b.length / n) }, (_, i) => b.subarray(i * n, (i + 1) * n)));
const temps = () => readdirSync(join(dir, 'tmp'));

async function readAll(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(out);
}

describe('FilesystemImageStore', () => {
  it('stores atomically with size, md5 and sha512 (inline and threaded hashing), reads ranges back', async () => {
    const data = randomBytes(5 * 1024 * 1024 + 3);
    for (const [id, sizeHint] of [
      ['a', 1],
      ['b', undefined],
    ] as const) {
      const r = await store.put(id, chunksOf(data, 100_000), sizeHint ? { sizeHint } : {});
      expect(r).toEqual({
        size: data.length,
        md5: md5(data),
        osHashAlgo: 'sha512',
        osHashValue: sha512(data),
        path: join(dir, id),
      });
      expect(readFileSync(r.path).equals(data)).toBe(true);
    }
    expect(temps()).toEqual([]);
    const part = await store.get('a', { start: 10, end: 19 });
    expect(part.size).toBe(data.length);
    expect((await readAll(part.stream)).equals(data.subarray(10, 20))).toBe(true);
    expect(await store.exists('a')).toBe(true);
    await store.delete('a');
    expect(await store.exists('a')).toBe(false);
    await expect(store.get('a')).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('computes the configured os_hash algorithm instead of sha512', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    for (const [id, sizeHint] of [
      ['s1', 1],
      ['s2', undefined],
    ] as const) {
      const r = await store.put(id, chunksOf(data, 65_536), {
        hashAlgorithm: 'sha256',
        ...(sizeHint ? { sizeHint } : {}),
      });
      expect(r).toMatchObject({
        size: data.length,
        md5: md5(data),
        osHashAlgo: 'sha256',
        osHashValue: createHash('sha256').update(data).digest('hex'),
      });
    }
  });

  it('keeps byte order and hashes right when the source is much faster than the disk (backpressure)', async () => {
    // 40 MiB in 64 KiB chunks: more than MAX_IN_FLIGHT batches, so the reader is paused and resumed.
    const data = randomBytes(40 * 1024 * 1024);
    const r = await store.put('big', chunksOf(data, 65_536));
    expect(r.md5).toBe(md5(data));
    expect(r.osHashValue).toBe(sha512(data));
    expect(readFileSync(r.path).equals(data)).toBe(true);
    await store.delete('big');
  });

  it('discards the temp file when inspection fails, the limit is passed or the source breaks', async () => {
    const data = randomBytes(256 * 1024);
    await expect(
      store.put('c', chunksOf(data, 4096), { inspect: async () => Promise.reject(new Error('bad image')) }),
    ).rejects.toThrow('bad image');
    await expect(store.put('c', chunksOf(data, 4096), { maxBytes: 1000 })).rejects.toMatchObject({ reason: 'limit' });
    const src = new PassThrough();
    const p = store.put('c', src);
    src.write(data.subarray(0, 1000));
    src.destroy(new Error('client went away'));
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ reason: 'aborted' });
    expect(await store.exists('c')).toBe(false);
    expect(temps()).toEqual([]);
  });

  it('refuses ids that could escape the store directory', () => {
    expect(() => store.pathOf('../etc/passwd')).toThrow();
    expect(() => store.pathOf('.hidden')).toThrow();
  });
});
