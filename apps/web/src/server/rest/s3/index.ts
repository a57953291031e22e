import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import {
  abortMultipartUpload,
  authenticateS3,
  checkPartNumber,
  completeMultipartUpload,
  copyS3Object,
  createBucket,
  createMultipartUpload,
  deleteBucket,
  deleteS3Object,
  deleteS3Objects,
  getS3Object,
  headBucket,
  isS3Error,
  listBuckets,
  listObjectsV2,
  listParts,
  logger,
  MAX_KEYS,
  type Meta,
  type ObjectHeaders,
  parseCompleteBody,
  parseDeleteBody,
  parseQuery,
  parseRangeHeader,
  putS3Object,
  S3Error,
  type S3Principal,
  s3Etag,
  s3UserMeta,
  toS3Error,
  uploadPart,
} from '@stratus/core';
import type { RestMount } from '../../http.ts';
import { ensureObjectBackend } from '../object/backend.ts';
import { conditionsIn, readyForError, sendObjectRead } from '../object/read.ts';
import {
  completeXml,
  copyResultXml,
  deleteResultXml,
  errorXml,
  initiateXml,
  listBucketsXml,
  listPartsXml,
  listV1Xml,
  listV2Xml,
  owner,
  quoteEtag,
  requestId,
  S3_NS,
  sendXml,
} from './shapes.ts';

/*
 * The S3 API subset under /s3, path-style: /s3/ (ListBuckets), /s3/<bucket>,
 * /s3/<bucket>/<key>. SigV4 (header or presigned) with Keystone EC2 credentials; a bucket
 * is a Swift container of the credential's project. A thin adapter: names, headers and
 * XML in, one core call (packages/core/src/objectstore/s3), S3's headers, XML and error
 * codes out. Object bodies stream both ways, never buffered.
 */
const PREFIX = '/s3';
/** XML request bodies (CompleteMultipartUpload, DeleteObjects): 1,000 entries fit easily. */
const XML_BODY_LIMIT = 2 * 1024 * 1024;

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  method: string;
  head: boolean;
  base: Record<string, string>;
  query: Map<string, string>;
  bucket: string;
  key: string;
  p: S3Principal;
  body: () => Readable;
  contentLength?: number;
}

function lowerHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  }
  return out;
}

const h = (c: Ctx, name: string): string | undefined => {
  const v = c.req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
};

function userMetaIn(req: IncomingMessage): Meta {
  const out: Meta = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k.startsWith('x-amz-meta-') && k.length > 11) out[k.slice(11)] = Array.isArray(v) ? v.join(',') : (v ?? '');
  }
  return out;
}

function objectHeadersIn(c: Ctx): ObjectHeaders {
  const out: ObjectHeaders = {};
  const cd = h(c, 'content-disposition');
  const ce = h(c, 'content-encoding');
  if (cd) out.contentDisposition = cd;
  // aws-chunked is the transfer's encoding, not the object's.
  const enc = ce
    ?.split(',')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'aws-chunked')
    .join(', ');
  if (enc) out.contentEncoding = enc;
  return out;
}

async function readBody(c: Ctx): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of c.body()) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    n += b.length;
    if (n > XML_BODY_LIMIT) throw new S3Error('MalformedXML', 'The XML you provided was too large.');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function ownerXml(c: Ctx): string {
  const ctx = c.p.caller.kind === 'token' ? c.p.caller.ctx : null;
  return owner(c.p.projectId ?? '', ctx?.projectName ?? c.p.projectId ?? '');
}

function needLength(c: Ctx): number {
  if (c.contentLength === undefined)
    throw new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.');
  return c.contentLength;
}

// ---------------------------------------------------------------- service and buckets

async function serviceLevel(c: Ctx): Promise<void> {
  if (c.method !== 'GET')
    throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.');
  const buckets = await listBuckets(c.p);
  sendXml(c.res, 200, c.base, listBucketsXml(buckets, ownerXml(c)));
}

function intParam(c: Ctx, name: string, dflt: number): number {
  const v = c.query.get(name);
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v))
    throw new S3Error('InvalidArgument', `Provided ${name} not an integer or within integer range`, {
      ArgumentName: name,
      ArgumentValue: v,
    });
  return Number(v);
}

async function bucketLevel(c: Ctx): Promise<void> {
  const q = c.query;
  switch (c.method) {
    case 'PUT': {
      c.body().resume();
      await createBucket(c.p, c.bucket);
      sendXml(c.res, 200, { ...c.base, Location: `/${c.bucket}` }, undefined);
      return;
    }
    case 'HEAD': {
      await headBucket(c.p, c.bucket);
      sendXml(c.res, 200, { ...c.base, 'x-amz-bucket-region': 'us-east-1' }, undefined, true);
      return;
    }
    case 'DELETE': {
      await deleteBucket(c.p, c.bucket);
      sendXml(c.res, 204, c.base, undefined);
      return;
    }
    case 'POST': {
      if (q.has('delete')) return deleteObjects(c);
      throw new S3Error(
        'NotImplemented',
        'A header or query you provided implies functionality that is not implemented.',
      );
    }
    case 'GET': {
      if (q.has('location')) {
        await headBucket(c.p, c.bucket);
        sendXml(c.res, 200, c.base, `<LocationConstraint xmlns="${S3_NS}"/>`);
        return;
      }
      if (q.has('versioning')) {
        await headBucket(c.p, c.bucket);
        sendXml(c.res, 200, c.base, `<VersioningConfiguration xmlns="${S3_NS}"/>`);
        return;
      }
      for (const sub of ['acl', 'policy', 'uploads', 'lifecycle', 'cors', 'tagging', 'website', 'versions', 'logging'])
        if (q.has(sub))
          throw new S3Error(
            'NotImplemented',
            'A header or query you provided implies functionality that is not implemented.',
          );
      const et = q.get('encoding-type');
      if (et !== undefined && et !== 'url')
        throw new S3Error('InvalidArgument', 'Invalid Encoding Method specified in Request', {
          ArgumentName: 'encoding-type',
        });
      const maxKeys = intParam(c, 'max-keys', MAX_KEYS);
      const prefix = q.get('prefix') ?? '';
      const delimiter = q.get('delimiter') || undefined;
      if (q.get('list-type') === '2') {
        const token = q.get('continuation-token');
        const startAfter = q.get('start-after');
        const r = await listObjectsV2(c.p, c.bucket, {
          prefix,
          ...(delimiter !== undefined ? { delimiter } : {}),
          maxKeys,
          ...(token !== undefined ? { continuationToken: token } : {}),
          ...(startAfter ? { startAfter } : {}),
        });
        sendXml(
          c.res,
          200,
          c.base,
          listV2Xml(r, {
            bucket: c.bucket,
            prefix,
            ...(delimiter !== undefined ? { delimiter } : {}),
            maxKeys: Math.min(maxKeys, MAX_KEYS),
            ...(token !== undefined ? { continuationToken: token } : {}),
            ...(startAfter !== undefined ? { startAfter } : {}),
            ...(et === 'url' ? { encodingType: 'url' as const } : {}),
          }),
        );
        return;
      }
      const marker = q.get('marker') ?? '';
      const r = await listObjectsV2(c.p, c.bucket, {
        prefix,
        ...(delimiter !== undefined ? { delimiter } : {}),
        maxKeys,
        ...(marker ? { startAfter: marker } : {}),
      });
      sendXml(
        c.res,
        200,
        c.base,
        listV1Xml(r, {
          bucket: c.bucket,
          prefix,
          ...(delimiter !== undefined ? { delimiter } : {}),
          maxKeys: Math.min(maxKeys, MAX_KEYS),
          marker,
          ...(et === 'url' ? { encodingType: 'url' as const } : {}),
        }),
      );
      return;
    }
    default:
      throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }
}

/** DeleteObjects: up to 1,000 keys, each answered Deleted or Error. */
async function deleteObjects(c: Ctx): Promise<void> {
  const { keys, quiet } = parseDeleteBody(await readBody(c));
  const r = await deleteS3Objects(c.p, c.bucket, keys);
  sendXml(c.res, 200, c.base, deleteResultXml(r.deleted, r.errors, quiet));
}

// ---------------------------------------------------------------- objects

function objectResponseHeaders(c: Ctx, view: Awaited<ReturnType<typeof getS3Object>>['view']): Record<string, string> {
  const out: Record<string, string> = {
    ...c.base,
    ETag: quoteEtag(s3Etag(view)),
    'Last-Modified': view.lastModified.toUTCString(),
    'Content-Type': view.contentType,
    'Accept-Ranges': 'bytes',
  };
  if (view.contentDisposition) out['Content-Disposition'] = view.contentDisposition;
  if (view.contentEncoding) out['Content-Encoding'] = view.contentEncoding;
  for (const [k, v] of Object.entries(s3UserMeta(view.userMeta))) out[`x-amz-meta-${k}`] = v;
  return out;
}

async function objectGet(c: Ctx): Promise<void> {
  if (c.query.has('uploadId')) {
    const uploadId = c.query.get('uploadId') ?? '';
    const maxParts = intParam(c, 'max-parts', 1000);
    const marker = intParam(c, 'part-number-marker', 0);
    const r = await listParts(c.p, { bucket: c.bucket, key: c.key, uploadId, maxParts, partNumberMarker: marker });
    sendXml(
      c.res,
      200,
      c.base,
      listPartsXml(c.bucket, c.key, uploadId, r, Math.min(maxParts, 1000), marker, ownerXml(c)),
    );
    return;
  }
  for (const sub of ['acl', 'tagging', 'torrent', 'retention', 'legal-hold', 'attributes'])
    if (c.query.has(sub))
      throw new S3Error(
        'NotImplemented',
        'A header or query you provided implies functionality that is not implemented.',
      );
  let range: ReturnType<typeof parseRangeHeader>;
  try {
    range = parseRangeHeader(h(c, 'range'));
  } catch {
    range = undefined;
  }
  const conditions = conditionsIn((name) => h(c, name));
  const r = await getS3Object(c.p, {
    bucket: c.bucket,
    key: c.key,
    head: c.head,
    ...(range ? { range } : {}),
    conditions,
  });
  const headers = objectResponseHeaders(c, r.view);
  for (const [param, name] of [
    ['response-content-type', 'Content-Type'],
    ['response-content-disposition', 'Content-Disposition'],
    ['response-content-encoding', 'Content-Encoding'],
    ['response-content-language', 'Content-Language'],
    ['response-cache-control', 'Cache-Control'],
    ['response-expires', 'Expires'],
  ] as const) {
    const v = c.query.get(param);
    if (v !== undefined && c.p.caller.kind === 'token') headers[name] = v;
  }
  await sendObjectRead(c.res, r, headers, {
    head: c.head,
    notModified: { ...c.base, ETag: headers.ETag ?? '', 'Last-Modified': headers['Last-Modified'] ?? '' },
  });
}

async function objectPut(c: Ctx): Promise<void> {
  const copySource = h(c, 'x-amz-copy-source');
  const ct = h(c, 'content-type');
  const md5 = h(c, 'content-md5');
  if (c.query.has('uploadId') || c.query.has('partNumber')) {
    if (copySource) throw new S3Error('NotImplemented', 'UploadPartCopy is not implemented.');
    const partNumber = checkPartNumber(c.query.get('partNumber'));
    const { etag } = await uploadPart(c.p, {
      bucket: c.bucket,
      key: c.key,
      uploadId: c.query.get('uploadId') ?? '',
      partNumber,
      body: c.body(),
      contentLength: needLength(c),
      ...(md5 !== undefined ? { contentMd5: md5 } : {}),
    });
    sendXml(c.res, 200, { ...c.base, ETag: quoteEtag(etag) }, undefined);
    return;
  }
  if (copySource) {
    c.body().resume();
    const view = await copyS3Object(c.p, {
      bucket: c.bucket,
      key: c.key,
      source: copySource,
      ...(h(c, 'x-amz-metadata-directive') ? { metadataDirective: h(c, 'x-amz-metadata-directive') } : {}),
      ...(ct ? { contentType: ct } : {}),
      userMeta: userMetaIn(c.req),
      headers: objectHeadersIn(c),
    });
    sendXml(c.res, 200, c.base, copyResultXml(s3Etag(view), view.lastModified));
    return;
  }
  const view = await putS3Object(c.p, {
    bucket: c.bucket,
    key: c.key,
    body: c.body(),
    contentLength: needLength(c),
    ...(md5 !== undefined ? { contentMd5: md5 } : {}),
    ...(ct ? { contentType: ct } : {}),
    userMeta: userMetaIn(c.req),
    headers: objectHeadersIn(c),
  });
  sendXml(c.res, 200, { ...c.base, ETag: quoteEtag(view.etag) }, undefined);
}

async function objectLevel(c: Ctx): Promise<void> {
  switch (c.method) {
    case 'GET':
    case 'HEAD':
      return objectGet(c);
    case 'PUT':
      return objectPut(c);
    case 'POST': {
      if (c.query.has('uploads')) {
        c.body().resume();
        const ct = h(c, 'content-type');
        const { uploadId } = await createMultipartUpload(c.p, {
          bucket: c.bucket,
          key: c.key,
          ...(ct ? { contentType: ct } : {}),
          userMeta: userMetaIn(c.req),
        });
        sendXml(c.res, 200, c.base, initiateXml(c.bucket, c.key, uploadId));
        return;
      }
      if (c.query.has('uploadId')) {
        const parts = parseCompleteBody(await readBody(c));
        const { etag } = await completeMultipartUpload(c.p, {
          bucket: c.bucket,
          key: c.key,
          uploadId: c.query.get('uploadId') ?? '',
          parts,
        });
        const location = `${PREFIX}/${encodeURIComponent(c.bucket)}/${encodeURIComponent(c.key).replace(/%2F/g, '/')}`;
        sendXml(c.res, 200, c.base, completeXml(location, c.bucket, c.key, etag));
        return;
      }
      throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.');
    }
    case 'DELETE': {
      c.body().resume();
      if (c.query.has('uploadId')) {
        await abortMultipartUpload(c.p, { bucket: c.bucket, key: c.key, uploadId: c.query.get('uploadId') ?? '' });
        sendXml(c.res, 204, c.base, undefined);
        return;
      }
      await deleteS3Object(c.p, { bucket: c.bucket, key: c.key });
      sendXml(c.res, 204, c.base, undefined);
      return;
    }
    default:
      throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }
}

// ---------------------------------------------------------------- dispatch

function contentLengthOf(req: IncomingMessage, decoded: number | undefined): number | undefined {
  if (decoded !== undefined) return decoded;
  const cl = req.headers['content-length'];
  if (cl === undefined) return undefined;
  if (!/^\d+$/.test(cl)) throw new S3Error('InvalidArgument', 'Invalid Content-Length.');
  return Number(cl);
}

async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const method = (req.method ?? 'GET').toUpperCase();
  const head = method === 'HEAD';
  const reqId = requestId();
  const base: Record<string, string> = { 'x-amz-request-id': reqId, 'x-amz-id-2': reqId, Server: 'Stratus' };
  const rawUrl = req.url ?? '/';
  const qi = rawUrl.indexOf('?');
  const rawPath = qi < 0 ? rawUrl : rawUrl.slice(0, qi);
  const rawQuery = qi < 0 ? '' : rawUrl.slice(qi + 1);
  let resource = rawPath.slice(PREFIX.length) || '/';
  try {
    if (rawPath !== PREFIX && !rawPath.startsWith(`${PREFIX}/`)) return false;
    let rest: string;
    try {
      rest = decodeURIComponent(rawPath.slice(PREFIX.length + 1));
    } catch {
      throw new S3Error('InvalidURI', 'Could not parse the specified URI.');
    }
    resource = `/${rest}`;
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const key = slash < 0 ? '' : rest.slice(slash + 1);
    const auth = await authenticateS3({ method, rawPath, rawQuery, headers: lowerHeaders(req) });
    await ensureObjectBackend();
    const query = new Map(parseQuery(rawQuery));
    let wrapped: Readable | undefined;
    const c: Ctx = {
      req,
      res,
      method,
      head,
      base,
      query,
      bucket,
      key,
      p: auth.principal,
      body: () => {
        wrapped ??= auth.body(req);
        return wrapped;
      },
      ...(() => {
        const n = contentLengthOf(req, auth.decodedLength);
        return n !== undefined ? { contentLength: n } : {};
      })(),
    };
    void url;
    if (!bucket) await serviceLevel(c);
    else if (!key) await bucketLevel(c);
    else await objectLevel(c);
  } catch (err) {
    if (!readyForError(req, res)) return true;
    let e: S3Error;
    try {
      e = isS3Error(err) ? err : toS3Error(err);
    } catch {
      logger().error({ err }, 'unexpected error in the S3 API');
      e = new S3Error('InternalError', 'We encountered an internal error. Please try again.');
    }
    sendXml(res, e.status, base, errorXml(e.code, e.message, resource, reqId, e.extra), head);
  }
  return true;
}

export const s3Mount: RestMount = { prefix: PREFIX, handler: handle };
