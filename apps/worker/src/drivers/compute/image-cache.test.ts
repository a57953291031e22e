import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ImageCache } from './image-cache.ts';
import type { Runner } from './libvirt.ts';

/*
 * qemu-img stand-in: a file starting with "QFI" is qcow2 ("QFIB" one with a backing
 * file), anything else raw; convert copies and prefixes the magic.
 */
function fakeQemuImg(calls: string[][]): Runner {
  return async (_cmd, argv) => {
    const args = [...argv];
    calls.push(args);
    const file = args.at(-1) ?? '';
    if (args[0] === 'info') {
      const head = (await readFile(file)).subarray(0, 4).toString();
      const info = head.startsWith('QFI')
        ? { format: 'qcow2', 'virtual-size': 1, ...(head === 'QFIB' ? { 'backing-filename': '/etc/shadow' } : {}) }
        : { format: 'raw', 'virtual-size': 1 };
      return { stdout: JSON.stringify(info), stderr: '' };
    }
    if (args[0] === 'convert') {
      const src = args.at(-2) ?? '';
      await writeFile(file, Buffer.concat([Buffer.from('QFI:'), await readFile(src)]));
      return { stdout: '', stderr: '' };
    }
    throw new Error(`unsupported ${args[0]}`);
  };
}

describe('ImageCache', () => {
  let stateDir: string;
  let calls: string[][];
  let cache: ImageCache;
  const leftovers = async () => (await readdir(cache.baseDir)).filter((f) => f.startsWith('.'));

  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'stratus-cache-unit-'));
    calls = [];
    cache = new ImageCache({ stateDir, run: fakeQemuImg(calls) });
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
  });

  it('stores a qcow2 stream as it is, readable by QEMU', async () => {
    const path = await cache.ensureBaseImage('img-1', () => Readable.from([Buffer.from('QFI\u00fbdata')]));
    expect(path).toBe(join(stateDir, 'instances', '_base', 'img-1'));
    expect((await readFile(path)).toString()).toBe('QFI\u00fbdata');
    expect((await stat(path)).mode & 0o777).toBe(0o644);
    expect((await stat(cache.baseDir)).mode & 0o777).toBe(0o755);
    expect(calls.map((c) => c[0])).toEqual(['info']);
    expect(await leftovers()).toEqual([]);
  });

  it('converts a raw image to qcow2', async () => {
    const path = await cache.ensureBaseImage('raw-1', () => Readable.from([Buffer.from('rawbytes')]));
    expect((await readFile(path)).toString()).toBe('QFI:rawbytes');
    expect(calls.map((c) => c[0])).toEqual(['info', 'convert']);
    expect(calls[1]).toEqual(expect.arrayContaining(['-f', 'raw', '-O', 'qcow2']));
    expect(await leftovers()).toEqual([]);
  });

  it('copies from a local file path', async () => {
    const src = join(stateDir, 'src.qcow2');
    await writeFile(src, 'QFI\u00fblocal');
    const path = await cache.ensureBaseImage('local-1', src);
    expect((await readFile(path)).toString()).toBe('QFI\u00fblocal');
  });

  it('fetches once for concurrent requests and not at all once cached', async () => {
    let fetches = 0;
    const source = () => {
      fetches++;
      return Readable.from(
        (async function* () {
          await new Promise((r) => setTimeout(r, 20));
          yield Buffer.from('QFI\u00fbslow');
        })(),
      );
    };
    const paths = await Promise.all([1, 2, 3, 4].map(() => cache.ensureBaseImage('img-2', source)));
    expect(new Set(paths).size).toBe(1);
    expect(fetches).toBe(1);
    // Another cache object of the same process shares the fetch map and the files.
    const again = await new ImageCache({ stateDir, run: fakeQemuImg(calls) }).ensureBaseImage('img-2', source);
    expect(again).toBe(paths[0]);
    expect(fetches).toBe(1);
  });

  it('leaves nothing behind when the download fails, and a retry works', async () => {
    const broken = () =>
      Readable.from(
        (async function* () {
          yield Buffer.from('QFI\u00fbpart');
          throw new Error('connection reset');
        })(),
      );
    await expect(cache.ensureBaseImage('img-3', broken)).rejects.toThrow('connection reset');
    expect(await leftovers()).toEqual([]);
    await expect(stat(cache.pathOf('img-3'))).rejects.toMatchObject({ code: 'ENOENT' });
    const path = await cache.ensureBaseImage('img-3', () => Readable.from([Buffer.from('QFI\u00fbwhole')]));
    expect((await readFile(path)).toString()).toBe('QFI\u00fbwhole');
  });

  it('checks the checksum when one is given', async () => {
    const bytes = Buffer.from('QFI\u00fbsummed');
    const hex = createHash('sha256').update(bytes).digest('hex');
    await expect(
      cache.ensureBaseImage('img-4', () => Readable.from([bytes]), { checksum: { algorithm: 'sha256', hex: '00' } }),
    ).rejects.toThrow(/checksum mismatch/);
    expect(await leftovers()).toEqual([]);
    const path = await cache.ensureBaseImage('img-4', () => Readable.from([bytes]), {
      checksum: { algorithm: 'sha256', hex },
    });
    expect(await readFile(path)).toEqual(bytes);
  });

  it('refuses images with a backing file', async () => {
    await expect(cache.ensureBaseImage('img-5', () => Readable.from([Buffer.from('QFIB')]))).rejects.toMatchObject({
      code: 'InvalidSpec',
    });
    expect(await leftovers()).toEqual([]);
  });

  it('refuses image ids that are not plain names', () => {
    expect(() => cache.pathOf('../etc')).toThrow(/not an image id/);
    expect(() => cache.pathOf('.hidden')).toThrow(/not an image id/);
    expect(() => cache.pathOf('a/b')).toThrow(/not an image id/);
  });

  it('keeps a file another process put in place first', async () => {
    const first = await cache.ensureBaseImage('img-6', () => Readable.from([Buffer.from('QFI\u00fbfirst')]));
    await copyFile(first, `${first}.bak`);
    const second = await cache.ensureBaseImage('img-6', () => Readable.from([Buffer.from('QFI\u00fbsecond')]));
    expect((await readFile(second)).toString()).toBe('QFI\u00fbfirst');
  });
});
