import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../test/helpers.ts';
import { adminContext, projectWithMember, setupIdentityTest } from '../identity/test-support.ts';
import type { AuthContext } from '../identity/types.ts';
import { setObjectBackend } from '../objectstore/swift/store.ts';
import { startTestObjectCluster, type TestObjectCluster } from '../objectstore/test-support.ts';
import { downloadImageData, uploadImageData } from './data.ts';
import { createImage, deleteImage } from './images.ts';
import { FilesystemImageStore, imageStore, StoreError } from './store.ts';
import { IMAGE_ACCOUNT, IMAGE_CONTAINER, ObjectImageStore } from './store-object.ts';

/*
 * Image data on the object store (STRATUS_IMAGE_STORE=object) with real object servers:
 * the store itself (hashes, inspect on a staged copy, Range reads, three replicas, nothing
 * left behind on failure, images of the filesystem store still readable), then Glance's
 * upload and download through core with the store chosen by configuration.
 */

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');
async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
const objectPath = (id: string) => ({ account: IMAGE_ACCOUNT, container: IMAGE_CONTAINER, object: id });

let c: TestObjectCluster;
let work: string;
let files: FilesystemImageStore;
let store: ObjectImageStore;
/** Files left in the staging directory (staged copies and temp files). */
const staged = () => {
  const dir = join(work, 'staging');
  const top = existsSync(dir) ? readdirSync(dir).filter((f) => f !== 'tmp') : [];
  const tmp = existsSync(join(dir, 'tmp')) ? readdirSync(join(dir, 'tmp')) : [];
  return [...top, ...tmp];
};

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'stratus-image-object-'));
  c = await startTestObjectCluster({ devices: 3, partPower: 4 });
  files = new FilesystemImageStore(join(work, 'files'));
  store = new ObjectImageStore({ backend: async () => c.backend, stagingDir: join(work, 'staging'), fallback: files });
});
afterAll(async () => {
  setObjectBackend(undefined);
  await c?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('ObjectImageStore', () => {
  it('stores an image as an object with three replicas; hashes, size, Range reads, delete', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    let inspected: string | undefined;
    const stored = await store.put('img-1', Readable.from([data.subarray(0, 1000), data.subarray(1000)]), {
      sizeHint: data.length,
      inspect: async (tmp) => {
        // inspect sees the whole data in a local file before anything reaches the object store.
        expect(existsSync(tmp)).toBe(true);
        expect(await c.backend.head(objectPath('img-1'))).toBeNull();
        inspected = tmp;
      },
    });
    expect(inspected).toBeDefined();
    expect(stored).toMatchObject({
      size: data.length,
      md5: md5(data),
      osHashAlgo: 'sha512',
      osHashValue: sha512(data),
      path: `stratus-object://${IMAGE_ACCOUNT}/${IMAGE_CONTAINER}/img-1`,
    });
    expect(staged()).toEqual([]);
    expect(await c.backend.head(objectPath('img-1'))).toMatchObject({ size: data.length, etag: md5(data) });
    for (const d of c.locate(objectPath('img-1')).primaries)
      expect((await c.objectFiles(d, objectPath('img-1'))).some((f) => f.endsWith('.data'))).toBe(true);

    const whole = await store.get('img-1');
    expect(whole.size).toBe(data.length);
    expect(md5(await readAll(whole.stream))).toBe(md5(data));
    const part = await store.get('img-1', { start: 100, end: 1123 });
    expect(part.size).toBe(data.length);
    expect(await readAll(part.stream)).toEqual(data.subarray(100, 1124));
    expect(await store.exists('img-1')).toBe(true);

    await store.delete('img-1');
    expect(await store.exists('img-1')).toBe(false);
    await expect(store.get('img-1')).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('an image refused by inspect, or over its byte limit, leaves nothing anywhere', async () => {
    await expect(
      store.put('img-bad', Readable.from([randomBytes(5000)]), {
        inspect: async () => {
          throw new Error('unsafe image');
        },
      }),
    ).rejects.toThrow('unsafe image');
    expect(await c.backend.head(objectPath('img-bad'))).toBeNull();
    await expect(store.put('img-big', Readable.from([randomBytes(5000)]), { maxBytes: 4000 })).rejects.toBeInstanceOf(
      StoreError,
    );
    expect(await c.backend.head(objectPath('img-big'))).toBeNull();
    expect(staged()).toEqual([]);
  });

  it('the object store being down fails the upload without a stray copy', async () => {
    for (const d of c.devices) c.unmount(d);
    try {
      await expect(store.put('img-down', Readable.from([randomBytes(5000)]))).rejects.toMatchObject({
        code: 'Unavailable',
      });
    } finally {
      for (const d of c.devices) c.mount(d);
    }
    expect(staged()).toEqual([]);
    expect(await store.exists('img-down')).toBe(false);
  });

  it('images stored in the filesystem store before the switch are still read and deleted', async () => {
    const data = randomBytes(10_000);
    await files.put('img-old', Readable.from([data]));
    expect(await store.exists('img-old')).toBe(true);
    expect(await readAll((await store.get('img-old')).stream)).toEqual(data);
    await store.delete('img-old');
    expect(await files.exists('img-old')).toBe(false);
    await expect(store.get('img-old')).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('refuses ids that are not image ids', async () => {
    await expect(store.get('../etc')).rejects.toMatchObject({ code: 'NotFound' });
    await expect(store.get('.hidden')).rejects.toMatchObject({ code: 'NotFound' });
  });
});

describe('Glance with STRATUS_IMAGE_STORE=object', () => {
  let admin: AuthContext;
  let member: AuthContext;
  beforeAll(async () => {
    await setupIdentityTest(testDb().url, {
      STRATUS_IMAGE_STORE: 'object',
      STRATUS_IMAGE_STORE_DIR: join(work, 'glance'),
    });
    setObjectBackend(c.backend);
    admin = await adminContext();
    member = (await projectWithMember(admin)).auth.context;
  });

  it('uploads into the object store and downloads from it', async () => {
    expect(imageStore()).toBeInstanceOf(ObjectImageStore);
    // A raw disk image: qemu-img inspects the staged copy.
    const data = randomBytes(1024 * 1024);
    const image = await createImage(member, { name: 'on-objects', diskFormat: 'raw', containerFormat: 'bare' });
    const up = await uploadImageData(member, {
      imageId: image.id,
      data: Readable.from([data]),
      contentLength: data.length,
    });
    expect(up.image).toMatchObject({
      status: 'active',
      size: data.length,
      checksum: md5(data),
      osHashValue: sha512(data),
    });
    expect(await c.backend.head(objectPath(image.id))).toMatchObject({ size: data.length, etag: md5(data) });
    // Nothing of it stays in the local image directory.
    const local = join(work, 'glance');
    expect(existsSync(join(local, image.id))).toBe(false);
    expect(existsSync(join(local, 'staging', image.id))).toBe(false);

    const dl = await downloadImageData(member, { imageId: image.id });
    expect(dl.size).toBe(data.length);
    expect(md5(await readAll(await dl.open()))).toBe(md5(data));
    expect(await readAll(await dl.open({ start: 10, end: 19 }))).toEqual(data.subarray(10, 20));

    await deleteImage(member, { imageId: image.id });
    expect(await c.backend.head(objectPath(image.id))).toBeNull();
  });

  it('a refused upload (a qcow2 with a backing file on the host) stores nothing', async () => {
    const image = await createImage(member, { name: 'evil', diskFormat: 'qcow2', containerFormat: 'bare' });
    // qcow2 header with a backing file offset (8) pointing at a host path.
    const header = Buffer.alloc(1024);
    header.write('QFI\xfb', 0, 'latin1');
    header.writeUInt32BE(3, 4);
    header.writeBigUInt64BE(512n, 8);
    header.writeUInt32BE(10, 16);
    header.write('/etc/passwd', 512);
    await expect(
      uploadImageData(member, { imageId: image.id, data: Readable.from([header]), contentLength: header.length }),
    ).rejects.toMatchObject({ code: 'BadRequest' });
    expect(await c.backend.head(objectPath(image.id))).toBeNull();
  });
});
