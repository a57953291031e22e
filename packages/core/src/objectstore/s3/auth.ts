import type { Readable } from 'node:stream';
import { ec2AuthContext, findEc2Signer } from '../../identity/ec2-credentials.ts';
import { S3Error } from './errors.ts';
import type { S3Principal } from './operations.ts';
import {
  ChunkedSigV4Decoder,
  EMPTY_SHA256,
  type ParsedAuth,
  parseAuth,
  Sha256Check,
  STREAMING_PAYLOAD,
  UNSIGNED_PAYLOAD,
  uriEncode,
  verifySignature,
} from './sigv4.ts';

/*
 * Who sent an S3 request: the EC2 credential named by its SigV4 signature (header or
 * presigned URL), checked against the secret, standing for its user on its project; or
 * nobody (no signature: only public-read containers answer). The body is wrapped so that
 * its signed sha256 (or aws-chunked chunk signatures) is checked as it streams.
 */
export interface S3Request {
  method: string;
  /** The path as sent (percent-encoded), the mount prefix included. */
  rawPath: string;
  /** The query string as sent, without "?". */
  rawQuery: string;
  /** Lower-case names; multiple values joined with ",". */
  headers: Record<string, string>;
}

export interface S3Authenticated {
  principal: S3Principal;
  /** Wraps a request body with the payload checks its signature asks for. */
  body: (raw: Readable) => Readable;
  /** x-amz-decoded-content-length of an aws-chunked body. */
  decodedLength?: number;
  chunked: boolean;
}

/** Decoded query pairs in order; '+' is a literal plus, as in AWS's canonical form. */
export function parseQuery(raw: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (!raw) return out;
  for (const part of raw.split('&')) {
    if (!part) continue;
    const i = part.indexOf('=');
    const k = i < 0 ? part : part.slice(0, i);
    const v = i < 0 ? '' : part.slice(i + 1);
    try {
      out.push([decodeURIComponent(k), decodeURIComponent(v)]);
    } catch {
      throw new S3Error('InvalidArgument', 'Invalid query string encoding.');
    }
  }
  return out;
}

function canonicalUris(rawPath: string): string[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return [rawPath];
  }
  const aws = uriEncode(decoded, true);
  return aws === rawPath ? [rawPath] : [rawPath, aws];
}

export async function authenticateS3(r: S3Request, now?: Date): Promise<S3Authenticated> {
  const query = parseQuery(r.rawQuery);
  const auth: ParsedAuth | null = parseAuth(r.headers, query);
  if (!auth) {
    return { principal: { caller: { kind: 'anonymous' }, projectId: null }, body: (b) => b, chunked: false };
  }
  const signer = await findEc2Signer(auth.credential.access);
  if (!signer)
    throw new S3Error('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', {
      AWSAccessKeyId: auth.credential.access,
    });
  const { key, seedSignature } = verifySignature({
    method: r.method,
    canonicalUris: canonicalUris(r.rawPath),
    query,
    headers: r.headers,
    auth,
    secret: signer.secret,
    ...(now ? { now } : {}),
  });
  const ctx = await ec2AuthContext(signer);
  if (!ctx) throw new S3Error('AccessDenied', 'Access Denied');
  const principal: S3Principal = { caller: { kind: 'token', ctx }, projectId: signer.projectId };
  if (auth.payloadHash === STREAMING_PAYLOAD) {
    const dl = r.headers['x-amz-decoded-content-length'];
    if (dl === undefined || !/^\d+$/.test(dl))
      throw new S3Error('MissingContentLength', 'You must provide the x-amz-decoded-content-length header.');
    const decodedLength = Number(dl);
    return {
      principal,
      chunked: true,
      decodedLength,
      body: (b) => {
        const dec = new ChunkedSigV4Decoder(key, auth.amzDate, auth.credential.scope, seedSignature, decodedLength);
        b.on('error', (err) => dec.destroy(err));
        // Reported by the operation that reads it (bodyError), never unhandled.
        dec.on('error', () => {});
        return b.pipe(dec);
      },
    };
  }
  if (auth.payloadHash === UNSIGNED_PAYLOAD) return { principal, body: (b) => b, chunked: false };
  const expected = auth.payloadHash;
  return {
    principal,
    chunked: false,
    body: (b) => {
      if (expected === EMPTY_SHA256 && r.headers['content-length'] === '0') return b;
      const check = new Sha256Check(expected);
      b.on('error', (err) => check.destroy(err));
      check.on('error', () => {});
      return b.pipe(check);
    },
  };
}
