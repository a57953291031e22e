import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { S3Error } from './errors.ts';
import { multipartEtag, parseCompleteBody } from './operations.ts';
import {
  ChunkedSigV4Decoder,
  EMPTY_SHA256,
  parseAuth,
  Sha256Check,
  signingKey,
  STREAMING_PAYLOAD,
  verifySignature,
} from './sigv4.ts';
import { parseQuery } from './auth.ts';

/*
 * AWS's published examples ("Signature Calculations for the Authorization Header",
 * "Query String Authentication", "Transferring Payload in Multiple Chunks" in the S3 API
 * reference): examplebucket, 2013-05-24, us-east-1, the documentation's example keys.
 */
const ACCESS = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const NOW = new Date('2013-05-24T00:00:00Z');
const SCOPE = `${ACCESS}/20130524/us-east-1/s3/aws4_request`;

function authz(signed: string, sig: string): string {
  return `AWS4-HMAC-SHA256 Credential=${SCOPE},SignedHeaders=${signed},Signature=${sig}`;
}

function verifyHeader(method: string, path: string, rawQuery: string, headers: Record<string, string>) {
  const query = parseQuery(rawQuery);
  const auth = parseAuth(headers, query);
  if (!auth) throw new Error('no auth');
  return verifySignature({ method, canonicalUris: [path], query, headers, auth, secret: SECRET, now: NOW });
}

describe('SigV4 header auth (AWS examples)', () => {
  it('GET Object with a Range', () => {
    const sig = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41';
    const headers = {
      host: 'examplebucket.s3.amazonaws.com',
      range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY_SHA256,
      'x-amz-date': '20130524T000000Z',
      authorization: authz('host;range;x-amz-content-sha256;x-amz-date', sig),
    };
    expect(verifyHeader('GET', '/test.txt', '', headers).seedSignature).toBe(sig);
  });

  it('PUT Object (encoded path, storage class, Date header)', () => {
    const sig = '98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd';
    const headers = {
      host: 'examplebucket.s3.amazonaws.com',
      date: 'Fri, 24 May 2013 00:00:00 GMT',
      'x-amz-date': '20130524T000000Z',
      'x-amz-storage-class': 'REDUCED_REDUNDANCY',
      'x-amz-content-sha256': '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072',
      authorization: authz('date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class', sig),
    };
    expect(verifyHeader('PUT', '/test%24file.text', '', headers).seedSignature).toBe(sig);
  });

  it('GET Bucket Lifecycle (a valueless query parameter)', () => {
    const sig = 'fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543';
    const headers = {
      host: 'examplebucket.s3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-content-sha256': EMPTY_SHA256,
      authorization: authz('host;x-amz-content-sha256;x-amz-date', sig),
    };
    expect(verifyHeader('GET', '/', 'lifecycle', headers).seedSignature).toBe(sig);
  });

  it('GET Bucket (List Objects), query sorted', () => {
    const sig = '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7';
    const headers = {
      host: 'examplebucket.s3.amazonaws.com',
      'x-amz-date': '20130524T000000Z',
      'x-amz-content-sha256': EMPTY_SHA256,
      authorization: authz('host;x-amz-content-sha256;x-amz-date', sig),
    };
    expect(verifyHeader('GET', '/', 'prefix=J&max-keys=2', headers).seedSignature).toBe(sig);
  });

  it('signing key derivation (the documented chain)', () => {
    // Same key as the one behind every example above: check it independently of a request.
    const key = signingKey(SECRET, '20130524', 'us-east-1', 's3');
    expect(key.length).toBe(32);
    expect(signingKey(SECRET, '20130524', 'us-east-1', 's3').equals(key)).toBe(true);
    expect(signingKey(SECRET, '20130525', 'us-east-1', 's3').equals(key)).toBe(false);
  });

  it('refuses a wrong secret, a changed header, a stale date', () => {
    const sig = 'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41';
    const headers = {
      host: 'examplebucket.s3.amazonaws.com',
      range: 'bytes=0-9',
      'x-amz-content-sha256': EMPTY_SHA256,
      'x-amz-date': '20130524T000000Z',
      authorization: authz('host;range;x-amz-content-sha256;x-amz-date', sig),
    };
    const query = parseQuery('');
    const auth = parseAuth(headers, query);
    if (!auth) throw new Error('no auth');
    const base = { method: 'GET', canonicalUris: ['/test.txt'], query, headers, auth, now: NOW };
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof S3Error ? e.code : String(e);
      }
      return 'ok';
    };
    expect(code(() => verifySignature({ ...base, secret: `${SECRET}x` }))).toBe('SignatureDoesNotMatch');
    expect(code(() => verifySignature({ ...base, secret: SECRET, headers: { ...headers, range: 'bytes=0-10' } }))).toBe(
      'SignatureDoesNotMatch',
    );
    expect(code(() => verifySignature({ ...base, secret: SECRET, now: new Date('2013-05-24T00:16:00Z') }))).toBe(
      'RequestTimeTooSkewed',
    );
  });
});

describe('SigV4 presigned URL (AWS example)', () => {
  const rawQuery =
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  const headers = { host: 'examplebucket.s3.amazonaws.com' };
  const check = (now: Date) => {
    const query = parseQuery(rawQuery);
    const auth = parseAuth(headers, query);
    if (!auth) throw new Error('no auth');
    expect(auth.kind).toBe('presigned');
    return verifySignature({ method: 'GET', canonicalUris: ['/test.txt'], query, headers, auth, secret: SECRET, now });
  };
  it('verifies within its lifetime', () => {
    expect(check(new Date('2013-05-24T12:00:00Z')).seedSignature).toBe(
      'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404',
    );
  });
  it('expires', () => {
    expect(() => check(new Date('2013-05-25T00:00:01Z'))).toThrow('Request has expired');
  });
});

async function drain(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks);
}

describe('aws-chunked payload (AWS example: 64 KiB + 1 KiB chunks)', () => {
  const seed = '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9';
  const headers = {
    host: 's3.amazonaws.com',
    'content-encoding': 'aws-chunked',
    'content-length': '66824',
    'x-amz-content-sha256': STREAMING_PAYLOAD,
    'x-amz-date': '20130524T000000Z',
    'x-amz-decoded-content-length': '66560',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    authorization: authz(
      'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
      seed,
    ),
  };
  const body = (sig1: string) =>
    Buffer.concat([
      Buffer.from(`10000;chunk-signature=${sig1}\r\n`),
      Buffer.alloc(65536, 'a'),
      Buffer.from('\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n'),
      Buffer.alloc(1024, 'a'),
      Buffer.from('\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n'),
    ]);
  const SIG1 = 'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648';

  it('seed signature, then every chunk signature, in odd-sized reads', async () => {
    const { key, seedSignature } = verifyHeader('PUT', '/examplebucket/chunkObject.txt', '', headers);
    expect(seedSignature).toBe(seed);
    const raw = body(SIG1);
    expect(raw.length).toBe(66824);
    const pieces: Buffer[] = [];
    for (let i = 0; i < raw.length; i += 7777) pieces.push(raw.subarray(i, i + 7777));
    const dec = new ChunkedSigV4Decoder(key, '20130524T000000Z', '20130524/us-east-1/s3/aws4_request', seed, 66560);
    const out = await drain(Readable.from(pieces).pipe(dec));
    expect(out.equals(Buffer.alloc(66560, 'a'))).toBe(true);
  });

  it('a chunk whose signature does not match fails the stream', async () => {
    const { key } = verifyHeader('PUT', '/examplebucket/chunkObject.txt', '', headers);
    const dec = new ChunkedSigV4Decoder(key, '20130524T000000Z', '20130524/us-east-1/s3/aws4_request', seed, 66560);
    await expect(drain(Readable.from([body(SIG1.replace(/^a/, 'b'))]).pipe(dec))).rejects.toThrow(
      'signature we calculated',
    );
  });
});

describe('payload hash and multipart helpers', () => {
  it('Sha256Check passes the signed body and fails another', async () => {
    const body = Buffer.from('Welcome to Amazon S3.');
    const good = '44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072';
    expect((await drain(Readable.from([body]).pipe(new Sha256Check(good)))).equals(body)).toBe(true);
    await expect(
      drain(Readable.from([Buffer.from('Welcome to Amazon S4.')]).pipe(new Sha256Check(good))),
    ).rejects.toThrow('x-amz-content-sha256');
  });

  it('multipart ETag is the md5 of the binary part md5s plus the count', () => {
    // Two parts of md5("a") and md5("b"): computed independently with Python's hashlib.
    expect(multipartEtag(['0cc175b9c0f1b6a831c399e269772661', '92eb5ffee6ae2fec3ad71c777531578f'])).toBe(
      '96e024ba2074fe77e8e965ba43a704be-2',
    );
    expect(multipartEtag(['0cc175b9c0f1b6a831c399e269772661'])).toBe('b6ff9a06b7e20bcb2858c5b8ff744aea-1');
  });

  it('parses a CompleteMultipartUpload body', () => {
    const xml =
      '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>"aa"</ETag><PartNumber>1</PartNumber></Part><Part><PartNumber>2</PartNumber><ETag>&quot;bb&quot;</ETag></Part></CompleteMultipartUpload>';
    expect(parseCompleteBody(xml)).toEqual([
      { partNumber: 1, etag: 'aa' },
      { partNumber: 2, etag: 'bb' },
    ]);
    expect(() => parseCompleteBody('<x/>')).toThrow('not well-formed');
  });
});
