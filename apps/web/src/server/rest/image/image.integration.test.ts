import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  newRequestId,
  registerTestImage,
  setImageQuota,
  stopRevocationListener,
  withRequestContext,
  type AuthContext,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../../../test/helpers.ts';
import { imageMount, parseRange } from './index.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

let server: Server;
let base: string;
let storeDir: string;
let work: string;
let admin: AuthContext;
let adminToken: string;
let A: { token: string; projectId: string };
let B: { token: string; projectId: string };

async function call(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; raw?: BodyInit; headers?: Record<string, string> } = {},
) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(opts.token ? { 'x-auth-token': opts.token } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    },
    body: opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
  });
  const buf = Buffer.from(await res.arrayBuffer());
  const isJson = (res.headers.get('content-type') ?? '').includes('json');
  const json: Json = isJson && buf.length ? (JSON.parse(buf.toString('utf8')) as Json) : {};
  return { status: res.status, json, buf, headers: res.headers };
}

/**
 * A raw upload over node:http, writing `chunks` one by one; resolves with the status as
 * soon as the server answers (possibly before everything was sent), or 'aborted' when
 * `abortAfter` chunks were written and the request was destroyed.
 */
function rawUpload(
  path: string,
  token: string,
  chunks: Buffer[],
  opts: { contentLength?: number; abortAfter?: number; holdAfter?: number } = {},
) {
  let release: () => void = () => {};
  const held = new Promise<void>((r) => (release = r));
  const done = new Promise<number | 'aborted'>((resolve, reject) => {
    const req = request(`${base}${path}`, {
      method: 'PUT',
      headers: {
        'x-auth-token': token,
        'content-type': 'application/octet-stream',
        ...(opts.contentLength !== undefined ? { 'content-length': String(opts.contentLength) } : {}),
      },
    });
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err) => (answered ? undefined : opts.abortAfter !== undefined ? resolve('aborted') : reject(err)));
    void (async () => {
      for (const [i, c] of chunks.entries()) {
        if (answered) return;
        if (opts.abortAfter !== undefined && i === opts.abortAfter) {
          req.destroy();
          resolve('aborted');
          return;
        }
        if (opts.holdAfter !== undefined && i === opts.holdAfter) await held;
        if (!req.write(c)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(() => {});
  });
  return { done, release: () => release() };
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('hex');
const storedFiles = () => (existsSync(storeDir) ? readdirSync(storeDir).filter((f) => f !== 'tmp') : []);
const tempFiles = () => (existsSync(join(storeDir, 'tmp')) ? readdirSync(join(storeDir, 'tmp')) : []);

async function newImage(token: string, body: Json = {}): Promise<Json> {
  const r = await call('POST', '/image/v2/images', {
    token,
    body: { name: unique('img'), disk_format: 'raw', container_format: 'bare', ...body },
  });
  expect(r.status).toBe(201);
  return r.json;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'stratus-image-test-'));
  storeDir = join(work, 'store');
  await setupIdentityTest(testDb().url, { STRATUS_IMAGE_STORE_DIR: storeDir });
  admin = await adminContext();
  adminToken = admin.tokenId;
  const a = await projectWithMember(admin);
  const b = await projectWithMember(admin);
  A = { token: a.auth.tokenId, projectId: a.project.id };
  B = { token: b.auth.tokenId, projectId: b.project.id };
  server = createServer((req, res) => {
    withRequestContext({ requestId: newRequestId() }, () => {
      void imageMount.handler(req, res, new URL(req.url ?? '/', 'http://localhost'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await stopRevocationListener();
  rmSync(work, { recursive: true, force: true });
});

describe('Glance v2 REST', () => {
  it('answers version discovery with 300 and the v2 endpoint', async () => {
    const r = await call('GET', '/image');
    expect(r.status).toBe(300);
    expect(r.json.versions[0]).toEqual({
      id: 'v2.16',
      status: 'CURRENT',
      links: [{ rel: 'self', href: `${base}/image/v2/` }],
    });
    expect((await call('GET', '/image/v2/images')).status).toBe(401);
  });

  it('creates an image like Glance (flat body, properties at top level, queued)', async () => {
    const r = await call('POST', '/image/v2/images', {
      token: A.token,
      body: {
        name: 'cirros',
        disk_format: 'qcow2',
        container_format: 'bare',
        'owner_specified.openstack.md5': '',
        os_distro: 'cirros',
        tags: ['t1'],
      },
    });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({
      name: 'cirros',
      status: 'queued',
      visibility: 'shared',
      owner: A.projectId,
      disk_format: 'qcow2',
      container_format: 'bare',
      size: null,
      checksum: null,
      os_distro: 'cirros',
      'owner_specified.openstack.md5': '',
      tags: ['t1'],
      self: `/v2/images/${r.json.id}`,
      file: `/v2/images/${r.json.id}/file`,
      schema: '/v2/schemas/image',
    });
    expect(r.json.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(
      (await call('POST', '/image/v2/images', { token: A.token, body: { name: 'x', status: 'active' } })).status,
    ).toBe(403);
    expect(
      (await call('POST', '/image/v2/images', { token: A.token, body: { name: 'x', visibility: 'public' } })).status,
    ).toBe(403);
    const notFound = await call('GET', '/image/v2/images/cirros', { token: A.token });
    expect(notFound.status).toBe(404);
    expect(notFound.json.error.message).toMatch(/No image found/);
  });

  it('round-trips data with md5/sha512/size like node crypto, with Range support', async () => {
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const im = await newImage(A.token);
    const up = await call('PUT', `/image/v2/images/${im.id}/file`, {
      token: A.token,
      raw: data,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(up.status).toBe(204);
    const shown = (await call('GET', `/image/v2/images/${im.id}`, { token: A.token })).json;
    expect(shown).toMatchObject({
      status: 'active',
      size: data.length,
      virtual_size: data.length,
      checksum: md5(data),
      os_hash_algo: 'sha512',
      os_hash_value: sha512(data),
    });
    const down = await call('GET', `/image/v2/images/${im.id}/file`, { token: A.token });
    expect(down.status).toBe(200);
    expect(down.headers.get('content-md5')).toBe(md5(data));
    expect(down.buf.equals(data)).toBe(true);
    const part = await call('GET', `/image/v2/images/${im.id}/file`, {
      token: A.token,
      headers: { range: 'bytes=100-199' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 100-199/${data.length}`);
    expect(part.buf.equals(data.subarray(100, 200))).toBe(true);
    const tail = await call('GET', `/image/v2/images/${im.id}/file`, {
      token: A.token,
      headers: { range: 'bytes=-5' },
    });
    expect(tail.buf.equals(data.subarray(data.length - 5))).toBe(true);
    expect(
      (
        await call('GET', `/image/v2/images/${im.id}/file`, {
          token: A.token,
          headers: { range: `bytes=${data.length}-` },
        })
      ).status,
    ).toBe(416);
    // A second upload to an active image is a conflict.
    expect(
      (
        await call('PUT', `/image/v2/images/${im.id}/file`, {
          token: A.token,
          raw: data,
          headers: { 'content-type': 'application/octet-stream' },
        })
      ).status,
    ).toBe(409);
    expect(storedFiles()).toContain(im.id);
  });

  it('uploads a qcow2 and records its virtual size; rejects a format mismatch with 400', async () => {
    const f = join(work, 'ok.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', f, '64M']);
    const bytes = readFileSync(f);
    const im = await newImage(A.token, { disk_format: 'qcow2' });
    expect(
      (
        await call('PUT', `/image/v2/images/${im.id}/file`, {
          token: A.token,
          raw: bytes,
          headers: { 'content-type': 'application/octet-stream' },
        })
      ).status,
    ).toBe(204);
    expect((await call('GET', `/image/v2/images/${im.id}`, { token: A.token })).json).toMatchObject({
      status: 'active',
      virtual_size: 64 * 1024 * 1024,
      size: bytes.length,
    });
    const raw = await newImage(A.token, { disk_format: 'raw' });
    const bad = await call('PUT', `/image/v2/images/${raw.id}/file`, {
      token: A.token,
      raw: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/qcow2/);
    expect((await call('GET', `/image/v2/images/${raw.id}`, { token: A.token })).json.status).toBe('queued');
    expect(storedFiles()).not.toContain(raw.id);
  });

  it('rejects a qcow2 whose backing file is a host path (400, nothing stored, back to queued)', async () => {
    const f = join(work, 'evil.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', '/etc/passwd', '-F', 'raw', f]);
    const im = await newImage(A.token, { disk_format: 'qcow2' });
    const r = await call('PUT', `/image/v2/images/${im.id}/file`, {
      token: A.token,
      raw: readFileSync(f),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/backing file/);
    expect((await call('GET', `/image/v2/images/${im.id}`, { token: A.token })).json.status).toBe('queued');
    expect(storedFiles()).not.toContain(im.id);
    expect(tempFiles().filter((t) => t.startsWith(im.id))).toEqual([]);
  });

  it('kills an upload whose client goes away mid-stream and leaves no file', async () => {
    const im = await newImage(A.token);
    const chunks = Array.from({ length: 20 }, () => randomBytes(256 * 1024));
    const r = await rawUpload(`/image/v2/images/${im.id}/file`, A.token, chunks, {
      contentLength: 20 * 256 * 1024,
      abortAfter: 8,
    }).done;
    expect(r).toBe('aborted');
    await waitFor(
      async () => (await call('GET', `/image/v2/images/${im.id}`, { token: A.token })).json.status === 'killed',
      { what: 'killed' },
    );
    await waitFor(() => tempFiles().filter((t) => t.startsWith(im.id)).length === 0, { what: 'temp file removed' });
    expect(storedFiles()).not.toContain(im.id);
  });

  it('answers 409 to a second upload while one is in progress', async () => {
    const im = await newImage(A.token);
    const chunks = Array.from({ length: 4 }, () => randomBytes(64 * 1024));
    const first = rawUpload(`/image/v2/images/${im.id}/file`, A.token, chunks, { holdAfter: 2 });
    await waitFor(
      async () => (await call('GET', `/image/v2/images/${im.id}`, { token: A.token })).json.status === 'saving',
      { what: 'saving' },
    );
    const second = await rawUpload(`/image/v2/images/${im.id}/file`, A.token, [randomBytes(10)]).done;
    expect(second).toBe(409);
    first.release();
    expect(await first.done).toBe(204);
    // Chunked (no Content-Length): hashed on threads; same sums as node crypto.
    const all = Buffer.concat(chunks);
    expect((await call('GET', `/image/v2/images/${im.id}`, { token: A.token })).json).toMatchObject({
      status: 'active',
      size: all.length,
      checksum: md5(all),
      os_hash_value: sha512(all),
    });
  });

  it('enforces the total-bytes quota before (Content-Length) and during streaming (413)', async () => {
    const q = await projectWithMember(admin);
    await setImageQuota(admin, { projectId: q.project.id, totalBytes: 1024 * 1024 });
    const im = await newImage(q.auth.tokenId);
    const early = await rawUpload(`/image/v2/images/${im.id}/file`, q.auth.tokenId, [randomBytes(1024)], {
      contentLength: 2 * 1024 * 1024,
    }).done;
    expect(early).toBe(413);
    const chunks = Array.from({ length: 32 }, () => randomBytes(64 * 1024));
    const during = await rawUpload(`/image/v2/images/${im.id}/file`, q.auth.tokenId, chunks).done;
    expect(during).toBe(413);
    expect((await call('GET', `/image/v2/images/${im.id}`, { token: q.auth.tokenId })).json.status).toBe('queued');
    expect(storedFiles()).not.toContain(im.id);
    await waitFor(() => tempFiles().filter((t) => t.startsWith(im.id)).length === 0, { what: 'temp file removed' });
    // Within the quota it works.
    const small = randomBytes(1000);
    expect(
      (
        await call('PUT', `/image/v2/images/${im.id}/file`, {
          token: q.auth.tokenId,
          raw: small,
          headers: { 'content-type': 'application/octet-stream' },
        })
      ).status,
    ).toBe(204);
  });

  it('isolates projects: private invisible to others, shared only to accepted members', async () => {
    const priv = await newImage(A.token, { visibility: 'private' });
    const shared = await newImage(A.token, { visibility: 'shared' });
    const listIds = async (token: string, query = '') =>
      ((await call('GET', `/image/v2/images${query}`, { token })).json.images as Json[]).map((i) => i.id);
    expect(await listIds(A.token)).toEqual(expect.arrayContaining([priv.id, shared.id]));
    expect(await listIds(B.token)).not.toContain(priv.id);
    expect(await listIds(B.token)).not.toContain(shared.id);
    expect((await call('GET', `/image/v2/images/${priv.id}`, { token: B.token })).status).toBe(404);
    expect((await call('GET', `/image/v2/images/${priv.id}/file`, { token: B.token })).status).toBe(404);
    expect((await call('DELETE', `/image/v2/images/${priv.id}`, { token: B.token })).status).toBe(404);
    // Members only on shared images.
    expect(
      (await call('POST', `/image/v2/images/${priv.id}/members`, { token: A.token, body: { member: B.projectId } }))
        .status,
    ).toBe(403);
    const add = await call('POST', `/image/v2/images/${shared.id}/members`, {
      token: A.token,
      body: { member: B.projectId },
    });
    expect(add.status).toBe(200);
    expect(add.json).toMatchObject({
      image_id: shared.id,
      member_id: B.projectId,
      status: 'pending',
      schema: '/v2/schemas/member',
    });
    expect(
      (await call('POST', `/image/v2/images/${shared.id}/members`, { token: A.token, body: { member: B.projectId } }))
        .status,
    ).toBe(409);
    expect(await listIds(B.token)).not.toContain(shared.id);
    expect(await listIds(B.token, '?member_status=pending')).toContain(shared.id);
    expect((await call('GET', `/image/v2/images/${shared.id}`, { token: B.token })).status).toBe(200);
    // The owner cannot accept for the member; the member cannot share further.
    expect(
      (
        await call('PUT', `/image/v2/images/${shared.id}/members/${B.projectId}`, {
          token: A.token,
          body: { status: 'accepted' },
        })
      ).status,
    ).toBe(403);
    expect(
      (await call('POST', `/image/v2/images/${shared.id}/members`, { token: B.token, body: { member: A.projectId } }))
        .status,
    ).toBe(403);
    const acc = await call('PUT', `/image/v2/images/${shared.id}/members/${B.projectId}`, {
      token: B.token,
      body: { status: 'accepted' },
    });
    expect(acc.json.status).toBe('accepted');
    expect(await listIds(B.token)).toContain(shared.id);
    expect((await call('GET', `/image/v2/images/${shared.id}/members`, { token: B.token })).json.members).toHaveLength(
      1,
    );
    expect(
      (
        await call('PATCH', `/image/v2/images/${shared.id}`, {
          token: B.token,
          raw: '[]',
          headers: { 'content-type': 'application/openstack-images-v2.1-json-patch' },
        })
      ).status,
    ).toBe(403);
    expect(
      (await call('DELETE', `/image/v2/images/${shared.id}/members/${B.projectId}`, { token: A.token })).status,
    ).toBe(204);
    expect((await call('GET', `/image/v2/images/${shared.id}`, { token: B.token })).status).toBe(404);
    // Admin sees everything.
    expect((await call('GET', `/image/v2/images/${priv.id}`, { token: adminToken })).status).toBe(200);
  });

  it('updates with JSON-patch, tags, deactivate/reactivate, protected delete', async () => {
    const im = await newImage(A.token, { os_distro: 'x' });
    const patch = (token: string, ops: unknown, type = 'application/openstack-images-v2.1-json-patch') =>
      call('PATCH', `/image/v2/images/${im.id}`, {
        token,
        raw: JSON.stringify(ops),
        headers: { 'content-type': type },
      });
    const r = await patch(A.token, [
      { op: 'replace', path: '/name', value: 'renamed' },
      { op: 'add', path: '/os_distro', value: 'debian' },
      { op: 'add', path: '/hw_disk_bus', value: 'virtio' },
      { op: 'replace', path: '/protected', value: true },
    ]);
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ name: 'renamed', os_distro: 'debian', hw_disk_bus: 'virtio', protected: true });
    expect((await patch(A.token, [{ op: 'remove', path: '/hw_disk_bus' }])).json.hw_disk_bus).toBeUndefined();
    expect((await patch(A.token, [{ op: 'replace', path: '/name', value: 'x' }], 'application/json')).status).toBe(415);
    expect((await patch(A.token, [{ op: 'replace', path: '/visibility', value: 'public' }])).status).toBe(403);
    expect((await patch(adminToken, [{ op: 'replace', path: '/visibility', value: 'public' }])).json.visibility).toBe(
      'public',
    );
    expect((await call('PUT', `/image/v2/images/${im.id}/tags/blue`, { token: A.token })).status).toBe(204);
    expect(
      (await call('GET', `/image/v2/images?tag=blue`, { token: B.token })).json.images.map((i: Json) => i.id),
    ).toEqual([im.id]);
    expect((await call('DELETE', `/image/v2/images/${im.id}/tags/blue`, { token: A.token })).status).toBe(204);
    expect((await call('DELETE', `/image/v2/images/${im.id}/tags/blue`, { token: A.token })).status).toBe(404);
    expect((await call('DELETE', `/image/v2/images/${im.id}`, { token: A.token })).status).toBe(403);
    await patch(A.token, [{ op: 'replace', path: '/protected', value: false }]);
    // Deactivation is for admins and needs an active image.
    expect((await call('POST', `/image/v2/images/${im.id}/actions/deactivate`, { token: adminToken })).status).toBe(
      400,
    );
    await call('PUT', `/image/v2/images/${im.id}/file`, {
      token: A.token,
      raw: Buffer.from('data'),
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect((await call('POST', `/image/v2/images/${im.id}/actions/deactivate`, { token: A.token })).status).toBe(403);
    expect((await call('POST', `/image/v2/images/${im.id}/actions/deactivate`, { token: adminToken })).status).toBe(
      204,
    );
    expect((await call('GET', `/image/v2/images/${im.id}/file`, { token: A.token })).status).toBe(403);
    expect((await call('POST', `/image/v2/images/${im.id}/actions/reactivate`, { token: adminToken })).status).toBe(
      204,
    );
    expect((await call('GET', `/image/v2/images/${im.id}/file`, { token: A.token })).buf.toString()).toBe('data');
    expect((await call('DELETE', `/image/v2/images/${im.id}`, { token: A.token })).status).toBe(204);
    expect(storedFiles()).not.toContain(im.id);
    expect((await call('GET', `/image/v2/images/${im.id}`, { token: A.token })).status).toBe(404);
  });

  it('pages with marker/limit and a next link, sorts and filters', async () => {
    const p = await projectWithMember(admin);
    const names = ['c', 'a', 'b', 'e', 'd'];
    for (const n of names) await newImage(p.auth.tokenId, { name: `${n}-${p.project.id}`, visibility: 'private' });
    const seen: string[] = [];
    let url = `/image/v2/images?limit=2&sort=name:asc&owner=${p.project.id}`;
    for (;;) {
      const r = await call('GET', url, { token: p.auth.tokenId });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({ first: '/v2/images', schema: '/v2/schemas/images' });
      seen.push(...r.json.images.map((i: Json) => String(i.name).slice(0, 1)));
      if (!r.json.next) break;
      url = `/image${r.json.next as string}`;
    }
    expect(seen).toEqual(['a', 'b', 'c', 'd', 'e']);
    const desc = await call('GET', `/image/v2/images?sort_key=name&sort_dir=desc&owner=${p.project.id}`, {
      token: p.auth.tokenId,
    });
    expect(desc.json.images.map((i: Json) => String(i.name).slice(0, 1))).toEqual(['e', 'd', 'c', 'b', 'a']);
    const byName = await call('GET', `/image/v2/images?name=b-${p.project.id}`, { token: p.auth.tokenId });
    expect(byName.json.images).toHaveLength(1);
    expect((await call('GET', '/image/v2/images?sort_key=bogus', { token: p.auth.tokenId })).status).toBe(400);
  });

  it('enforces the image-count quota on create (413)', async () => {
    const p = await projectWithMember(admin);
    await setImageQuota(admin, { projectId: p.project.id, images: 1 });
    await newImage(p.auth.tokenId);
    expect((await call('POST', '/image/v2/images', { token: p.auth.tokenId, body: { name: 'two' } })).status).toBe(413);
  });

  it('registers the test image idempotently as a public active admin image', async () => {
    const f = join(work, 'test.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', f, '16M']);
    const name = unique('stratus-test');
    const one = await registerTestImage({ path: f, name });
    const two = await registerTestImage({ path: f, name });
    expect(two.id).toBe(one.id);
    expect(one).toMatchObject({
      status: 'active',
      visibility: 'public',
      diskFormat: 'qcow2',
      owner: admin.projectId,
      checksum: md5(readFileSync(f)),
    });
    expect((await call('GET', `/image/v2/images/${one.id}`, { token: B.token })).json.status).toBe('active');
  });
});

describe('Range header parsing', () => {
  it('parses one range; refuses unsatisfiable ones', () => {
    expect(parseRange(undefined, 10)).toBeUndefined();
    expect(parseRange('bytes=0-4', 10)).toEqual({ start: 0, end: 4 });
    expect(parseRange('bytes=5-', 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange('bytes=-3', 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange('bytes=8-100', 10)).toEqual({ start: 8, end: 9 });
    expect(parseRange('bytes=10-', 10)).toBeNull();
    expect(parseRange('bytes=0-1,3-4', 10)).toBeUndefined();
  });
});
