import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { S3Error } from './errors.ts';

/*
 * AWS Signature Version 4 as S3 checks it: header auth (Authorization:
 * AWS4-HMAC-SHA256 …) and presigned URLs (X-Amz-Algorithm … X-Amz-Signature in the
 * query), payload hashes given in x-amz-content-sha256 (a hex sha256, UNSIGNED-PAYLOAD,
 * or STREAMING-AWS4-HMAC-SHA256-PAYLOAD for aws-chunked bodies, whose chunks carry
 * chained signatures: see ChunkedSigV4Decoder). Pure functions over plain values.
 */
export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_PAYLOAD = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Largest clock difference accepted for header auth (S3: 15 minutes). */
export const MAX_SKEW_MS = 15 * 60 * 1000;
/** Longest presigned URL lifetime (S3: 7 days). */
export const MAX_PRESIGN_SECONDS = 604800;

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as AWS does it: unreserved characters kept, everything else %XX (upper case). */
export function uriEncode(s: string, keepSlash: boolean): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c;
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
}

export interface CanonicalInput {
  method: string;
  /** The URI path, already encoded as the client signed it. */
  canonicalUri: string;
  /** Decoded query parameters (duplicates allowed), without X-Amz-Signature for presigned URLs. */
  query: Array<[string, string]>;
  /** Lower-case header names → values (multiple values joined with ","). */
  headers: Record<string, string>;
  signedHeaders: string[];
  payloadHash: string;
}

export function canonicalQuery(query: Array<[string, string]>): string {
  return query
    .map(([k, v]) => [uriEncode(k, false), uriEncode(v, false)] as const)
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

const trimValue = (v: string) => v.trim().replace(/\s+/g, ' ');

export function canonicalRequest(c: CanonicalInput): string {
  const headers = c.signedHeaders.map((h) => `${h}:${trimValue(c.headers[h] ?? '')}\n`).join('');
  return [
    c.method.toUpperCase(),
    c.canonicalUri,
    canonicalQuery(c.query),
    headers,
    c.signedHeaders.join(';'),
    c.payloadHash,
  ].join('\n');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

export function signature(key: Buffer, toSign: string): string {
  return createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

export function sameSignature(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

// ---------------------------------------------------------------- parsing a request

export interface Credential {
  access: string;
  date: string;
  region: string;
  service: string;
  scope: string;
}

export interface ParsedAuth {
  kind: 'header' | 'presigned';
  credential: Credential;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  /** The payload hash the signature covers (header auth: x-amz-content-sha256). */
  payloadHash: string;
  /** Presigned: seconds the URL is valid from amzDate. */
  expires?: number;
}

function parseCredential(raw: string): Credential {
  const parts = raw.split('/');
  if (parts.length < 5)
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  const [date, region, service, term] = parts.slice(-4) as [string, string, string, string];
  const access = parts.slice(0, -4).join('/');
  if (!/^\d{8}$/.test(date) || term !== 'aws4_request' || !access)
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      'The authorization header is malformed; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
    );
  if (service !== 's3')
    throw new S3Error(
      'AuthorizationHeaderMalformed',
      `The authorization header is malformed; incorrect service "${service}". This endpoint belongs to "s3".`,
    );
  return { access, date, region, service, scope: `${date}/${region}/${service}/aws4_request` };
}

const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export function parseAmzDate(s: string): Date | null {
  const m = AMZ_DATE.exec(s);
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
  return Number.isNaN(d.getTime()) ? null : d;
}

/** An HTTP date (Date header) → x-amz-date form. */
function amzDateOf(d: Date): string {
  return d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * The SigV4 fields of a request, or null when it carries none (anonymous).
 * `headers` are lower-case; `query` decoded pairs.
 */
export function parseAuth(headers: Record<string, string>, query: Array<[string, string]>): ParsedAuth | null {
  const q = (name: string) => query.find(([k]) => k === name)?.[1];
  const authz = headers.authorization;
  if (authz !== undefined) {
    if (!authz.startsWith(`${ALGORITHM} `)) {
      if (authz.startsWith('AWS '))
        throw new S3Error('InvalidRequest', 'Signature Version 2 is not supported; use AWS4-HMAC-SHA256.');
      throw new S3Error('InvalidArgument', 'Unsupported Authorization Type');
    }
    const fields = new Map<string, string>();
    for (const part of authz.slice(ALGORITHM.length + 1).split(',')) {
      const i = part.indexOf('=');
      if (i > 0) fields.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
    }
    const cred = fields.get('Credential');
    const sh = fields.get('SignedHeaders');
    const sig = fields.get('Signature');
    if (!cred || !sh || !sig)
      throw new S3Error(
        'AuthorizationHeaderMalformed',
        'The authorization header is malformed; it must contain Credential, SignedHeaders and Signature.',
      );
    let amzDate = headers['x-amz-date'];
    if (amzDate === undefined && headers.date !== undefined) {
      const d = new Date(headers.date);
      if (!Number.isNaN(d.getTime())) amzDate = amzDateOf(d);
    }
    if (amzDate === undefined)
      throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
    const payloadHash = headers['x-amz-content-sha256'];
    if (payloadHash === undefined)
      throw new S3Error('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    if (payloadHash !== UNSIGNED_PAYLOAD && payloadHash !== STREAMING_PAYLOAD && !/^[0-9a-f]{64}$/.test(payloadHash))
      throw new S3Error(
        'InvalidArgument',
        'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or a valid sha256 value.',
      );
    return {
      kind: 'header',
      credential: parseCredential(cred),
      signedHeaders: sh.split(';').map((h) => h.trim().toLowerCase()),
      signature: sig,
      amzDate,
      payloadHash,
    };
  }
  const alg = q('X-Amz-Algorithm');
  if (alg === undefined) return null;
  if (alg !== ALGORITHM)
    throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
  const cred = q('X-Amz-Credential');
  const date = q('X-Amz-Date');
  const sh = q('X-Amz-SignedHeaders');
  const sig = q('X-Amz-Signature');
  const exp = q('X-Amz-Expires');
  if (!cred || !date || !sh || !sig || exp === undefined)
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
  if (!/^\d+$/.test(exp)) throw new S3Error('AuthorizationQueryParametersError', 'X-Amz-Expires should be a number');
  const expires = Number(exp);
  if (expires > MAX_PRESIGN_SECONDS)
    throw new S3Error(
      'AuthorizationQueryParametersError',
      'X-Amz-Expires must be less than a week (in seconds) that is; the maximum expires is 604800 seconds',
    );
  return {
    kind: 'presigned',
    credential: parseCredential(cred),
    signedHeaders: sh.split(';').map((h) => h.trim().toLowerCase()),
    signature: sig,
    amzDate: date,
    payloadHash: q('X-Amz-Content-Sha256') ?? UNSIGNED_PAYLOAD,
    expires,
  };
}

export interface VerifyInput {
  method: string;
  /** Candidate canonical URIs (the raw path as sent; its AWS re-encoding when different). */
  canonicalUris: string[];
  query: Array<[string, string]>;
  headers: Record<string, string>;
  auth: ParsedAuth;
  secret: string;
  now?: Date;
}

/** Checks the time window and the signature; returns the signing key (for chunk signatures). */
export function verifySignature(v: VerifyInput): { key: Buffer; seedSignature: string } {
  const a = v.auth;
  const t = parseAmzDate(a.amzDate);
  if (!t) throw new S3Error('AccessDenied', 'AWS authentication requires a valid Date or x-amz-date header');
  if (a.amzDate.slice(0, 8) !== a.credential.date)
    throw new S3Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
    );
  const now = (v.now ?? new Date()).getTime();
  if (a.kind === 'header') {
    if (Math.abs(now - t.getTime()) > MAX_SKEW_MS)
      throw new S3Error(
        'RequestTimeTooSkewed',
        'The difference between the request time and the current time is too large.',
      );
  } else {
    if (t.getTime() - now > MAX_SKEW_MS) throw new S3Error('AccessDenied', 'Request is not valid yet');
    if (now > t.getTime() + (a.expires ?? 0) * 1000) throw new S3Error('AccessDenied', 'Request has expired');
  }
  if (a.kind === 'header' && !a.signedHeaders.includes('host'))
    throw new S3Error('AccessDenied', 'Signed headers must include host.');
  const query = a.kind === 'presigned' ? v.query.filter(([k]) => k !== 'X-Amz-Signature') : v.query;
  const key = signingKey(v.secret, a.credential.date, a.credential.region, a.credential.service);
  for (const uri of v.canonicalUris) {
    const cr = canonicalRequest({
      method: v.method,
      canonicalUri: uri,
      query,
      headers: v.headers,
      signedHeaders: a.signedHeaders,
      payloadHash: a.payloadHash,
    });
    const sig = signature(key, stringToSign(a.amzDate, a.credential.scope, cr));
    if (sameSignature(sig, a.signature)) return { key, seedSignature: sig };
  }
  throw new S3Error(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  );
}

// ---------------------------------------------------------------- payloads

/** Passes the body through and fails at its end when its sha256 is not the signed one (nothing is committed). */
export class Sha256Check extends Transform {
  private readonly hash = createHash('sha256');
  constructor(private readonly expected: string) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    const got = this.hash.digest('hex');
    if (got !== this.expected)
      cb(
        new S3Error(
          'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ),
      );
    else cb();
  }
}

/**
 * Decodes an aws-chunked body (`<hex size>;chunk-signature=<sig>\r\n<bytes>\r\n` … ending
 * with a zero-size chunk) and checks each chunk's signature, chained from the seed
 * (the request's) signature. Any error fails the stream, so nothing is committed.
 */
export class ChunkedSigV4Decoder extends Transform {
  private buf: Buffer = Buffer.alloc(0);
  private remaining = -1;
  private chunkSig = '';
  private chunkHash = createHash('sha256');
  private prev: string;
  private done = false;
  private total = 0;

  constructor(
    private readonly key: Buffer,
    private readonly amzDate: string,
    private readonly scope: string,
    seedSignature: string,
    private readonly decodedLength?: number,
  ) {
    super();
    this.prev = seedSignature;
  }

  private fail(
    cb: TransformCallback,
    msg = 'The request signature we calculated does not match the signature you provided.',
  ): void {
    cb(new S3Error('SignatureDoesNotMatch', msg));
  }

  private checkChunk(): boolean {
    const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${this.amzDate}\n${this.scope}\n${this.prev}\n${EMPTY_SHA256}\n${this.chunkHash.digest('hex')}`;
    const sig = signature(this.key, toSign);
    if (!sameSignature(sig, this.chunkSig)) return false;
    this.prev = sig;
    this.chunkHash = createHash('sha256');
    return true;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    for (;;) {
      if (this.done) {
        this.buf = Buffer.alloc(0);
        break;
      }
      if (this.remaining < 0) {
        const eol = this.buf.indexOf('\r\n');
        if (eol < 0) {
          if (this.buf.length > 4096) {
            cb(new S3Error('IncompleteBody', 'Malformed aws-chunked header.'));
            return;
          }
          break;
        }
        const line = this.buf.subarray(0, eol).toString('latin1');
        this.buf = this.buf.subarray(eol + 2);
        const m = /^([0-9a-fA-F]+);chunk-signature=([0-9a-f]{64})$/.exec(line);
        if (!m?.[1] || !m[2]) {
          cb(new S3Error('IncompleteBody', 'Malformed aws-chunked header.'));
          return;
        }
        this.remaining = Number.parseInt(m[1], 16);
        this.chunkSig = m[2];
        if (this.remaining === 0) {
          if (!this.checkChunk()) {
            this.fail(cb);
            return;
          }
          this.done = true;
          continue;
        }
      }
      if (this.remaining > 0) {
        if (this.buf.length === 0) break;
        const take = this.buf.subarray(0, Math.min(this.remaining, this.buf.length));
        this.buf = this.buf.subarray(take.length);
        this.remaining -= take.length;
        this.total += take.length;
        this.chunkHash.update(take);
        this.push(take);
      }
      if (this.remaining === 0) {
        if (this.buf.length < 2) break;
        if (this.buf[0] !== 0x0d || this.buf[1] !== 0x0a) {
          cb(new S3Error('IncompleteBody', 'Malformed aws-chunked body.'));
          return;
        }
        this.buf = this.buf.subarray(2);
        if (!this.checkChunk()) {
          this.fail(cb);
          return;
        }
        this.remaining = -1;
      }
    }
    cb();
  }

  override _flush(cb: TransformCallback): void {
    if (!this.done) {
      cb(new S3Error('IncompleteBody', 'The request body terminated unexpectedly.'));
      return;
    }
    if (this.decodedLength !== undefined && this.total !== this.decodedLength) {
      cb(
        new S3Error(
          'IncompleteBody',
          'You did not provide the number of bytes specified by the x-amz-decoded-content-length header.',
        ),
      );
      return;
    }
    cb();
  }
}
