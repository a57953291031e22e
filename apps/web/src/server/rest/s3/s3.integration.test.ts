import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AuthContext,
  canonicalRequest,
  newRequestId,
  setObjectBackend,
  signingKey,
  sigv4Signature,
  stopRevocationListener,
  stringToSign,
  uriEncode,
  withRequestContext,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import { startTestObjectCluster, type TestObjectCluster } from '@stratus/core/objectstore/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../../../test/helpers.ts';
import { identityMount } from '../identity/index.ts';
import { objectMount } from '../object/index.ts';
import { s3Mount } from './index.ts';

/*
 * The S3 API end to end: EC2 credentials made through Keystone's OS-EC2 API, SigV4-signed
 * requests over real HTTP, the real replicated backend (three object servers on temp
 * dirs) and the listings in the run's PostgreSQL; the Swift API sees the same data.
 */
let server: Server;
let base: string;
let host: string;
let cluster: TestObjectCluster;
let admin: AuthContext;
interface Creds {
  access: string;
  secret: string;
}
let A: { token: string; projectId: string; userId: string; creds: Creds };
let B: { token: string; projectId: string; userId: string; creds: Creds };

interface Res {
  status: number;
  headers: Headers;
  buf: Buffer;
  text: string;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
let n = 0;
const bucketName = (p: string) => `${p}-${process.pid}-${++n}-${randomBytes(3).toString('hex')}`;

function amzNow(): string {
  return new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function splitQuery(q: string): Array<[string, string]> {
  return q
    ? q.split('&').map((kv) => {
        const i = kv.indexOf('=');
        return i < 0
          ? [decodeURIComponent(kv), '']
          : [decodeURIComponent(kv.slice(0, i)), decodeURIComponent(kv.slice(i + 1))];
      })
    : [];
}

/** A SigV4 header-signed request; `payload` chooses the x-amz-content-sha256. */
async function s3(
  method: string,
  pathAndQuery: string,
  creds: Creds | null,
  opts: { body?: Buffer | string; headers?: Record<string, string>; payload?: 'signed' | 'unsigned' | string } = {},
): Promise<Res> {
  const body = opts.body === undefined ? undefined : Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(opts.body);
  const [path = '', query = ''] = pathAndQuery.split('?');
  const headers: Record<string, string> = { ...opts.headers };
  if (creds) {
    const date = amzNow();
    const payloadHash =
      opts.payload === 'unsigned'
        ? 'UNSIGNED-PAYLOAD'
        : opts.payload && opts.payload !== 'signed'
          ? opts.payload
          : sha256(body ?? '');
    headers['x-amz-date'] = date;
    headers['x-amz-content-sha256'] = payloadHash;
    const lower: Record<string, string> = { host };
    for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
    const signed = Object.keys(lower)
      .filter((k) => k === 'host' || k.startsWith('x-amz-') || k === 'content-type' || k === 'content-md5')
      .sort();
    const cr = canonicalRequest({
      method,
      canonicalUri: path,
      query: splitQuery(query),
      headers: lower,
      signedHeaders: signed,
      payloadHash,
    });
    const scope = `${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const sig = sigv4Signature(
      signingKey(creds.secret, date.slice(0, 8), 'us-east-1', 's3'),
      stringToSign(date, scope, cr),
    );
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${creds.access}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${sig}`;
  }
  const res = await fetch(`${base}${pathAndQuery}`, {
    method,
    headers,
    ...(body !== undefined ? { body: new Uint8Array(body) } : {}),
  });
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, buf, text: buf.toString('utf8') };
}

const code = (r: Res) => /<Code>([^<]*)<\/Code>/.exec(r.text)?.[1];
const keyPath = (bucket: string, key: string) => `/s3/${bucket}/${uriEncode(key, true)}`;

async function json(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'x-auth-token': token, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

async function ec2Create(token: string, userId: string, projectId: string): Promise<Creds> {
  const r = await json('POST', `/identity/v3/users/${userId}/credentials/OS-EC2`, token, { tenant_id: projectId });
  expect(r.status).toBe(201);
  const c = r.body.credential as { access: string; secret: string; tenant_id: string };
  expect(c.tenant_id).toBe(projectId);
  return { access: c.access, secret: c.secret };
}

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  admin = await adminContext();
  const a = await projectWithMember(admin);
  const b = await projectWithMember(admin);
  cluster = await startTestObjectCluster();
  setObjectBackend(cluster.backend);
  const mounts = [identityMount, objectMount, s3Mount];
  server = createServer((req, res) => {
    withRequestContext({ requestId: newRequestId() }, () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const m = mounts.find((x) => url.pathname === x.prefix || url.pathname.startsWith(`${x.prefix}/`));
      if (!m) {
        res.writeHead(404).end();
        return;
      }
      void m.handler(req, res, url);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
  host = `127.0.0.1:${port}`;
  A = {
    token: a.auth.tokenId,
    projectId: a.project.id,
    userId: a.user.id,
    creds: await ec2Create(a.auth.tokenId, a.user.id, a.project.id),
  };
  B = {
    token: b.auth.tokenId,
    projectId: b.project.id,
    userId: b.user.id,
    creds: await ec2Create(b.auth.tokenId, b.user.id, b.project.id),
  };
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  setObjectBackend(undefined);
  await cluster?.close();
  await stopRevocationListener();
});

describe('EC2 credentials (Keystone OS-EC2 and /v3/credentials)', () => {
  it('lists, shows and deletes; another user cannot see them; the secret is not stored in clear', async () => {
    const extra = await ec2Create(A.token, A.userId, A.projectId);
    const list = await json('GET', `/identity/v3/users/${A.userId}/credentials/OS-EC2`, A.token);
    expect(list.status).toBe(200);
    const accesses = (list.body.credentials as Array<{ access: string }>).map((c) => c.access);
    expect(accesses).toContain(extra.access);
    expect(accesses).toContain(A.creds.access);
    const other = await json('GET', `/identity/v3/users/${A.userId}/credentials/OS-EC2`, B.token);
    expect(other.status).toBe(403);
    // A project the user has no role on is refused.
    const noRole = await json('POST', `/identity/v3/users/${A.userId}/credentials/OS-EC2`, A.token, {
      tenant_id: B.projectId,
    });
    expect(noRole.status).toBe(403);
    const row = await testDb().db.ec2Credential.findUniqueOrThrow({ where: { access: extra.access } });
    expect(row.secretEncrypted).not.toContain(extra.secret);
    const generic = await json('GET', '/identity/v3/credentials?type=ec2', A.token);
    const blobs = (generic.body.credentials as Array<{ blob: string; type: string }>).map(
      (c) => JSON.parse(c.blob) as { access: string },
    );
    expect(blobs.map((x) => x.access)).toContain(extra.access);
    const del = await json('DELETE', `/identity/v3/users/${A.userId}/credentials/OS-EC2/${extra.access}`, A.token);
    expect(del.status).toBe(204);
    // A deleted credential no longer signs.
    const r = await s3('GET', '/s3/', extra);
    expect(r.status).toBe(403);
    expect(code(r)).toBe('InvalidAccessKeyId');
    // /v3/credentials with a chosen access key and secret.
    const made = await json('POST', '/identity/v3/credentials', A.token, {
      credential: {
        type: 'ec2',
        user_id: A.userId,
        project_id: A.projectId,
        blob: JSON.stringify({ access: `acc${process.pid}`, secret: 'chosen-secret-123' }),
      },
    });
    expect(made.status).toBe(201);
    const ok = await s3('GET', '/s3/', { access: `acc${process.pid}`, secret: 'chosen-secret-123' });
    expect(ok.status).toBe(200);
  });
});

describe('S3 API: buckets and objects', () => {
  it('creates, lists, heads and deletes buckets; the bucket is a Swift container', async () => {
    const bucket = bucketName('bkt');
    expect((await s3('PUT', `/s3/${bucket}`, A.creds)).status).toBe(200);
    const again = await s3('PUT', `/s3/${bucket}`, A.creds);
    expect([again.status, code(again)]).toEqual([409, 'BucketAlreadyOwnedByYou']);
    const taken = await s3('PUT', `/s3/${bucket}`, B.creds);
    expect([taken.status, code(taken)]).toEqual([409, 'BucketAlreadyExists']);
    const bad = await s3('PUT', '/s3/Bad_Name', A.creds);
    expect([bad.status, code(bad)]).toEqual([400, 'InvalidBucketName']);
    const list = await s3('GET', '/s3/', A.creds);
    expect(list.status).toBe(200);
    expect(list.text).toContain(`<Name>${bucket}</Name>`);
    expect(list.text).toContain(`<ID>${A.projectId}</ID>`);
    expect((await s3('HEAD', `/s3/${bucket}`, A.creds)).status).toBe(200);
    const swift = await fetch(`${base}/object-store/v1/AUTH_${A.projectId}/${bucket}`, {
      method: 'HEAD',
      headers: { 'x-auth-token': A.token },
    });
    expect(swift.status).toBe(204);
    expect((await s3('DELETE', `/s3/${bucket}`, A.creds)).status).toBe(204);
    const gone = await s3('GET', `/s3/${bucket}?list-type=2`, A.creds);
    expect([gone.status, code(gone)]).toEqual([404, 'NoSuchBucket']);
  });

  it('DeleteObjects: each key answered Deleted (or left out when Quiet); a bad body or a missing bucket refused', async () => {
    const bucket = bucketName('multi');
    expect((await s3('PUT', `/s3/${bucket}`, A.creds)).status).toBe(200);
    for (const k of ['a', 'b&c'])
      expect((await s3('PUT', keyPath(bucket, k), A.creds, { body: 'x' })).status).toBe(200);
    const body = (keys: string[], quiet = false) =>
      `<Delete>${quiet ? '<Quiet>true</Quiet>' : ''}${keys.map((k) => `<Object><Key>${k}</Key></Object>`).join('')}</Delete>`;
    const r = await s3('POST', `/s3/${bucket}?delete`, A.creds, { body: body(['a', 'b&amp;c', 'missing']) });
    expect(r.status).toBe(200);
    expect(r.text).toContain('<Deleted><Key>a</Key></Deleted>');
    expect(r.text).toContain('<Deleted><Key>b&amp;c</Key></Deleted>');
    // S3 answers a key that was not there as deleted too.
    expect(r.text).toContain('<Deleted><Key>missing</Key></Deleted>');
    expect(r.text).not.toContain('<Error>');
    expect((await s3('HEAD', keyPath(bucket, 'a'), A.creds)).status).toBe(404);
    const quiet = await s3('POST', `/s3/${bucket}?delete`, A.creds, { body: body(['a'], true) });
    expect(quiet.status).toBe(200);
    expect(quiet.text).not.toContain('<Deleted>');
    const empty = await s3('POST', `/s3/${bucket}?delete`, A.creds, { body: '<Delete></Delete>' });
    expect([empty.status, code(empty)]).toEqual([400, 'MalformedXML']);
    const tooMany = Array.from({ length: 1001 }, (_, i) => `k${i}`);
    const big = await s3('POST', `/s3/${bucket}?delete`, A.creds, { body: body(tooMany) });
    expect([big.status, code(big)]).toEqual([400, 'MalformedXML']);
    const noBucket = await s3('POST', `/s3/${bucketName('none')}?delete`, A.creds, { body: body(['a']) });
    expect([noBucket.status, code(noBucket)]).toEqual([404, 'NoSuchBucket']);
    expect((await s3('DELETE', `/s3/${bucket}`, A.creds)).status).toBe(204);
  });

  it('puts, gets (whole, Range), heads and deletes objects; Swift sees the same bytes', async () => {
    const bucket = bucketName('obj');
    expect((await s3('PUT', `/s3/${bucket}`, A.creds)).status).toBe(200);
    const data = randomBytes(300_000);
    const key = 'dir/some file+é.bin';
    const put = await s3('PUT', keyPath(bucket, key), A.creds, {
      body: data,
      headers: { 'content-type': 'application/x-test', 'x-amz-meta-color': 'blue' },
    });
    expect(put.status).toBe(200);
    expect(put.headers.get('etag')).toBe(`"${md5(data)}"`);
    const get = await s3('GET', keyPath(bucket, key), A.creds);
    expect(get.status).toBe(200);
    expect(get.buf.equals(data)).toBe(true);
    expect(get.headers.get('content-type')).toBe('application/x-test');
    expect(get.headers.get('x-amz-meta-color')).toBe('blue');
    const range = await s3('GET', keyPath(bucket, key), A.creds, { headers: { range: 'bytes=100-199' } });
    expect(range.status).toBe(206);
    expect(range.buf.equals(data.subarray(100, 200))).toBe(true);
    expect(range.headers.get('content-range')).toBe(`bytes 100-199/${data.length}`);
    const head = await s3('HEAD', keyPath(bucket, key), A.creds);
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(data.length));
    const swift = await fetch(
      `${base}/object-store/v1/AUTH_${A.projectId}/${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`,
      { headers: { 'x-auth-token': A.token } },
    );
    expect(Buffer.from(await swift.arrayBuffer()).equals(data)).toBe(true);
    // Unsigned payload works too.
    const unsigned = await s3('PUT', keyPath(bucket, 'u'), A.creds, { body: 'hello', payload: 'unsigned' });
    expect(unsigned.status).toBe(200);
    expect((await s3('DELETE', keyPath(bucket, key), A.creds)).status).toBe(204);
    const missing = await s3('GET', keyPath(bucket, key), A.creds);
    expect([missing.status, code(missing)]).toEqual([404, 'NoSuchKey']);
    // Deleting a missing key is a 204, as in S3.
    expect((await s3('DELETE', keyPath(bucket, key), A.creds)).status).toBe(204);
    const notEmpty = await s3('DELETE', `/s3/${bucket}`, A.creds);
    expect([notEmpty.status, code(notEmpty)]).toEqual([409, 'BucketNotEmpty']);
    expect((await s3('DELETE', keyPath(bucket, 'u'), A.creds)).status).toBe(204);
    expect((await s3('DELETE', `/s3/${bucket}`, A.creds)).status).toBe(204);
  });

  it('refuses a wrong secret, another project, a body that is not the signed one', async () => {
    const bucket = bucketName('sec');
    expect((await s3('PUT', `/s3/${bucket}`, A.creds)).status).toBe(200);
    expect((await s3('PUT', keyPath(bucket, 'k'), A.creds, { body: 'secret data' })).status).toBe(200);
    const wrong = await s3('GET', keyPath(bucket, 'k'), { access: A.creds.access, secret: 'not-the-secret' });
    expect([wrong.status, code(wrong)]).toEqual([403, 'SignatureDoesNotMatch']);
    const other = await s3('GET', keyPath(bucket, 'k'), B.creds);
    expect([other.status, code(other)]).toEqual([403, 'AccessDenied']);
    const otherPut = await s3('PUT', keyPath(bucket, 'k2'), B.creds, { body: 'x' });
    expect([otherPut.status, code(otherPut)]).toEqual([403, 'AccessDenied']);
    const anonymous = await s3('GET', keyPath(bucket, 'k'), null);
    expect([anonymous.status, code(anonymous)]).toEqual([403, 'AccessDenied']);
    // The signature covers sha256("other body") but "tampered!!" is sent: nothing is stored.
    const tampered = await s3('PUT', keyPath(bucket, 'k3'), A.creds, {
      body: 'tampered!!',
      payload: sha256('other body'),
    });
    expect([tampered.status, code(tampered)]).toEqual([400, 'XAmzContentSHA256Mismatch']);
    const absent = await s3('HEAD', keyPath(bucket, 'k3'), A.creds);
    expect(absent.status).toBe(404);
    const badMd5 = await s3('PUT', keyPath(bucket, 'k4'), A.creds, {
      body: 'abc',
      headers: { 'content-md5': createHash('md5').update('abd').digest('base64') },
    });
    expect([badMd5.status, code(badMd5)]).toEqual([400, 'BadDigest']);
  });

  it('ListObjectsV2: prefix, delimiter, max-keys, continuation-token, start-after', async () => {
    const bucket = bucketName('lst');
    expect((await s3('PUT', `/s3/${bucket}`, A.creds)).status).toBe(200);
    const keys = ['a.txt', 'b/1', 'b/2', 'b/3', 'c/x/1', 'd.txt', 'e.txt'];
    for (const k of keys) expect((await s3('PUT', keyPath(bucket, k), A.creds, { body: k })).status).toBe(200);
    const keysOf = (t: string) => [...t.matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1]);
    const prefixesOf = (t: string) => [...t.matchAll(/<CommonPrefixes><Prefix>([^<]*)<\/Prefix>/g)].map((m) => m[1]);
    const all = await s3('GET', `/s3/${bucket}?list-type=2`, A.creds);
    expect(keysOf(all.text)).toEqual(keys);
    expect(all.text).toContain('<KeyCount>7</KeyCount>');
    const byPrefix = await s3('GET', `/s3/${bucket}?list-type=2&prefix=b%2F`, A.creds);
    expect(keysOf(byPrefix.text)).toEqual(['b/1', 'b/2', 'b/3']);
    const delim = await s3('GET', `/s3/${bucket}?list-type=2&delimiter=%2F`, A.creds);
    expect(keysOf(delim.text)).toEqual(['a.txt', 'd.txt', 'e.txt']);
    expect(prefixesOf(delim.text)).toEqual(['b/', 'c/']);
    // Paging with a delimiter: a common prefix is never repeated.
    const seen: string[] = [];
    let token: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await s3(
        'GET',
        `/s3/${bucket}?list-type=2&delimiter=%2F&max-keys=2${token ? `&continuation-token=${encodeURIComponent(token)}` : ''}`,
        A.creds,
      );
      expect(r.status).toBe(200);
      seen.push(...(keysOf(r.text) as string[]), ...(prefixesOf(r.text) as string[]));
      token = /<NextContinuationToken>([^<]*)</.exec(r.text)?.[1];
      if (!token) {
        expect(r.text).toContain('<IsTruncated>false</IsTruncated>');
        break;
      }
      expect(r.text).toContain('<IsTruncated>true</IsTruncated>');
    }
    expect(seen.sort()).toEqual(['a.txt', 'b/', 'c/', 'd.txt', 'e.txt']);
    const after = await s3('GET', `/s3/${bucket}?list-type=2&start-after=c%2Fx%2F1`, A.creds);
    expect(keysOf(after.text)).toEqual(['d.txt', 'e.txt']);
    const badToken = await s3('GET', `/s3/${bucket}?list-type=2&continuation-token=%21%21`, A.creds);
    expect([badToken.status, code(badToken)]).toEqual([400, 'InvalidArgument']);
  });

  it('presigned GET URL works and expires', async () => {
    const bucket = bucketName('pre');
    expect((await s3('PUT', `/s3/${bucket}`, A.creds)).status).toBe(200);
    expect((await s3('PUT', keyPath(bucket, 'p.txt'), A.creds, { body: 'presigned!' })).status).toBe(200);
    const presign = (expires: number, date: string) => {
      const scope = `${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
      const query: Array<[string, string]> = [
        ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
        ['X-Amz-Credential', `${A.creds.access}/${scope}`],
        ['X-Amz-Date', date],
        ['X-Amz-Expires', String(expires)],
        ['X-Amz-SignedHeaders', 'host'],
      ];
      const path = keyPath(bucket, 'p.txt');
      const cr = canonicalRequest({
        method: 'GET',
        canonicalUri: path,
        query,
        headers: { host },
        signedHeaders: ['host'],
        payloadHash: 'UNSIGNED-PAYLOAD',
      });
      const sig = sigv4Signature(
        signingKey(A.creds.secret, date.slice(0, 8), 'us-east-1', 's3'),
        stringToSign(date, scope, cr),
      );
      const qs = query.map(([k, v]) => `${k}=${uriEncode(v, false)}`).join('&');
      return `${base}${path}?${qs}&X-Amz-Signature=${sig}`;
    };
    const ok = await fetch(presign(300, amzNow()));
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('presigned!');
    const old = new Date(Date.now() - 3600_000)
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}/, '');
    const expired = await fetch(presign(60, old));
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
  });

  it('accepts an aws-chunked body with chunk signatures', async () => {
    const bucket = bucketName('chk');
    expect((await s3('PUT', `/s3/${bucket}`, A.creds)).status).toBe(200);
    const data = randomBytes(70_000);
    const date = amzNow();
    const scope = `${date.slice(0, 8)}/us-east-1/s3/aws4_request`;
    const key = signingKey(A.creds.secret, date.slice(0, 8), 'us-east-1', 's3');
    const chunks = [data.subarray(0, 65536), data.subarray(65536), Buffer.alloc(0)];
    const encodedLength = chunks.reduce(
      (s, c) => s + `${c.length.toString(16)};chunk-signature=`.length + 64 + 4 + c.length,
      0,
    );
    const path = keyPath(bucket, 'chunked.bin');
    const headers: Record<string, string> = {
      host,
      'content-encoding': 'aws-chunked',
      'content-length': String(encodedLength),
      'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
      'x-amz-date': date,
      'x-amz-decoded-content-length': String(data.length),
    };
    const signed = Object.keys(headers).sort();
    const cr = canonicalRequest({
      method: 'PUT',
      canonicalUri: path,
      query: [],
      headers,
      signedHeaders: signed,
      payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    });
    let prev = sigv4Signature(key, stringToSign(date, scope, cr));
    const seed = prev;
    const parts: Buffer[] = [];
    for (const c of chunks) {
      const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${date}\n${scope}\n${prev}\n${sha256('')}\n${sha256(c)}`;
      prev = sigv4Signature(key, toSign);
      parts.push(Buffer.from(`${c.length.toString(16)};chunk-signature=${prev}\r\n`), c, Buffer.from('\r\n'));
    }
    const body = Buffer.concat(parts);
    expect(body.length).toBe(encodedLength);
    const { host: _h, ...sendHeaders } = headers;
    const res = await fetch(`${base}${path}`, {
      method: 'PUT',
      headers: {
        ...sendHeaders,
        authorization: `AWS4-HMAC-SHA256 Credential=${A.creds.access}/${scope}, SignedHeaders=${signed.join(';')}, Signature=${seed}`,
      },
      body: new Uint8Array(body),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(`"${md5(data)}"`);
    const get = await s3('GET', path, A.creds);
    expect(get.buf.equals(data)).toBe(true);
    expect(get.headers.get('content-encoding')).toBeNull();
  });
});

describe('S3 API: multipart upload', () => {
  it('create, upload parts, list parts, complete (S3 ETag), read back, delete with its parts', async () => {
    const bucket = bucketName('mpu');
    expect((await s3('PUT', `/s3/${bucket}`, A.creds)).status).toBe(200);
    const init = await s3('POST', `${keyPath(bucket, 'big.bin')}?uploads`, A.creds, {
      headers: { 'content-type': 'application/x-big', 'x-amz-meta-owner': 'me' },
    });
    expect(init.status).toBe(200);
    const uploadId = /<UploadId>([^<]*)</.exec(init.text)?.[1] ?? '';
    expect(uploadId).toMatch(/^[0-9a-f]{32}$/);
    const p1 = randomBytes(5 * 1024 * 1024);
    const p2 = randomBytes(123_457);
    const up = (no: number, b: Buffer) =>
      s3('PUT', `${keyPath(bucket, 'big.bin')}?partNumber=${no}&uploadId=${uploadId}`, A.creds, { body: b });
    const r1 = await up(1, p1);
    const r2 = await up(2, p2);
    expect(r1.headers.get('etag')).toBe(`"${md5(p1)}"`);
    expect(r2.headers.get('etag')).toBe(`"${md5(p2)}"`);
    const other = await s3('PUT', `${keyPath(bucket, 'big.bin')}?partNumber=3&uploadId=${uploadId}`, B.creds, {
      body: 'x',
    });
    expect([other.status, code(other)]).toEqual([403, 'AccessDenied']);
    const parts = await s3('GET', `${keyPath(bucket, 'big.bin')}?uploadId=${uploadId}`, A.creds);
    expect(parts.status).toBe(200);
    expect([...parts.text.matchAll(/<PartNumber>(\d+)</g)].map((m) => m[1])).toEqual(['1', '2']);
    // The parts are not buckets.
    expect((await s3('GET', '/s3/', A.creds)).text).not.toContain('+segments');
    const completeBody = (list: Array<[number, string]>) =>
      `<CompleteMultipartUpload>${list.map(([no, e]) => `<Part><PartNumber>${no}</PartNumber><ETag>"${e}"</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const badPart = await s3('POST', `${keyPath(bucket, 'big.bin')}?uploadId=${uploadId}`, A.creds, {
      body: completeBody([
        [1, md5(p1)],
        [2, md5(p1)],
      ]),
    });
    expect([badPart.status, code(badPart)]).toEqual([400, 'InvalidPart']);
    const badOrder = await s3('POST', `${keyPath(bucket, 'big.bin')}?uploadId=${uploadId}`, A.creds, {
      body: completeBody([
        [2, md5(p2)],
        [1, md5(p1)],
      ]),
    });
    expect([badOrder.status, code(badOrder)]).toEqual([400, 'InvalidPartOrder']);
    const done = await s3('POST', `${keyPath(bucket, 'big.bin')}?uploadId=${uploadId}`, A.creds, {
      body: completeBody([
        [1, md5(p1)],
        [2, md5(p2)],
      ]),
    });
    expect(done.status).toBe(200);
    const expected = `${createHash('md5')
      .update(Buffer.concat([Buffer.from(md5(p1), 'hex'), Buffer.from(md5(p2), 'hex')]))
      .digest('hex')}-2`;
    expect(done.text).toContain(`<ETag>&quot;${expected}&quot;</ETag>`);
    const get = await s3('GET', keyPath(bucket, 'big.bin'), A.creds);
    expect(get.status).toBe(200);
    expect(get.buf.equals(Buffer.concat([p1, p2]))).toBe(true);
    expect(get.headers.get('etag')).toBe(`"${expected}"`);
    expect(get.headers.get('content-type')).toBe('application/x-big');
    expect(get.headers.get('x-amz-meta-owner')).toBe('me');
    const range = await s3('GET', keyPath(bucket, 'big.bin'), A.creds, {
      headers: { range: `bytes=${p1.length - 10}-${p1.length + 9}` },
    });
    expect(range.buf.equals(Buffer.concat([p1, p2]).subarray(p1.length - 10, p1.length + 10))).toBe(true);
    // The upload is gone once completed.
    const after = await s3('GET', `${keyPath(bucket, 'big.bin')}?uploadId=${uploadId}`, A.creds);
    expect([after.status, code(after)]).toEqual([404, 'NoSuchUpload']);
    // Deleting the object deletes its parts; then the bucket can go.
    expect((await s3('DELETE', keyPath(bucket, 'big.bin'), A.creds)).status).toBe(204);
    const segs = await testDb().db.swiftObject.count({
      where: { account: `AUTH_${A.projectId}`, container: `${bucket}+segments`, deleted: false },
    });
    expect(segs).toBe(0);
    expect((await s3('DELETE', `/s3/${bucket}`, A.creds)).status).toBe(204);
  });

  it('abort removes the parts; small non-final parts are refused', async () => {
    const bucket = bucketName('abt');
    expect((await s3('PUT', `/s3/${bucket}`, A.creds)).status).toBe(200);
    const init = await s3('POST', `${keyPath(bucket, 'x')}?uploads`, A.creds);
    const uploadId = /<UploadId>([^<]*)</.exec(init.text)?.[1] ?? '';
    const e1 = (
      await s3('PUT', `${keyPath(bucket, 'x')}?partNumber=1&uploadId=${uploadId}`, A.creds, { body: 'aa' })
    ).headers.get('etag');
    const e2 = (
      await s3('PUT', `${keyPath(bucket, 'x')}?partNumber=2&uploadId=${uploadId}`, A.creds, { body: 'bb' })
    ).headers.get('etag');
    const small = await s3('POST', `${keyPath(bucket, 'x')}?uploadId=${uploadId}`, A.creds, {
      body: `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>${e1}</ETag></Part><Part><PartNumber>2</PartNumber><ETag>${e2}</ETag></Part></CompleteMultipartUpload>`,
    });
    expect([small.status, code(small)]).toEqual([400, 'EntityTooSmall']);
    expect((await s3('DELETE', `${keyPath(bucket, 'x')}?uploadId=${uploadId}`, A.creds)).status).toBe(204);
    const again = await s3('DELETE', `${keyPath(bucket, 'x')}?uploadId=${uploadId}`, A.creds);
    expect([again.status, code(again)]).toEqual([404, 'NoSuchUpload']);
    const segs = await testDb().db.swiftObject.count({
      where: { account: `AUTH_${A.projectId}`, container: `${bucket}+segments`, deleted: false },
    });
    expect(segs).toBe(0);
    const absent = await s3('HEAD', keyPath(bucket, 'x'), A.creds);
    expect(absent.status).toBe(404);
  });
});
