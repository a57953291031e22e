import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { isStratusError } from '../../platform/errors.ts';
import type { ObjectCaller } from '../swift/access.ts';
import { accountOfProject } from '../swift/access.ts';
import { type ContainerSummary, listAccount } from '../swift/accounts.ts';
import type { Conditions, RangeSpec } from '../swift/conditions.ts';
import {
  deleteContainer,
  headContainer,
  listContainer,
  putContainer,
  type ObjectSummary,
} from '../swift/containers.ts';
import type { Meta } from '../swift/meta.ts';
import {
  copyObject,
  deleteObject,
  deleteSlo,
  type ObjectHeaders,
  type ObjectRead,
  type ObjectView,
  putObject,
  readObject,
} from '../swift/objects.ts';
import { db } from '../swift/store.ts';
import { S3Error, toS3Error } from './errors.ts';

/*
 * The S3 operations over the Swift core: a bucket is a container of the caller's
 * project account (AUTH_<project>), an object a Swift object, so both APIs see the same
 * data. Every call goes through the Swift functions, so policy, ACLs and quotas are
 * Swift's. Multipart uploads keep their parts as objects of a `<bucket>+segments`
 * container (`<key>/<upload id>/<part number>`, beside a marker object `<key>/<upload id>`
 * holding the upload's content type and metadata), and Complete writes an SLO manifest
 * over them, as Swift's s3api does.
 */

/** User metadata key that holds a multipart object's S3 ETag (`<md5 of part md5s>-<n>`); hidden from S3. */
export const S3_ETAG_META = 's3api-etag';
/** Suffix of the container holding a bucket's multipart parts. */
export const SEGMENTS_SUFFIX = '+segments';
/** S3's smallest part (all but the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10000;
export const MAX_KEYS = 1000;

export interface S3Principal {
  caller: ObjectCaller;
  /** The project of the signing credential (null: anonymous). */
  projectId: string | null;
}

// ---------------------------------------------------------------- buckets

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function checkBucketName(name: string): void {
  if (!BUCKET_RE.test(name) || name.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(name))
    throw new S3Error('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
}

/**
 * The account a bucket name refers to: the caller's own project when it has a container
 * of that name; else the oldest other account holding one (S3's namespace is global: the
 * Swift rules then decide, normally AccessDenied unless an ACL grants access); else the
 * caller's own (where it does not exist: NoSuchBucket).
 */
export async function bucketAccount(p: S3Principal, bucket: string): Promise<string> {
  const own = p.projectId ? accountOfProject(p.projectId) : null;
  const rows = await db().swiftContainer.findMany({
    where: { name: bucket },
    select: { account: true },
    orderBy: { createdAt: 'asc' },
    take: 50,
  });
  if (own && rows.some((r) => r.account === own)) return own;
  const other = rows[0]?.account;
  if (other) return other;
  if (own) return own;
  throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
}

function requireSigned(p: S3Principal): string {
  if (!p.projectId) throw new S3Error('AccessDenied', 'Access Denied');
  return accountOfProject(p.projectId);
}

export async function listBuckets(p: S3Principal): Promise<ContainerSummary[]> {
  const account = requireSigned(p);
  const out: ContainerSummary[] = [];
  let marker: string | undefined;
  for (;;) {
    const { entries } = await listAccount(p.caller, account, { ...(marker ? { marker } : {}), limit: 10000 }).catch(
      (err: unknown) => {
        // An account nobody wrote to yet lists as empty.
        if (isStratusError(err) && err.code === 'NotFound') return { entries: [] };
        throw toS3Error(err);
      },
    );
    for (const e of entries) if (e.kind === 'item' && !e.item.name.endsWith(SEGMENTS_SUFFIX)) out.push(e.item);
    const last = entries[entries.length - 1];
    if (entries.length < 10000 || !last || last.kind !== 'item') break;
    marker = last.item.name;
  }
  return out;
}

export async function createBucket(p: S3Principal, bucket: string): Promise<void> {
  const account = requireSigned(p);
  checkBucketName(bucket);
  const existing = await db().swiftContainer.findMany({ where: { name: bucket }, select: { account: true } });
  if (existing.some((r) => r.account === account))
    throw new S3Error(
      'BucketAlreadyOwnedByYou',
      'Your previous request to create the named bucket succeeded and you already own it.',
      { BucketName: bucket },
    );
  if (existing.length > 0)
    throw new S3Error(
      'BucketAlreadyExists',
      'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
      { BucketName: bucket },
    );
  await putContainer(p.caller, account, bucket, { meta: { set: {}, remove: [] } }).catch((err: unknown) => {
    throw toS3Error(err, 'NoSuchBucket');
  });
}

export async function headBucket(p: S3Principal, bucket: string): Promise<{ account: string }> {
  const account = await bucketAccount(p, bucket);
  await headContainer(p.caller, account, bucket).catch((err: unknown) => {
    throw withBucket(toS3Error(err, 'NoSuchBucket'), bucket);
  });
  return { account };
}

export async function deleteBucket(p: S3Principal, bucket: string): Promise<void> {
  const account = await bucketAccount(p, bucket);
  await deleteContainer(p.caller, account, bucket).catch((err: unknown) => {
    throw withBucket(toS3Error(err, 'NoSuchBucket'), bucket);
  });
  // Parts of uploads never completed go with the bucket when nothing else is left there.
  await deleteContainer(p.caller, account, bucket + SEGMENTS_SUFFIX).catch(() => undefined);
}

function withBucket(e: S3Error, bucket: string): S3Error {
  return e.code === 'NoSuchBucket' || e.code === 'BucketNotEmpty'
    ? new S3Error(e.code, e.message, { BucketName: bucket })
    : e;
}

// ---------------------------------------------------------------- listing

export interface ListV2Input {
  prefix: string;
  delimiter?: string;
  maxKeys: number;
  continuationToken?: string;
  startAfter?: string;
}

export interface ListV2Result {
  contents: ObjectSummary[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextContinuationToken?: string;
  keyCount: number;
}

export const encodeToken = (marker: string): string => Buffer.from(marker, 'utf8').toString('base64url');
function decodeToken(t: string): string {
  const s = Buffer.from(t, 'base64url').toString('utf8');
  if (!t || encodeToken(s) !== t.replace(/=+$/, ''))
    throw new S3Error('InvalidArgument', 'The continuation token provided is incorrect', {
      ArgumentName: 'continuation-token',
    });
  return s;
}

/** The exclusive marker that skips every name under a common prefix (its delimiter + 1). */
const pastPrefix = (p: string): string => p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);

export async function listObjectsV2(p: S3Principal, bucket: string, o: ListV2Input): Promise<ListV2Result> {
  const account = await bucketAccount(p, bucket);
  if (o.delimiter !== undefined && [...o.delimiter].length > 1)
    throw new S3Error('InvalidArgument', 'Only single-character delimiters are supported.', {
      ArgumentName: 'delimiter',
    });
  const maxKeys = Math.min(Math.max(o.maxKeys, 0), MAX_KEYS);
  let marker = o.startAfter;
  if (o.continuationToken !== undefined) marker = decodeToken(o.continuationToken);
  const { entries } = await listContainer(p.caller, account, bucket, {
    prefix: o.prefix,
    ...(o.delimiter ? { delimiter: o.delimiter } : {}),
    ...(marker ? { marker } : {}),
    limit: maxKeys + 1,
  }).catch((err: unknown) => {
    throw withBucket(toS3Error(err, 'NoSuchBucket'), bucket);
  });
  const page = entries.slice(0, maxKeys);
  const isTruncated = entries.length > maxKeys && maxKeys > 0;
  const last = page[page.length - 1];
  const contents: ObjectSummary[] = [];
  const commonPrefixes: string[] = [];
  for (const e of page) {
    if (e.kind === 'item') contents.push(e.item);
    else commonPrefixes.push(e.subdir);
  }
  return {
    contents,
    commonPrefixes,
    isTruncated,
    keyCount: page.length,
    ...(isTruncated && last
      ? { nextContinuationToken: encodeToken(last.kind === 'item' ? last.item.name : pastPrefix(last.subdir)) }
      : {}),
  };
}

// ---------------------------------------------------------------- objects

export interface S3PutInput {
  bucket: string;
  key: string;
  body: Readable;
  contentLength?: number;
  /** Content-MD5 (base64), checked by the store (BadDigest). */
  contentMd5?: string;
  contentType?: string;
  userMeta: Meta;
  headers: ObjectHeaders;
}

function checkKey(key: string): void {
  if (!key) throw new S3Error('InvalidArgument', 'Object key must not be empty.');
  if (Buffer.byteLength(key) > 1024) throw new S3Error('KeyTooLongError', 'Your key is too long');
}

function md5Hex(contentMd5: string): string {
  const b = Buffer.from(contentMd5, 'base64');
  if (b.length !== 16 || b.toString('base64') !== contentMd5.trim())
    throw new S3Error('InvalidDigest', 'The Content-MD5 you specified was invalid.');
  return b.toString('hex');
}

/** The body's own failure (a payload signature check) wins over what the store made of it. */
function bodyError(body: Readable, err: unknown, bucket: string): S3Error {
  const own: unknown = body.errored;
  if (own instanceof S3Error) return own;
  return withBucket(toS3Error(err, 'NoSuchBucket'), bucket);
}

/** The ETag S3 shows: a multipart object's own, else the md5. */
export function s3Etag(view: ObjectView): string {
  return view.userMeta[S3_ETAG_META] ?? view.etag;
}

/** User metadata as S3 shows it (without the keys this layer keeps there). */
export function s3UserMeta(meta: Meta): Meta {
  const out: Meta = {};
  for (const [k, v] of Object.entries(meta)) if (k !== S3_ETAG_META) out[k] = v;
  return out;
}

export async function putS3Object(p: S3Principal, i: S3PutInput): Promise<ObjectView> {
  checkKey(i.key);
  const account = await bucketAccount(p, i.bucket);
  const etag = i.contentMd5 !== undefined ? md5Hex(i.contentMd5) : undefined;
  return putObject(p.caller, {
    path: { account, container: i.bucket, object: i.key },
    body: i.body,
    ...(i.contentLength !== undefined ? { contentLength: i.contentLength } : {}),
    ...(etag ? { etag } : {}),
    contentType: i.contentType ?? 'binary/octet-stream',
    userMeta: s3UserMeta(i.userMeta),
    headers: i.headers,
  }).catch((err: unknown) => {
    throw bodyError(i.body, err, i.bucket);
  });
}

export async function getS3Object(
  p: S3Principal,
  i: { bucket: string; key: string; head: boolean; range?: RangeSpec; conditions: Conditions },
): Promise<ObjectRead> {
  checkKey(i.key);
  const account = await bucketAccount(p, i.bucket);
  return readObject(p.caller, {
    path: { account, container: i.bucket, object: i.key },
    head: i.head,
    ...(i.range ? { range: i.range } : {}),
    conditions: i.conditions,
  }).catch((err: unknown) => {
    throw withKey(toS3Error(err, 'NoSuchKey'), i.key);
  });
}

function withKey(e: S3Error, key: string): S3Error {
  return e.code === 'NoSuchKey' ? new S3Error(e.code, e.message, { Key: key }) : e;
}

/** S3 answers 204 whether or not the key existed; a multipart object takes its parts with it. */
export async function deleteS3Object(p: S3Principal, i: { bucket: string; key: string }): Promise<void> {
  checkKey(i.key);
  const account = await bucketAccount(p, i.bucket);
  const path = { account, container: i.bucket, object: i.key };
  try {
    const cur = await readObject(p.caller, { path, head: true }).catch((err: unknown) => {
      if (isStratusError(err) && err.code === 'NotFound') return null;
      throw err;
    });
    if (!cur) {
      // The bucket must exist.
      await headContainer(p.caller, account, i.bucket);
      return;
    }
    if (cur.view.largeObject === 'slo' && cur.view.userMeta[S3_ETAG_META] !== undefined)
      await deleteSlo(p.caller, path);
    else await deleteObject(p.caller, path);
  } catch (err) {
    if (isStratusError(err) && err.code === 'NotFound') {
      const c = await db().swiftContainer.findUnique({ where: { account_name: { account, name: i.bucket } } });
      if (!c) throw withBucket(toS3Error(err, 'NoSuchBucket'), i.bucket);
      return;
    }
    throw toS3Error(err);
  }
}

/** DeleteObjects takes at most this many keys a request. */
export const MAX_DELETE_KEYS = 1000;

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', quot: '"', apos: "'" };
const unescapeXml = (s: string) =>
  s.replace(/&(lt|gt|quot|apos);/g, (_m, e: string) => XML_ENTITIES[e] ?? '').replace(/&amp;/g, '&');

/** A DeleteObjects body (`<Delete><Quiet>…</Quiet><Object><Key>…</Key></Object>…</Delete>`): 1 to 1,000 keys. */
export function parseDeleteBody(xml: string): { keys: string[]; quiet: boolean } {
  const keys = [...xml.matchAll(/<Object>[\s\S]*?<Key>([\s\S]*?)<\/Key>[\s\S]*?<\/Object>/g)].map((m) =>
    unescapeXml(m[1] ?? ''),
  );
  if (!/<Delete[\s>]/.test(xml) || keys.length === 0 || keys.length > MAX_DELETE_KEYS)
    throw new S3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  return { keys, quiet: /<Quiet>\s*true\s*<\/Quiet>/i.test(xml) };
}

export interface DeleteObjectsResult {
  deleted: string[];
  errors: Array<{ key: string; code: string; message: string }>;
}

/** DeleteObjects: the bucket must exist; then each key on its own, a failure being that key's Error. */
export async function deleteS3Objects(p: S3Principal, bucket: string, keys: string[]): Promise<DeleteObjectsResult> {
  await headBucket(p, bucket);
  const out: DeleteObjectsResult = { deleted: [], errors: [] };
  for (const key of keys) {
    try {
      await deleteS3Object(p, { bucket, key });
      out.deleted.push(key);
    } catch (err) {
      const e = toS3Error(err);
      out.errors.push({ key, code: e.code, message: e.message });
    }
  }
  return out;
}

export async function copyS3Object(
  p: S3Principal,
  i: {
    bucket: string;
    key: string;
    source: string;
    metadataDirective?: string;
    contentType?: string;
    userMeta: Meta;
    headers: ObjectHeaders;
  },
): Promise<ObjectView> {
  checkKey(i.key);
  let src = i.source.split('?')[0] ?? '';
  try {
    src = decodeURIComponent(src);
  } catch {
    throw new S3Error('InvalidArgument', 'Invalid copy source encoding.', { ArgumentName: 'x-amz-copy-source' });
  }
  src = src.replace(/^\/+/, '');
  const slash = src.indexOf('/');
  if (slash <= 0 || slash === src.length - 1)
    throw new S3Error(
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey.',
      {
        ArgumentName: 'x-amz-copy-source',
      },
    );
  const fromBucket = src.slice(0, slash);
  const fromKey = src.slice(slash + 1);
  const replace = (i.metadataDirective ?? 'COPY').toUpperCase() === 'REPLACE';
  if (fromBucket === i.bucket && fromKey === i.key && !replace)
    throw new S3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  const [fromAccount, toAccount] = await Promise.all([bucketAccount(p, fromBucket), bucketAccount(p, i.bucket)]);
  const r = await copyObject(p.caller, {
    from: { account: fromAccount, container: fromBucket, object: fromKey },
    to: { account: toAccount, container: i.bucket, object: i.key },
    userMeta: replace ? s3UserMeta(i.userMeta) : {},
    freshMetadata: replace,
    ...(replace && i.contentType ? { contentType: i.contentType } : {}),
    headers: replace ? i.headers : {},
  }).catch((err: unknown) => {
    throw toS3Error(err, 'NoSuchKey');
  });
  return r.view;
}

// ---------------------------------------------------------------- multipart

const UPLOAD_ID_RE = /^[0-9a-f]{32}$/;
const partName = (key: string, uploadId: string, n: number) => `${key}/${uploadId}/${n}`;
const markerName = (key: string, uploadId: string) => `${key}/${uploadId}`;

interface Upload {
  account: string;
  segments: string;
  marker: ObjectView;
}

async function findUpload(p: S3Principal, bucket: string, key: string, uploadId: string): Promise<Upload> {
  checkKey(key);
  const account = await bucketAccount(p, bucket);
  // The bucket must be visible to the caller first (NoSuchBucket / AccessDenied).
  await headContainer(p.caller, account, bucket).catch((err: unknown) => {
    throw withBucket(toS3Error(err, 'NoSuchBucket'), bucket);
  });
  const noUpload = () =>
    new S3Error(
      'NoSuchUpload',
      'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
      { UploadId: uploadId },
    );
  if (!UPLOAD_ID_RE.test(uploadId)) throw noUpload();
  const segments = bucket + SEGMENTS_SUFFIX;
  const r = await readObject(p.caller, {
    path: { account, container: segments, object: markerName(key, uploadId) },
    head: true,
  }).catch((err: unknown) => {
    if (isStratusError(err) && err.code === 'NotFound') throw noUpload();
    throw toS3Error(err);
  });
  return { account, segments, marker: r.view };
}

export async function createMultipartUpload(
  p: S3Principal,
  i: { bucket: string; key: string; contentType?: string; userMeta: Meta },
): Promise<{ uploadId: string }> {
  checkKey(i.key);
  const account = await bucketAccount(p, i.bucket);
  await headContainer(p.caller, account, i.bucket).catch((err: unknown) => {
    throw withBucket(toS3Error(err, 'NoSuchBucket'), i.bucket);
  });
  const segments = i.bucket + SEGMENTS_SUFFIX;
  await putContainer(p.caller, account, segments, { meta: { set: {}, remove: [] } }).catch((err: unknown) => {
    throw toS3Error(err);
  });
  const uploadId = randomBytes(16).toString('hex');
  await putObject(p.caller, {
    path: { account, container: segments, object: markerName(i.key, uploadId) },
    body: Readable.from([]),
    contentLength: 0,
    contentType: i.contentType ?? 'binary/octet-stream',
    userMeta: s3UserMeta(i.userMeta),
    headers: {},
  }).catch((err: unknown) => {
    throw toS3Error(err);
  });
  return { uploadId };
}

export function checkPartNumber(raw: string | undefined): number {
  if (raw === undefined || !/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PART_NUMBER)
    throw new S3Error('InvalidArgument', 'Part number must be an integer between 1 and 10000, inclusive', {
      ArgumentName: 'partNumber',
      ArgumentValue: raw ?? '',
    });
  return Number(raw);
}

export async function uploadPart(
  p: S3Principal,
  i: {
    bucket: string;
    key: string;
    uploadId: string;
    partNumber: number;
    body: Readable;
    contentLength?: number;
    contentMd5?: string;
  },
): Promise<{ etag: string }> {
  const up = await findUpload(p, i.bucket, i.key, i.uploadId);
  const etag = i.contentMd5 !== undefined ? md5Hex(i.contentMd5) : undefined;
  const view = await putObject(p.caller, {
    path: { account: up.account, container: up.segments, object: partName(i.key, i.uploadId, i.partNumber) },
    body: i.body,
    ...(i.contentLength !== undefined ? { contentLength: i.contentLength } : {}),
    ...(etag ? { etag } : {}),
    contentType: 'application/octet-stream',
    userMeta: {},
    headers: {},
  }).catch((err: unknown) => {
    throw bodyError(i.body, err, i.bucket);
  });
  return { etag: view.etag };
}

export interface PartInfo {
  partNumber: number;
  etag: string;
  size: number;
  lastModified: Date;
}

async function partsOf(p: S3Principal, up: Upload, key: string, uploadId: string): Promise<PartInfo[]> {
  const prefix = `${key}/${uploadId}/`;
  const out: PartInfo[] = [];
  let marker: string | undefined;
  for (;;) {
    const { entries } = await listContainer(p.caller, up.account, up.segments, {
      prefix,
      ...(marker ? { marker } : {}),
      limit: 10000,
    }).catch((err: unknown) => {
      throw toS3Error(err);
    });
    for (const e of entries) {
      if (e.kind !== 'item') continue;
      const n = e.item.name.slice(prefix.length);
      if (!/^\d+$/.test(n)) continue;
      out.push({ partNumber: Number(n), etag: e.item.etag, size: e.item.bytes, lastModified: e.item.lastModified });
    }
    const last = entries[entries.length - 1];
    if (entries.length < 10000 || !last || last.kind !== 'item') break;
    marker = last.item.name;
  }
  return out.sort((a, b) => a.partNumber - b.partNumber);
}

export async function listParts(
  p: S3Principal,
  i: { bucket: string; key: string; uploadId: string; maxParts?: number; partNumberMarker?: number },
): Promise<{ parts: PartInfo[]; isTruncated: boolean; nextPartNumberMarker?: number }> {
  const up = await findUpload(p, i.bucket, i.key, i.uploadId);
  const all = (await partsOf(p, up, i.key, i.uploadId)).filter((x) => x.partNumber > (i.partNumberMarker ?? 0));
  const max = Math.min(Math.max(i.maxParts ?? 1000, 0), 1000);
  const parts = all.slice(0, max);
  const isTruncated = all.length > max;
  const last = parts[parts.length - 1];
  return { parts, isTruncated, ...(isTruncated && last ? { nextPartNumberMarker: last.partNumber } : {}) };
}

export async function abortMultipartUpload(
  p: S3Principal,
  i: { bucket: string; key: string; uploadId: string },
): Promise<void> {
  const up = await findUpload(p, i.bucket, i.key, i.uploadId);
  const parts = await partsOf(p, up, i.key, i.uploadId);
  await deleteAll(
    p,
    up,
    parts.map((x) => partName(i.key, i.uploadId, x.partNumber)),
  );
  await deleteQuiet(p, up, markerName(i.key, i.uploadId));
}

async function deleteQuiet(p: S3Principal, up: Upload, object: string): Promise<void> {
  await deleteObject(p.caller, { account: up.account, container: up.segments, object }).catch((err: unknown) => {
    if (isStratusError(err) && err.code === 'NotFound') return;
    throw toS3Error(err);
  });
}

async function deleteAll(p: S3Principal, up: Upload, names: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (;;) {
      const name = names[next++];
      if (name === undefined) return;
      await deleteQuiet(p, up, name);
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, names.length) }, worker));
}

const CompletePart = z.object({ partNumber: z.number().int().min(1).max(MAX_PART_NUMBER), etag: z.string() });

/** The parts of a CompleteMultipartUpload body (`<Part><PartNumber>…</PartNumber><ETag>…</ETag></Part>`). */
export function parseCompleteBody(xml: string): Array<z.infer<typeof CompletePart>> {
  const malformed = () =>
    new S3Error(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  if (!/<CompleteMultipartUpload[\s>]/.test(xml)) throw malformed();
  const parts: Array<z.infer<typeof CompletePart>> = [];
  for (const m of xml.matchAll(/<Part>([\s\S]*?)<\/Part>/g)) {
    const body = m[1] ?? '';
    const n = /<PartNumber>\s*(\d+)\s*<\/PartNumber>/.exec(body)?.[1];
    const etag = /<ETag>([\s\S]*?)<\/ETag>/.exec(body)?.[1];
    const r = CompletePart.safeParse({
      partNumber: n === undefined ? undefined : Number(n),
      etag: etag
        ?.replace(/&quot;/g, '"')
        .replace(/&amp;/g, '&')
        .replace(/"/g, '')
        .trim(),
    });
    if (!r.success) throw malformed();
    parts.push(r.data);
  }
  if (parts.length === 0) throw malformed();
  return parts;
}

/** S3's multipart ETag: md5 of the parts' binary md5s, then "-<number of parts>". */
export function multipartEtag(partEtags: string[]): string {
  const h = createHash('md5');
  for (const e of partEtags) h.update(Buffer.from(e, 'hex'));
  return `${h.digest('hex')}-${partEtags.length}`;
}

export async function completeMultipartUpload(
  p: S3Principal,
  i: { bucket: string; key: string; uploadId: string; parts: Array<{ partNumber: number; etag: string }> },
): Promise<{ etag: string; view: ObjectView }> {
  const up = await findUpload(p, i.bucket, i.key, i.uploadId);
  const stored = new Map((await partsOf(p, up, i.key, i.uploadId)).map((x) => [x.partNumber, x]));
  let prev = 0;
  const chosen: PartInfo[] = [];
  for (const want of i.parts) {
    if (want.partNumber <= prev)
      throw new S3Error(
        'InvalidPartOrder',
        'The list of parts was not in ascending order. Parts must be ordered by part number.',
        {
          UploadId: i.uploadId,
        },
      );
    prev = want.partNumber;
    const got = stored.get(want.partNumber);
    if (!got || got.etag !== want.etag.toLowerCase())
      throw new S3Error(
        'InvalidPart',
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        { UploadId: i.uploadId, PartNumber: String(want.partNumber), ETag: want.etag },
      );
    chosen.push(got);
  }
  chosen.forEach((c, idx) => {
    if (idx < chosen.length - 1 && c.size < MIN_PART_SIZE)
      throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed object size.', {
        ProposedSize: String(c.size),
        MinSizeAllowed: String(MIN_PART_SIZE),
        PartNumber: String(c.partNumber),
        ETag: c.etag,
      });
  });
  const etag = multipartEtag(chosen.map((c) => c.etag));
  const manifest = JSON.stringify(
    chosen.map((c) => ({
      path: `/${up.segments}/${partName(i.key, i.uploadId, c.partNumber)}`,
      etag: c.etag,
      size_bytes: c.size,
    })),
  );
  const view = await putObject(p.caller, {
    path: { account: up.account, container: i.bucket, object: i.key },
    body: Readable.from([Buffer.from(manifest)]),
    contentType: up.marker.contentType,
    userMeta: { ...s3UserMeta(up.marker.userMeta), [S3_ETAG_META]: etag },
    headers: {},
    sloManifest: true,
  }).catch((err: unknown) => {
    throw toS3Error(err);
  });
  // The upload is done: its marker and the parts not used go.
  const used = new Set(chosen.map((c) => c.partNumber));
  await deleteAll(
    p,
    up,
    [...stored.keys()].filter((n) => !used.has(n)).map((n) => partName(i.key, i.uploadId, n)),
  );
  await deleteQuiet(p, up, markerName(i.key, i.uploadId));
  return { etag, view: { ...view, userMeta: { ...view.userMeta, [S3_ETAG_META]: etag } } };
}
