import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import {
  expireObject,
  newRequestId,
  setObjectBackend,
  stopRevocationListener,
  withRequestContext,
  type AuthContext,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import { startTestObjectCluster, type TestObjectCluster } from '@stratus/core/objectstore/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../../../test/helpers.ts';
import { objectMount } from './index.ts';

/*
 * The Swift v1 REST layer end to end: real HTTP, real Keystone tokens, the real
 * replicated backend (three object servers on temp dirs) and the listing in the run's
 * PostgreSQL.
 */
let server: Server;
let base: string;
let cluster: TestObjectCluster;
let admin: AuthContext;
let A: { token: string; projectId: string; url: string; userId: string };
let B: { token: string; projectId: string; url: string };
let R: { token: string };

interface Res {
  status: number;
  headers: Headers;
  buf: Buffer;
  text: string;
}

async function call(
  method: string,
  path: string,
  opts: { token?: string; headers?: Record<string, string>; body?: Buffer | string } = {},
): Promise<Res> {
  const res = await fetch(path.startsWith('http') ? path : `${base}${path}`, {
    method,
    headers: { ...(opts.token ? { 'x-auth-token': opts.token } : {}), ...opts.headers },
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : new Uint8Array(opts.body) } : {}),
  });
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, buf, text: buf.toString('utf8') };
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
let n = 0;
const name = (p: string) => `${p}-${process.pid}-${++n}`;

/** A chunked PUT (no Content-Length) over node:http. */
function chunkedPut(
  path: string,
  token: string,
  chunks: Buffer[],
  headers: Record<string, string> = {},
): Promise<{ status: number; etag: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, {
      method: 'PUT',
      headers: { 'x-auth-token': token, 'transfer-encoding': 'chunked', ...headers },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, etag: res.headers.etag }));
    });
    req.on('error', reject);
    for (const c of chunks) req.write(c);
    req.end();
  });
}

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  admin = await adminContext();
  const a = await projectWithMember(admin);
  const b = await projectWithMember(admin);
  const r = await projectWithMember(admin, 'reader');
  cluster = await startTestObjectCluster();
  setObjectBackend(cluster.backend);
  A = {
    token: a.auth.tokenId,
    projectId: a.project.id,
    url: `/object-store/v1/AUTH_${a.project.id}`,
    userId: a.user.id,
  };
  B = { token: b.auth.tokenId, projectId: b.project.id, url: `/object-store/v1/AUTH_${b.project.id}` };
  // A reader of project A (same project, reader role only).
  const { assignRole } = await import('@stratus/core');
  const readerRole = await testDb().db.role.findUniqueOrThrow({ where: { name: 'reader' } });
  await assignRole(admin, { roleId: readerRole.id, userId: r.user.id, projectId: a.project.id });
  const { authenticate } = await import('@stratus/core');
  const ra = await authenticate({
    method: 'password',
    userName: r.user.name,
    password: r.password,
    scope: { projectId: a.project.id },
  });
  R = { token: ra.context.tokenId };
  server = createServer((req, res) => {
    withRequestContext({ requestId: newRequestId() }, () => {
      void objectMount.handler(req, res, new URL(req.url ?? '/', 'http://localhost'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  setObjectBackend(undefined);
  await cluster?.close();
  await stopRevocationListener();
});

describe('Swift v1 REST: accounts, containers, objects', () => {
  it('serves /info with the capabilities swift clients look for', async () => {
    const r = await call('GET', '/object-store/info');
    expect(r.status).toBe(200);
    const info = JSON.parse(r.text) as Record<string, unknown>;
    for (const k of ['swift', 'slo', 'tempurl', 'bulk_delete', 'account_quotas', 'container_quotas'])
      expect(info).toHaveProperty(k);
  });

  it('creates containers, stores and reads objects byte-identical with Swift headers', async () => {
    const c = name('c');
    const put = await call('PUT', `${A.url}/${c}`, { token: A.token });
    expect(put.status).toBe(201);
    expect(put.headers.get('x-trans-id')).toMatch(/^tx[0-9a-f]{21}-[0-9a-f]{10}$/);
    expect((await call('PUT', `${A.url}/${c}`, { token: A.token })).status).toBe(202);
    const data = randomBytes(300_000);
    const bad = await call('PUT', `${A.url}/${c}/obj`, {
      token: A.token,
      body: data,
      headers: { etag: md5(Buffer.from('other')) },
    });
    expect(bad.status).toBe(422);
    const ok = await call('PUT', `${A.url}/${c}/obj`, {
      token: A.token,
      body: data,
      headers: { etag: md5(data), 'x-object-meta-color': 'blue', 'content-type': 'application/x-test' },
    });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('etag')).toBe(md5(data));
    const get = await call('GET', `${A.url}/${c}/obj`, { token: A.token });
    expect(get.status).toBe(200);
    expect(md5(get.buf)).toBe(md5(data));
    expect(get.headers.get('content-type')).toBe('application/x-test');
    expect(get.headers.get('x-object-meta-color')).toBe('blue');
    expect(get.headers.get('accept-ranges')).toBe('bytes');
    expect(get.headers.get('last-modified')).toBeTruthy();
    expect(get.headers.get('x-timestamp')).toMatch(/^\d+\.\d{5}$/);
    const ch = await call('HEAD', `${A.url}/${c}`, { token: A.token });
    expect(ch.status).toBe(204);
    expect(ch.headers.get('x-container-object-count')).toBe('1');
    expect(ch.headers.get('x-container-bytes-used')).toBe(String(data.length));
    const ah = await call('HEAD', A.url, { token: A.token });
    expect(ah.status).toBe(204);
    expect(Number(ah.headers.get('x-account-object-count'))).toBeGreaterThanOrEqual(1);
    expect(Number(ah.headers.get('x-account-bytes-used'))).toBeGreaterThanOrEqual(data.length);
    // Overwrite: counters follow the new size, count unchanged.
    expect((await call('PUT', `${A.url}/${c}/obj`, { token: A.token, body: 'small' })).status).toBe(201);
    const ch2 = await call('HEAD', `${A.url}/${c}`, { token: A.token });
    expect(ch2.headers.get('x-container-object-count')).toBe('1');
    expect(ch2.headers.get('x-container-bytes-used')).toBe('5');
    // Not empty → 409; after the delete → 204 and the container is gone.
    const del = await call('DELETE', `${A.url}/${c}`, { token: A.token });
    expect(del.status).toBe(409);
    expect(del.text).toContain('<h1>Conflict</h1>');
    expect((await call('DELETE', `${A.url}/${c}/obj`, { token: A.token })).status).toBe(204);
    expect((await call('DELETE', `${A.url}/${c}/obj`, { token: A.token })).status).toBe(404);
    expect((await call('GET', `${A.url}/${c}/obj`, { token: A.token })).status).toBe(404);
    expect((await call('DELETE', `${A.url}/${c}`, { token: A.token })).status).toBe(204);
    expect((await call('HEAD', `${A.url}/${c}`, { token: A.token })).status).toBe(404);
  });

  it('streams chunked uploads, answers 411 without a length, serves ranges and conditional GETs', async () => {
    const c = name('c');
    await call('PUT', `${A.url}/${c}`, { token: A.token });
    const chunks = Array.from({ length: 20 }, () => randomBytes(50_000));
    const all = Buffer.concat(chunks);
    const put = await chunkedPut(`${A.url}/${c}/chunked`, A.token, chunks);
    expect(put.status).toBe(201);
    expect(put.etag).toBe(md5(all));
    const r = await call('GET', `${A.url}/${c}/chunked`, { token: A.token, headers: { range: 'bytes=100-199' } });
    expect(r.status).toBe(206);
    expect(r.headers.get('content-range')).toBe(`bytes 100-199/${all.length}`);
    expect(r.buf.equals(all.subarray(100, 200))).toBe(true);
    const suffix = await call('GET', `${A.url}/${c}/chunked`, { token: A.token, headers: { range: 'bytes=-10' } });
    expect(suffix.buf.equals(all.subarray(all.length - 10))).toBe(true);
    const bad = await call('GET', `${A.url}/${c}/chunked`, {
      token: A.token,
      headers: { range: `bytes=${all.length}-` },
    });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('content-range')).toBe(`bytes */${all.length}`);
    const etag = md5(all);
    expect(
      (await call('GET', `${A.url}/${c}/chunked`, { token: A.token, headers: { 'if-none-match': `"${etag}"` } }))
        .status,
    ).toBe(304);
    expect(
      (await call('GET', `${A.url}/${c}/chunked`, { token: A.token, headers: { 'if-match': '"nope"' } })).status,
    ).toBe(412);
    expect((await call('GET', `${A.url}/${c}/chunked`, { token: A.token, headers: { 'if-match': etag } })).status).toBe(
      200,
    );
    const lm = (await call('HEAD', `${A.url}/${c}/chunked`, { token: A.token })).headers.get('last-modified') ?? '';
    expect(
      (await call('GET', `${A.url}/${c}/chunked`, { token: A.token, headers: { 'if-modified-since': lm } })).status,
    ).toBe(304);
    expect(
      (
        await call('GET', `${A.url}/${c}/chunked`, {
          token: A.token,
          headers: { 'if-unmodified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' },
        })
      ).status,
    ).toBe(412);
    // If-None-Match: * on PUT refuses to overwrite.
    expect(
      (await call('PUT', `${A.url}/${c}/chunked`, { token: A.token, body: 'x', headers: { 'if-none-match': '*' } }))
        .status,
    ).toBe(412);
    // No Content-Length and not chunked → 411 (a raw request: HTTP clients always frame a PUT body).
    const port = (server.address() as AddressInfo).port;
    const raw411 = await new Promise<string>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1', () =>
        sock.write(
          `PUT ${A.url}/${c}/nolen HTTP/1.1\r\nHost: x\r\nX-Auth-Token: ${A.token}\r\nConnection: close\r\n\r\n`,
        ),
      );
      let got = '';
      sock.on('data', (d) => (got += d.toString()));
      sock.on('end', () => resolve(got));
      sock.on('error', reject);
    });
    expect(raw411.split('\r\n')[0]).toBe('HTTP/1.1 411 Length Required');
  });

  it('updates metadata with POST on account, container and object', async () => {
    const c = name('c');
    await call('PUT', `${A.url}/${c}`, { token: A.token, headers: { 'x-container-meta-a': '1' } });
    expect(
      (
        await call('POST', `${A.url}/${c}`, {
          token: A.token,
          headers: { 'x-container-meta-b': '2', 'x-remove-container-meta-a': 'x' },
        })
      ).status,
    ).toBe(204);
    const h = await call('HEAD', `${A.url}/${c}`, { token: A.token });
    expect(h.headers.get('x-container-meta-b')).toBe('2');
    expect(h.headers.get('x-container-meta-a')).toBeNull();
    expect((await call('POST', A.url, { token: A.token, headers: { 'x-account-meta-owner': 'team' } })).status).toBe(
      204,
    );
    expect((await call('HEAD', A.url, { token: A.token })).headers.get('x-account-meta-owner')).toBe('team');
    await call('PUT', `${A.url}/${c}/o`, { token: A.token, body: 'hello', headers: { 'x-object-meta-one': '1' } });
    const p = await call('POST', `${A.url}/${c}/o`, {
      token: A.token,
      headers: { 'x-object-meta-two': '2', 'content-type': 'text/x-new' },
    });
    expect(p.status).toBe(202);
    const oh = await call('HEAD', `${A.url}/${c}/o`, { token: A.token });
    expect(oh.headers.get('x-object-meta-two')).toBe('2');
    expect(oh.headers.get('x-object-meta-one')).toBeNull();
    expect(oh.headers.get('content-type')).toBe('text/x-new');
    expect(oh.headers.get('content-length')).toBe('5');
    expect((await call('POST', `${A.url}/${c}/missing`, { token: A.token })).status).toBe(404);
    const tooLong = await call('POST', `${A.url}/${c}/o`, {
      token: A.token,
      headers: { [`x-object-meta-${'k'.repeat(129)}`]: 'v' },
    });
    expect(tooLong.status).toBe(400);
  });

  it('lists with prefix, delimiter, markers, limit, reverse in plain, json and xml', async () => {
    const c = name('list');
    await call('PUT', `${A.url}/${c}`, { token: A.token });
    const names = ['a.txt', 'b/1', 'b/2', 'b/c/3', 'b0', 'c', 'photos/2024/x.jpg', 'photos/2025/y.jpg', 'zz'];
    for (const o of names) await call('PUT', `${A.url}/${c}/${o}`, { token: A.token, body: Buffer.from(o) });
    const plain = await call('GET', `${A.url}/${c}`, { token: A.token });
    expect(plain.status).toBe(200);
    expect(plain.text).toBe(`${names.join('\n')}\n`);
    const list = async (qs: string) =>
      (await call('GET', `${A.url}/${c}?${qs}`, { token: A.token })).text.split('\n').filter(Boolean);
    expect(await list('delimiter=/')).toEqual(['a.txt', 'b/', 'b0', 'c', 'photos/', 'zz']);
    expect(await list('prefix=b/&delimiter=/')).toEqual(['b/1', 'b/2', 'b/c/']);
    expect(await list('prefix=photos/&delimiter=/')).toEqual(['photos/2024/', 'photos/2025/']);
    expect(await list('marker=b/2&limit=3')).toEqual(['b/c/3', 'b0', 'c']);
    expect(await list('marker=b&end_marker=c')).toEqual(['b/1', 'b/2', 'b/c/3', 'b0']);
    expect(await list('reverse=true&limit=2')).toEqual(['zz', 'photos/2025/y.jpg']);
    expect(await list('reverse=true&delimiter=/')).toEqual(['zz', 'photos/', 'c', 'b0', 'b/', 'a.txt']);
    expect(await list('delimiter=/&marker=b/&limit=2')).toEqual(['b0', 'c']);
    // One character: a code point (an emoji is one), never two.
    const bad = await call('GET', `${A.url}/${c}?delimiter=ab`, { token: A.token });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Bad delimiter');
    expect(await list(`prefix=photos&delimiter=${encodeURIComponent('😀')}`)).toEqual([
      'photos/2024/x.jpg',
      'photos/2025/y.jpg',
    ]);
    const json = await call('GET', `${A.url}/${c}?format=json&delimiter=/&prefix=b`, { token: A.token });
    expect(json.headers.get('content-type')).toContain('application/json');
    const parsed = JSON.parse(json.text) as Array<Record<string, unknown>>;
    expect(parsed[0]).toEqual({ subdir: 'b/' });
    expect(parsed[1]).toMatchObject({
      name: 'b0',
      bytes: 2,
      hash: md5(Buffer.from('b0')),
      content_type: 'application/octet-stream',
    });
    expect(String(parsed[1]?.last_modified)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    const xml = await call('GET', `${A.url}/${c}?format=xml&prefix=a`, { token: A.token });
    expect(xml.text).toContain(`<container name="${c}"><object><name>a.txt</name>`);
    expect(xml.text).toContain('<content_type>text/plain</content_type>');
    expect((await call('GET', `${A.url}/${c}?prefix=nothing`, { token: A.token })).status).toBe(204);
    expect((await call('GET', `${A.url}/${c}?format=json&prefix=nothing`, { token: A.token })).text).toBe('[]');
    expect((await call('GET', `${A.url}/${c}?limit=10001`, { token: A.token })).status).toBe(412);
    const acc = JSON.parse((await call('GET', `${A.url}?format=json&prefix=${c}`, { token: A.token })).text) as Array<
      Record<string, unknown>
    >;
    expect(acc).toEqual([expect.objectContaining({ name: c, count: names.length })]);
  });
});

describe('Swift v1 REST: access', () => {
  it('isolates projects: another project gets 403, no token 401, a reader reads but cannot write', async () => {
    const c = name('private');
    await call('PUT', `${A.url}/${c}`, { token: A.token });
    await call('PUT', `${A.url}/${c}/secret`, { token: A.token, body: 'secret' });
    const other = await call('GET', `${A.url}/${c}/secret`, { token: B.token });
    expect(other.status).toBe(403);
    expect(other.text).toContain('<h1>Forbidden</h1>');
    expect((await call('GET', `${A.url}/${c}`, { token: B.token })).status).toBe(403);
    expect((await call('PUT', `${A.url}/${c}/x`, { token: B.token, body: 'x' })).status).toBe(403);
    expect((await call('GET', A.url, { token: B.token })).status).toBe(403);
    expect((await call('GET', `${A.url}/${c}/secret`)).status).toBe(401);
    expect((await call('GET', `${A.url}/${c}/secret`, { token: 'not-a-token' })).status).toBe(401);
    const byReader = await call('GET', `${A.url}/${c}/secret`, { token: R.token });
    expect(byReader.status).toBe(200);
    expect(byReader.text).toBe('secret');
    expect((await call('PUT', `${A.url}/${c}/y`, { token: R.token, body: 'y' })).status).toBe(403);
    expect(
      (await call('POST', `${A.url}/${c}`, { token: R.token, headers: { 'x-container-read': '.r:*' } })).status,
    ).toBe(403);
  });

  it('makes reads public with .r:* (listing only with .rlistings) and grants by project ACL', async () => {
    const c = name('public');
    await call('PUT', `${A.url}/${c}`, { token: A.token, headers: { 'x-container-read': '.r:*' } });
    await call('PUT', `${A.url}/${c}/page.html`, { token: A.token, body: '<p>hi</p>' });
    const pub = await call('GET', `${A.url}/${c}/page.html`);
    expect(pub.status).toBe(200);
    expect(pub.text).toBe('<p>hi</p>');
    expect((await call('GET', `${A.url}/${c}`)).status).toBe(401);
    expect((await call('PUT', `${A.url}/${c}/evil`, { body: 'x' })).status).toBe(401);
    await call('POST', `${A.url}/${c}`, { token: A.token, headers: { 'x-container-read': '.r:*,.rlistings' } });
    expect((await call('GET', `${A.url}/${c}`)).text).toBe('page.html\n');
    // ACLs are shown to the owner only.
    expect((await call('HEAD', `${A.url}/${c}`, { token: A.token })).headers.get('x-container-read')).toBe(
      '.r:*,.rlistings',
    );
    expect((await call('HEAD', `${A.url}/${c}`)).headers.get('x-container-read')).toBeNull();
    // Project ACLs: B may read (and list), then write.
    const shared = name('shared');
    await call('PUT', `${A.url}/${shared}`, { token: A.token, headers: { 'x-container-read': `${B.projectId}:*` } });
    await call('PUT', `${A.url}/${shared}/doc`, { token: A.token, body: 'doc' });
    expect((await call('GET', `${A.url}/${shared}/doc`, { token: B.token })).text).toBe('doc');
    expect((await call('GET', `${A.url}/${shared}`, { token: B.token })).text).toBe('doc\n');
    expect((await call('PUT', `${A.url}/${shared}/new`, { token: B.token, body: 'n' })).status).toBe(403);
    await call('POST', `${A.url}/${shared}`, { token: A.token, headers: { 'x-container-write': B.projectId } });
    expect((await call('PUT', `${A.url}/${shared}/new`, { token: B.token, body: 'n' })).status).toBe(201);
    expect((await call('DELETE', `${A.url}/${shared}/new`, { token: B.token })).status).toBe(204);
    // Grantees cannot change the container itself.
    expect(
      (await call('POST', `${A.url}/${shared}`, { token: B.token, headers: { 'x-container-read': '.r:*' } })).status,
    ).toBe(403);
    expect(
      (await call('PUT', `${A.url}/${shared}`, { token: A.token, headers: { 'x-container-write': '.r:*' } })).status,
    ).toBe(400);
  });

  it('serves temp URLs signed with the account or container key (sha1, sha256, sha512, prefix)', async () => {
    const c = name('temp');
    await call('PUT', `${A.url}/${c}`, { token: A.token, headers: { 'x-container-meta-temp-url-key': 'ckey' } });
    await call('PUT', `${A.url}/${c}/dir/file.bin`, { token: A.token, body: 'temp data' });
    await call('POST', A.url, { token: A.token, headers: { 'x-account-meta-temp-url-key': 'akey' } });
    const path = `${A.url}/${c}/dir/file.bin`;
    const expires = Math.floor(Date.now() / 1000) + 300;
    const sign = (alg: string, key: string, method: string, p: string, exp = expires) =>
      createHmac(alg, key).update(`${method}\n${exp}\n${p}`).digest('hex');
    const ok = await call(
      'GET',
      `${path}?temp_url_sig=${sign('sha256', 'akey', 'GET', path)}&temp_url_expires=${expires}`,
    );
    expect(ok.status).toBe(200);
    expect(ok.text).toBe('temp data');
    const viaV1 = sign('sha1', 'ckey', 'GET', path.replace('/object-store', ''));
    expect((await call('GET', `${path}?temp_url_sig=${viaV1}&temp_url_expires=${expires}`)).status).toBe(200);
    const b64 = createHmac('sha512', 'akey').update(`GET\n${expires}\n${path}`).digest('base64url');
    expect((await call('GET', `${path}?temp_url_sig=sha512:${b64}&temp_url_expires=${expires}`)).status).toBe(200);
    expect(
      (await call('HEAD', `${path}?temp_url_sig=${sign('sha256', 'akey', 'GET', path)}&temp_url_expires=${expires}`))
        .status,
    ).toBe(200);
    // Wrong method, wrong key, expired, another object: 401.
    expect(
      (
        await call('PUT', `${path}?temp_url_sig=${sign('sha256', 'akey', 'GET', path)}&temp_url_expires=${expires}`, {
          body: 'x',
        })
      ).status,
    ).toBe(401);
    expect(
      (await call('GET', `${path}?temp_url_sig=${sign('sha256', 'wrong', 'GET', path)}&temp_url_expires=${expires}`))
        .status,
    ).toBe(401);
    const past = Math.floor(Date.now() / 1000) - 5;
    expect(
      (await call('GET', `${path}?temp_url_sig=${sign('sha256', 'akey', 'GET', path, past)}&temp_url_expires=${past}`))
        .status,
    ).toBe(401);
    // A PUT temp URL uploads; a prefix temp URL covers every object under it.
    const up = `${A.url}/${c}/upload.txt`;
    expect(
      (
        await call('PUT', `${up}?temp_url_sig=${sign('sha256', 'akey', 'PUT', up)}&temp_url_expires=${expires}`, {
          body: 'uploaded',
        })
      ).status,
    ).toBe(201);
    expect((await call('GET', up, { token: A.token })).text).toBe('uploaded');
    const pfx = `prefix:${A.url}/${c}/dir/`;
    const psig = createHmac('sha256', 'akey').update(`GET\n${expires}\n${pfx}`).digest('hex');
    expect(
      (await call('GET', `${path}?temp_url_sig=${psig}&temp_url_expires=${expires}&temp_url_prefix=dir/`)).status,
    ).toBe(200);
    expect(
      (await call('GET', `${up}?temp_url_sig=${psig}&temp_url_expires=${expires}&temp_url_prefix=dir/`)).status,
    ).toBe(401);
    // Owners see the key; the filename parameter sets Content-Disposition.
    expect((await call('HEAD', A.url, { token: A.token })).headers.get('x-account-meta-temp-url-key')).toBe('akey');
    const dl = await call(
      'GET',
      `${path}?temp_url_sig=${sign('sha256', 'akey', 'GET', path)}&temp_url_expires=${expires}&filename=report.bin`,
    );
    expect(dl.headers.get('content-disposition')).toContain('attachment; filename="report.bin"');
  });
});

describe('Swift v1 REST: copy, expiry, large objects, bulk delete, quotas', () => {
  it('copies with COPY and X-Copy-From, merging metadata', async () => {
    const c = name('copy');
    await call('PUT', `${A.url}/${c}`, { token: A.token });
    await call('PUT', `${A.url}/${c}/src`, {
      token: A.token,
      body: 'copy me',
      headers: { 'x-object-meta-a': '1', 'content-type': 'text/x-src' },
    });
    const cp = await call('COPY', `${A.url}/${c}/src`, {
      token: A.token,
      headers: { destination: `/${c}/dst1`, 'x-object-meta-b': '2' },
    });
    expect(cp.status).toBe(201);
    expect(cp.headers.get('x-copied-from')).toBe(`${c}/src`);
    const d1 = await call('GET', `${A.url}/${c}/dst1`, { token: A.token });
    expect(d1.text).toBe('copy me');
    expect(d1.headers.get('x-object-meta-a')).toBe('1');
    expect(d1.headers.get('x-object-meta-b')).toBe('2');
    expect(d1.headers.get('content-type')).toBe('text/x-src');
    const put = await call('PUT', `${A.url}/${c}/dst2`, {
      token: A.token,
      headers: { 'x-copy-from': `${c}/src`, 'x-fresh-metadata': 'true', 'content-length': '0' },
    });
    expect(put.status).toBe(201);
    const d2 = await call('GET', `${A.url}/${c}/dst2`, { token: A.token });
    expect(d2.text).toBe('copy me');
    expect(d2.headers.get('x-object-meta-a')).toBeNull();
    expect(
      (await call('COPY', `${A.url}/${c}/nope`, { token: A.token, headers: { destination: `${c}/x` } })).status,
    ).toBe(404);
    expect((await call('COPY', `${A.url}/${c}/src`, { token: A.token })).status).toBe(412);
    // Copy into another project's container: refused.
    const bc = name('bc');
    await call('PUT', `${B.url}/${bc}`, { token: B.token });
    expect(
      (
        await call('COPY', `${A.url}/${c}/src`, {
          token: A.token,
          headers: { destination: `${bc}/x`, 'destination-account': `AUTH_${B.projectId}` },
        })
      ).status,
    ).toBe(403);
  });

  it('expires objects: 404 at once after X-Delete-At, the expirer removes the listing', async () => {
    const c = name('exp');
    await call('PUT', `${A.url}/${c}`, { token: A.token });
    expect(
      (await call('PUT', `${A.url}/${c}/past`, { token: A.token, body: 'x', headers: { 'x-delete-at': '1000' } }))
        .status,
    ).toBe(400);
    const at = Math.floor(Date.now() / 1000) + 2;
    const put = await call('PUT', `${A.url}/${c}/soon`, {
      token: A.token,
      body: 'bye',
      headers: { 'x-delete-at': String(at) },
    });
    expect(put.status).toBe(201);
    expect((await call('HEAD', `${A.url}/${c}/soon`, { token: A.token })).headers.get('x-delete-at')).toBe(String(at));
    await call('PUT', `${A.url}/${c}/later`, { token: A.token, body: 'stay', headers: { 'x-delete-after': '3600' } });
    await waitFor(async () => (await call('GET', `${A.url}/${c}/soon`, { token: A.token })).status === 404, {
      timeoutMs: 15_000,
      what: 'expiry',
    });
    expect((await call('GET', `${A.url}/${c}?format=json`, { token: A.token })).text).not.toContain('"soon"');
    // The job the queue runs at X-Delete-At (here called directly): deletes and uncounts.
    expect(await expireObject({ account: `AUTH_${A.projectId}`, container: c, object: 'soon', deleteAt: at })).toBe(
      'deleted',
    );
    const h = await call('HEAD', `${A.url}/${c}`, { token: A.token });
    expect(h.headers.get('x-container-object-count')).toBe('1');
    const job = await testDb().db.$queryRaw<Array<{ n: bigint }>>`
      SELECT count(*) AS n FROM graphile_worker.jobs WHERE task_identifier = 'objectstore.expire' AND key LIKE ${`%/${c}/later`}`;
    expect(Number(job[0]?.n)).toBe(1);
    // A stale job (the object got a new X-Delete-At) does nothing.
    expect(await expireObject({ account: `AUTH_${A.projectId}`, container: c, object: 'later', deleteAt: at })).toBe(
      'skipped',
    );
  });

  it('assembles DLOs and SLOs, validates SLO segments, deletes an SLO with its segments', async () => {
    const c = name('lo');
    const segc = `${c}_segments`;
    await call('PUT', `${A.url}/${c}`, { token: A.token });
    await call('PUT', `${A.url}/${segc}`, { token: A.token });
    const parts = [randomBytes(70_000), randomBytes(70_000), randomBytes(1234)];
    for (const [i, p] of parts.entries())
      await call('PUT', `${A.url}/${segc}/big/${String(i).padStart(8, '0')}`, { token: A.token, body: p });
    const all = Buffer.concat(parts);
    // DLO
    expect(
      (
        await call('PUT', `${A.url}/${c}/dlo`, {
          token: A.token,
          body: '',
          headers: { 'x-object-manifest': `${segc}/big/` },
        })
      ).status,
    ).toBe(201);
    const dlo = await call('GET', `${A.url}/${c}/dlo`, { token: A.token });
    expect(dlo.buf.equals(all)).toBe(true);
    expect(dlo.headers.get('etag')).toBe(`"${md5(Buffer.from(parts.map(md5).join('')))}"`);
    expect(dlo.headers.get('x-object-manifest')).toBe(`${segc}/big/`);
    const dr = await call('GET', `${A.url}/${c}/dlo`, { token: A.token, headers: { range: 'bytes=69990-70009' } });
    expect(dr.status).toBe(206);
    expect(dr.buf.equals(all.subarray(69990, 70010))).toBe(true);
    // SLO
    const manifest = parts.map((p, i) => ({
      path: `/${segc}/big/${String(i).padStart(8, '0')}`,
      etag: md5(p),
      size_bytes: p.length,
    }));
    const sloPut = await call('PUT', `${A.url}/${c}/slo?multipart-manifest=put`, {
      token: A.token,
      body: JSON.stringify(manifest),
    });
    expect(sloPut.status).toBe(201);
    const sloEtag = md5(Buffer.from(parts.map(md5).join('')));
    expect(sloPut.headers.get('etag')).toBe(`"${sloEtag}"`);
    const slo = await call('GET', `${A.url}/${c}/slo`, { token: A.token });
    expect(slo.buf.equals(all)).toBe(true);
    expect(slo.headers.get('x-static-large-object')).toBe('True');
    const sh = await call('HEAD', `${A.url}/${c}/slo`, { token: A.token });
    expect(sh.headers.get('content-length')).toBe(String(all.length));
    const sr = await call('GET', `${A.url}/${c}/slo`, { token: A.token, headers: { range: 'bytes=139999-140100' } });
    expect(sr.buf.equals(all.subarray(139999, 140101))).toBe(true);
    const raw = JSON.parse(
      (await call('GET', `${A.url}/${c}/slo?multipart-manifest=get`, { token: A.token })).text,
    ) as Array<{ name: string; bytes: number }>;
    expect(raw.map((s) => s.bytes)).toEqual(parts.map((p) => p.length));
    const listing = JSON.parse(
      (await call('GET', `${A.url}/${c}?format=json&prefix=slo`, { token: A.token })).text,
    ) as Array<{ bytes: number; hash: string }>;
    expect(listing[0]).toMatchObject({ bytes: all.length, hash: sloEtag });
    // Bad manifests: missing segment, wrong etag, wrong size → 400 listing every error.
    const bad = await call('PUT', `${A.url}/${c}/bad?multipart-manifest=put`, {
      token: A.token,
      body: JSON.stringify([
        { path: `/${segc}/missing`, etag: null, size_bytes: null },
        { ...manifest[0], etag: md5(Buffer.from('x')) },
        { ...manifest[1], size_bytes: 1 },
      ]),
    });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('404 Not Found');
    expect(bad.text).toContain('Etag Mismatch');
    expect(bad.text).toContain('Size Mismatch');
    expect(
      (await call('PUT', `${A.url}/${c}/bad?multipart-manifest=put`, { token: A.token, body: 'not json' })).status,
    ).toBe(400);
    // multipart-manifest=delete removes the segments and the manifest.
    const del = await call('DELETE', `${A.url}/${c}/slo?multipart-manifest=delete`, {
      token: A.token,
      headers: { accept: 'application/json' },
    });
    expect(del.status).toBe(200);
    expect(JSON.parse(del.text)).toMatchObject({ 'Number Deleted': 4, 'Response Status': '200 OK' });
    expect((await call('GET', `${A.url}/${c}/slo`, { token: A.token })).status).toBe(404);
    expect((await call('GET', `${A.url}/${segc}/big/00000000`, { token: A.token })).status).toBe(404);
    // The DLO now has no segments: it reads as empty.
    expect((await call('GET', `${A.url}/${c}/dlo`, { token: A.token })).buf.length).toBe(0);
  });

  it('bulk-deletes objects and containers', async () => {
    const c = name('bulk');
    await call('PUT', `${A.url}/${c}`, { token: A.token });
    for (const o of ['a', 'b c', 'd/e'])
      await call('PUT', `${A.url}/${c}/${encodeURIComponent(o)}`, { token: A.token, body: o });
    const body = [`/${c}/a`, `/${c}/${encodeURIComponent('b c')}`, `/${c}/d/e`, `/${c}/missing`, `/${c}`].join('\n');
    const r = await call('POST', `${A.url}?bulk-delete`, {
      token: A.token,
      body,
      headers: { 'content-type': 'text/plain', accept: 'application/json' },
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({
      'Number Deleted': 4,
      'Number Not Found': 1,
      'Response Status': '200 OK',
      'Response Body': '',
      Errors: [],
    });
    expect((await call('HEAD', `${A.url}/${c}`, { token: A.token })).status).toBe(404);
    const other = await call('POST', `${A.url}?bulk-delete`, {
      token: B.token,
      body: `/${c}/a`,
      headers: { accept: 'application/json' },
    });
    expect(JSON.parse(other.text)['Number Not Found'] + JSON.parse(other.text).Errors.length).toBe(1);
  });

  it('enforces container quotas under parallel uploads and account quotas set by the cloud admin', async () => {
    const c = name('quota');
    await call('PUT', `${A.url}/${c}`, {
      token: A.token,
      headers: { 'x-container-meta-quota-count': '5', 'x-container-meta-quota-bytes': '1000' },
    });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        call('PUT', `${A.url}/${c}/o${i}`, { token: A.token, body: 'x'.repeat(10) }),
      ),
    );
    const codes = results.map((r) => r.status);
    expect(codes.filter((s) => s === 201)).toHaveLength(5);
    expect(codes.filter((s) => s === 413)).toHaveLength(7);
    expect((await call('HEAD', `${A.url}/${c}`, { token: A.token })).headers.get('x-container-object-count')).toBe('5');
    // Overwriting an existing object does not add to the count (which five won the race varies).
    const stored = codes.indexOf(201);
    expect((await call('PUT', `${A.url}/${c}/o${stored}`, { token: A.token, body: 'y' })).status).toBe(201);
    const c2 = name('bytes');
    await call('PUT', `${A.url}/${c2}`, { token: A.token, headers: { 'x-container-meta-quota-bytes': '100' } });
    expect((await call('PUT', `${A.url}/${c2}/big`, { token: A.token, body: 'x'.repeat(101) })).status).toBe(413);
    const chunked = await chunkedPut(`${A.url}/${c2}/chunked`, A.token, [Buffer.alloc(60), Buffer.alloc(60)]);
    expect(chunked.status).toBe(413);
    expect((await call('PUT', `${A.url}/${c2}/fits`, { token: A.token, body: 'x'.repeat(100) })).status).toBe(201);
    expect((await call('HEAD', `${A.url}/${c2}`, { token: A.token })).headers.get('x-container-bytes-used')).toBe(
      '100',
    );
    // Account quota: members may not set it; the cloud admin may.
    expect(
      (await call('POST', B.url, { token: B.token, headers: { 'x-account-meta-quota-bytes': '10' } })).status,
    ).toBe(403);
    expect(
      (await call('POST', B.url, { token: admin.tokenId, headers: { 'x-account-meta-quota-bytes': '20' } })).status,
    ).toBe(204);
    const bc = name('bq');
    await call('PUT', `${B.url}/${bc}`, { token: B.token });
    expect((await call('PUT', `${B.url}/${bc}/a`, { token: B.token, body: 'x'.repeat(15) })).status).toBe(201);
    const over = await call('PUT', `${B.url}/${bc}/b`, { token: B.token, body: 'x'.repeat(10) });
    expect(over.status).toBe(413);
    expect(over.text).toBe('Upload exceeds quota.');
    expect((await call('HEAD', B.url, { token: B.token })).headers.get('x-account-meta-quota-bytes')).toBe('20');
  });
});
