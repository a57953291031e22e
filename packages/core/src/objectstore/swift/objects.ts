import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream';
import { badRequest, isStratusError, notFound, StratusError } from '../../platform/errors.ts';
import type { ByteRange, ObjectMetadata, ObjectPath } from '../backend.ts';
import { authorize, isOwner, type ObjectCaller, validContainerName, validObjectName } from './access.ts';
import { LIMITS } from './constants.ts';
import { evaluateConditions, type Conditions, type RangeSpec, resolveRange } from './conditions.ts';
import { type ContainerRow, findContainer } from './containers.ts';
import {
  authorizeSegments,
  buildSloManifest,
  concatSegments,
  DLO_MANIFEST,
  dloManifest,
  dloSegments,
  isSlo,
  parseStoredManifest,
  readSmall,
  SLO_ETAG,
  SLO_FLAG,
  SLO_SIZE,
  type Segment,
  sloSegments,
} from './large.ts';
import { checkMeta, type Meta } from './meta.ts';
import { guessContentType } from './mime.ts';
import { meteredBody, type Reservation, reserveUpload } from './quota.ts';
import { commitDelete, commitPost, commitPut, listedDeleteAt } from './rows.ts';
import { db, objectBackend, transaction } from './store.ts';
import { lastModifiedSeconds, newer, newTimestamp, timestampToDate } from './timestamp.ts';

/*
 * Objects: PUT (streamed into the replicated backend, then listed), GET/HEAD (ranges,
 * conditions, large objects), POST (metadata), COPY, DELETE, expiry. Functions take
 * plain values, not HTTP requests, so that an S3 layer can call them too.
 */
export interface ObjectHeaders {
  contentDisposition?: string;
  contentEncoding?: string;
  /** X-Delete-At (seconds since the epoch) as sent. */
  deleteAt?: string;
  /** X-Delete-After (seconds from now) as sent. */
  deleteAfter?: string;
  /** POST: X-Remove-Delete-At. */
  removeDeleteAt?: boolean;
  /** DLO: X-Object-Manifest "container/prefix". */
  objectManifest?: string;
}

/** What GET/HEAD and PUT return about an object. */
export interface ObjectView {
  path: ObjectPath;
  /** md5 hex; for a large object the md5 of its segments' etags (clients see it quoted). */
  etag: string;
  size: number;
  contentType: string;
  timestamp: string;
  lastModified: Date;
  userMeta: Meta;
  contentDisposition?: string;
  contentEncoding?: string;
  deleteAt?: number;
  largeObject?: 'slo' | 'dlo';
  objectManifest?: string;
}

export interface ObjectRead {
  status: 200 | 206 | 304;
  view: ObjectView;
  range?: ByteRange;
  body?: Readable;
}

export interface ReadRequest {
  path: ObjectPath;
  head?: boolean;
  range?: RangeSpec;
  conditions?: Conditions;
  /** multipart-manifest=get: the manifest itself rather than the large object. */
  manifest?: boolean;
}

export interface PutRequest {
  path: ObjectPath;
  body: Readable;
  contentLength?: number;
  etag?: string;
  /** undefined: guessed from the name. */
  contentType?: string;
  userMeta: Meta;
  headers: ObjectHeaders;
  /** If-None-Match: "*" only (412 when the object exists). */
  ifNoneMatch?: string;
  /** multipart-manifest=put: the body is an SLO manifest. */
  sloManifest?: boolean;
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

function checkPath(p: ObjectPath): void {
  validContainerName(p.container);
  validObjectName(p.object);
}

function deleteAtOf(md: ObjectMetadata): number | undefined {
  const v = md.sysMeta['x-delete-at'];
  return v && /^\d+$/.test(v) ? Number(v) : undefined;
}

const expired = (md: ObjectMetadata) => {
  const d = deleteAtOf(md);
  return d !== undefined && d <= nowSeconds();
};

/** X-Delete-At / X-Delete-After → an absolute time; 400 when malformed or past. */
export function resolveDeleteAt(h: ObjectHeaders): number | undefined {
  if (h.deleteAfter !== undefined) {
    if (!/^\s*-?\d+\s*$/.test(h.deleteAfter)) throw badRequest('Non-integer X-Delete-After');
    const after = Number(h.deleteAfter);
    if (after < 0) throw badRequest('X-Delete-After in past');
    return nowSeconds() + after;
  }
  if (h.deleteAt !== undefined) {
    if (!/^\s*\d+(\.\d+)?\s*$/.test(h.deleteAt)) throw badRequest('Non-integer X-Delete-At');
    const at = Math.floor(Number(h.deleteAt));
    if (at <= nowSeconds()) throw badRequest('X-Delete-At in past');
    return at;
  }
  return undefined;
}

function viewOf(p: ObjectPath, md: ObjectMetadata): ObjectView {
  const ts = md.metaTimestamp && newer(md.metaTimestamp, md.timestamp) ? md.metaTimestamp : md.timestamp;
  const v: ObjectView = {
    path: p,
    etag: md.etag,
    size: md.size,
    contentType: md.contentType,
    timestamp: md.timestamp,
    lastModified: timestampToDate(ts),
    userMeta: md.userMeta,
  };
  const cd = md.sysMeta['content-disposition'];
  const ce = md.sysMeta['content-encoding'];
  const da = deleteAtOf(md);
  if (cd) v.contentDisposition = cd;
  if (ce) v.contentEncoding = ce;
  if (da !== undefined) v.deleteAt = da;
  const dlo = dloManifest(md);
  if (dlo) v.objectManifest = dlo;
  return v;
}

/** Reads are authorized by policy for owners, by the container's read ACL otherwise. */
async function authorizeRead(caller: ObjectCaller, p: ObjectPath): Promise<void> {
  if (isOwner(caller, p.account, false)) return;
  const c = await findContainer(p.account, p.container);
  authorize(caller, p.account, 'object.read', {
    container: p.container,
    acl: c ?? { readAcl: null, writeAcl: null },
    object: p.object,
  });
}

async function authorizeWrite(
  caller: ObjectCaller,
  p: ObjectPath,
  op: 'object.write' | 'object.delete',
): Promise<ContainerRow | null> {
  const c = await findContainer(p.account, p.container);
  authorize(caller, p.account, op, {
    container: p.container,
    acl: c ?? { readAcl: null, writeAcl: null },
    object: p.object,
  });
  return c;
}

// ---------------------------------------------------------------- read

/** GET and HEAD: 200/206/304, 404 (missing or expired), 412, 416. */
export async function readObject(caller: ObjectCaller, req: ReadRequest): Promise<ObjectRead> {
  checkPath(req.path);
  await authorizeRead(caller, req.path);
  const backend = objectBackend();
  let md: ObjectMetadata | null;
  let body: Readable | undefined;
  if (req.head || req.range) md = await backend.head(req.path);
  else {
    const r = await backend.get(req.path);
    md = r?.metadata ?? null;
    body = r?.body;
  }
  try {
    if (!md || expired(md)) throw notFound('The resource could not be found.');
    const view = viewOf(req.path, md);
    let segments: Segment[] | undefined;
    if (isSlo(md) && !req.manifest) {
      view.largeObject = 'slo';
      const size = Number(md.sysMeta[SLO_SIZE]);
      const etag = md.sysMeta[SLO_ETAG];
      if (!req.head || !Number.isFinite(size) || !etag) {
        const src = body ?? (await backend.get(req.path))?.body;
        body = undefined;
        if (!src) throw notFound('The resource could not be found.');
        const manifest = parseStoredManifest(await readSmall(src, LIMITS.maxManifestSize, 'Manifest'));
        segments = sloSegments(req.path.account, manifest);
        view.size = segments.reduce((n, s) => n + s.length, 0);
        view.etag = etag ?? view.etag;
      } else {
        view.size = size;
        view.etag = etag;
      }
    } else if (view.objectManifest && !req.manifest) {
      body?.destroy();
      body = undefined;
      view.largeObject = 'dlo';
      const dlo = await dloSegments(req.path.account, view.objectManifest);
      segments = dlo.segments;
      view.size = segments.reduce((n, s) => n + s.length, 0);
      view.etag = dlo.etag;
    }
    if (evaluateConditions(req.conditions ?? {}, view.etag, lastModifiedSeconds(view.timestamp)) === 'not-modified') {
      body?.destroy();
      return { status: 304, view };
    }
    const range = req.range ? resolveRange(req.range, view.size) : undefined;
    if (req.head) return { status: range ? 206 : 200, view, ...(range ? { range } : {}) };
    if (segments) {
      await authorizeSegments(caller, segments);
      return { status: range ? 206 : 200, view, ...(range ? { range } : {}), body: concatSegments(segments, range) };
    }
    if (range) {
      const r = await backend.get(req.path, range);
      if (!r) throw notFound('The resource could not be found.');
      return { status: 206, view, range, body: r.body };
    }
    if (!body) throw notFound('The resource could not be found.');
    return { status: 200, view, body };
  } catch (err) {
    body?.destroy();
    throw err;
  }
}

// ---------------------------------------------------------------- write

/** Counts the bytes going to the backend; fails when they differ from Content-Length. */
function lengthCheck(declared: number | undefined): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _e, cb: TransformCallback) {
      seen += chunk.length;
      if (declared !== undefined && seen > declared) cb(badRequest('Request body is longer than Content-Length.'));
      else cb(null, chunk);
    },
    flush(cb: TransformCallback) {
      if (declared !== undefined && seen !== declared)
        cb(new StratusError('BadRequest', 'Client disconnected before sending the whole body.', { aborted: true }));
      else cb();
    },
  });
}

function sysMetaOf(h: ObjectHeaders, deleteAt: number | undefined): Record<string, string> {
  const s: Record<string, string> = {};
  if (h.contentDisposition) s['content-disposition'] = h.contentDisposition;
  if (h.contentEncoding) s['content-encoding'] = h.contentEncoding;
  if (deleteAt !== undefined) s['x-delete-at'] = String(deleteAt);
  if (h.objectManifest) s[DLO_MANIFEST] = h.objectManifest;
  return s;
}

/** Streams the body into the backend under any quota, then lists the object. */
async function store(
  p: ObjectPath,
  opts: {
    body: Readable;
    contentLength?: number;
    etag?: string;
    contentType: string;
    userMeta: Meta;
    sysMeta: Record<string, string>;
    listing?: { bytes: number; etag: string };
  },
): Promise<ObjectMetadata> {
  const c = await findContainer(p.account, p.container);
  if (!c) {
    opts.body.resume();
    throw notFound('The resource could not be found.');
  }
  let reservation: Reservation | null = null;
  let committed = false;
  try {
    const isNew = async () => {
      const r = await db().swiftObject.findUnique({
        where: { account_container_name: { account: p.account, container: p.container, name: p.object } },
        select: { deleted: true },
      });
      return !r || r.deleted;
    };
    reservation = await reserveUpload(p.account, p.container, opts.contentLength, isNew);
    let streamError: unknown;
    const onDone = (err: NodeJS.ErrnoException | null) => {
      if (err) streamError = err;
    };
    // pipeline(): an error anywhere (client gone, quota passed) destroys every stage.
    const check = lengthCheck(opts.contentLength);
    const body = reservation
      ? pipeline(opts.body, check, meteredBody(reservation, opts.contentLength), onDone)
      : pipeline(opts.body, check, onDone);
    const ts = newTimestamp();
    let md: ObjectMetadata;
    try {
      md = await objectBackend().put(p, {
        body,
        ...(opts.contentLength !== undefined ? { contentLength: opts.contentLength } : {}),
        ...(opts.etag ? { expectedEtag: opts.etag } : {}),
        contentType: opts.contentType,
        userMeta: opts.userMeta,
        sysMeta: opts.sysMeta,
        timestamp: ts,
      });
    } catch (err) {
      if (isStratusError(streamError)) throw streamError;
      throw err;
    }
    if (isStratusError(streamError)) throw streamError;
    const deleteAt = deleteAtOf(md);
    committed = true;
    const listed = await commitPut(
      p,
      {
        bytes: opts.listing?.bytes ?? md.size,
        storedBytes: md.size,
        etag: opts.listing?.etag ?? md.etag,
        contentType: md.contentType,
        timestamp: md.timestamp,
        deleteAt,
      },
      reservation,
    );
    if (!listed) {
      // The container went away while we uploaded: the object belongs to nobody.
      await objectBackend()
        .delete(p, newTimestamp())
        .catch(() => false);
      throw notFound('The resource could not be found.');
    }
    return md;
  } finally {
    if (reservation && !committed) await reservation.release().catch(() => {});
  }
}

export async function putObject(caller: ObjectCaller, req: PutRequest): Promise<ObjectView> {
  // The body may break while we check: its error must not go unhandled.
  req.body.on('error', () => {});
  checkPath(req.path);
  await authorizeWrite(caller, req.path, 'object.write');
  checkMeta('Object', req.userMeta);
  if (req.contentLength !== undefined && req.contentLength > LIMITS.maxFileSize)
    throw new StratusError('QuotaExceeded', 'Your request is too large.');
  const deleteAt = resolveDeleteAt(req.headers);
  if (req.ifNoneMatch !== undefined) {
    if (req.ifNoneMatch.trim() !== '*') throw badRequest('If-None-Match only supports *');
    const cur = await objectBackend().head(req.path);
    if (cur && !expired(cur))
      throw new StratusError('PreconditionFailed', 'A precondition for this request was not met.');
  }
  const contentType = req.contentType ?? guessContentType(req.path.object);
  const sysMeta = sysMetaOf(req.headers, deleteAt);
  if (req.sloManifest) {
    const slo = await buildSloManifest(caller, req.path.account, req.body);
    if (req.etag && req.etag.replace(/"/g, '') !== slo.etag)
      throw new StratusError('UnprocessableEntity', 'Unable to process the contained instructions');
    const manifest = Buffer.from(JSON.stringify(slo.stored));
    delete sysMeta[DLO_MANIFEST];
    const md = await store(req.path, {
      body: Readable.from([manifest]),
      contentLength: manifest.length,
      contentType,
      userMeta: req.userMeta,
      sysMeta: { ...sysMeta, [SLO_FLAG]: 'True', [SLO_SIZE]: String(slo.size), [SLO_ETAG]: slo.etag },
      listing: { bytes: slo.size, etag: slo.etag },
    });
    return { ...viewOf(req.path, md), etag: slo.etag, size: slo.size, largeObject: 'slo' };
  }
  const md = await store(req.path, {
    body: req.body,
    ...(req.contentLength !== undefined ? { contentLength: req.contentLength } : {}),
    ...(req.etag ? { etag: req.etag.replace(/"/g, '').toLowerCase() } : {}),
    contentType,
    userMeta: req.userMeta,
    sysMeta,
  });
  return viewOf(req.path, md);
}

// ---------------------------------------------------------------- copy

export interface CopyRequest {
  from: ObjectPath;
  to: ObjectPath;
  /** Metadata sent with the COPY / PUT: merged over the source's unless fresh. */
  userMeta: Meta;
  freshMetadata?: boolean;
  contentType?: string;
  headers: ObjectHeaders;
  ifNoneMatch?: string;
  /** multipart-manifest=get on the source: copy the SLO manifest itself. */
  manifest?: boolean;
}

export interface CopyResult {
  view: ObjectView;
  source: ObjectView;
}

export async function copyObject(caller: ObjectCaller, req: CopyRequest): Promise<CopyResult> {
  checkPath(req.to);
  await authorizeWrite(caller, req.to, 'object.write');
  const src = await readObject(caller, { path: req.from, ...(req.manifest ? { manifest: true } : {}) });
  const body = src.body ?? Readable.from([]);
  const s = src.view;
  try {
    const userMeta = req.freshMetadata ? req.userMeta : { ...s.userMeta, ...req.userMeta };
    const headers: ObjectHeaders = {
      ...(s.contentDisposition ? { contentDisposition: s.contentDisposition } : {}),
      ...(s.contentEncoding ? { contentEncoding: s.contentEncoding } : {}),
      ...req.headers,
    };
    const view = await putObject(caller, {
      path: req.to,
      body,
      contentLength: s.size,
      ...(s.largeObject ? {} : { etag: s.etag }),
      contentType: req.contentType ?? s.contentType,
      userMeta,
      headers,
      ...(req.ifNoneMatch !== undefined ? { ifNoneMatch: req.ifNoneMatch } : {}),
    });
    return { view, source: s };
  } catch (err) {
    body.destroy();
    throw err;
  }
}

// ---------------------------------------------------------------- post

export interface PostRequest {
  path: ObjectPath;
  userMeta: Meta;
  contentType?: string;
  headers: ObjectHeaders;
}

/** POST replaces the user metadata (and content type, disposition, encoding, X-Delete-At). */
export async function postObject(caller: ObjectCaller, req: PostRequest): Promise<void> {
  checkPath(req.path);
  await authorizeWrite(caller, req.path, 'object.write');
  checkMeta('Object', req.userMeta);
  const backend = objectBackend();
  const cur = await backend.head(req.path);
  if (!cur || expired(cur)) throw notFound('The resource could not be found.');
  const newDeleteAt = resolveDeleteAt(req.headers);
  const deleteAt = req.headers.removeDeleteAt ? undefined : (newDeleteAt ?? deleteAtOf(cur));
  const sysMeta: Record<string, string> = {};
  for (const k of [SLO_FLAG, SLO_SIZE, SLO_ETAG, DLO_MANIFEST]) {
    const v = cur.sysMeta[k];
    if (v !== undefined) sysMeta[k] = v;
  }
  if (req.headers.contentDisposition) sysMeta['content-disposition'] = req.headers.contentDisposition;
  if (req.headers.contentEncoding) sysMeta['content-encoding'] = req.headers.contentEncoding;
  if (deleteAt !== undefined) sysMeta['x-delete-at'] = String(deleteAt);
  const md = await backend.post(req.path, {
    userMeta: req.userMeta,
    sysMeta,
    ...(req.contentType ? { contentType: req.contentType } : {}),
    timestamp: newTimestamp(),
  });
  if (!md) throw notFound('The resource could not be found.');
  await commitPost(req.path, { contentType: md.contentType, deleteAt });
}

// ---------------------------------------------------------------- delete

export interface DeleteResult {
  /** multipart-manifest=delete: what happened to each segment and the manifest. */
  deleted: number;
  notFound: number;
  errors: Array<{ name: string; status: string }>;
}

/** DELETE: 404 when nothing was there (or it had expired). */
export async function deleteObject(caller: ObjectCaller, p: ObjectPath): Promise<void> {
  checkPath(p);
  await authorizeWrite(caller, p, 'object.delete');
  const ts = newTimestamp();
  const cur = await objectBackend().head(p);
  const found = await objectBackend().delete(p, ts);
  await commitDelete(p, ts);
  if (!found || !cur || expired(cur)) throw notFound('The resource could not be found.');
}

/** multipart-manifest=delete: the SLO's segments, then the manifest. */
export async function deleteSlo(caller: ObjectCaller, p: ObjectPath): Promise<DeleteResult> {
  checkPath(p);
  await authorizeWrite(caller, p, 'object.delete');
  const r = await objectBackend().get(p);
  if (!r || expired(r.metadata)) {
    r?.body.destroy();
    throw notFound('The resource could not be found.');
  }
  if (!isSlo(r.metadata)) {
    r.body.destroy();
    await deleteObject(caller, p);
    return { deleted: 1, notFound: 0, errors: [] };
  }
  const segments = sloSegments(
    p.account,
    parseStoredManifest(await readSmall(r.body, LIMITS.maxManifestSize, 'Manifest')),
  );
  const out: DeleteResult = { deleted: 0, notFound: 0, errors: [] };
  for (const s of [...segments.map((x) => x.path), p]) {
    try {
      await deleteObject(caller, s);
      out.deleted += 1;
    } catch (err) {
      if (isStratusError(err) && err.code === 'NotFound') out.notFound += 1;
      else
        out.errors.push({
          name: `/${s.container}/${s.object}`,
          status: isStratusError(err) ? `${err.status} ${err.code}` : '500 Internal Error',
        });
    }
  }
  return out;
}

// ---------------------------------------------------------------- expiry

/**
 * The expirer's step for one object: deletes it when it still carries `deleteAt`
 * (a newer PUT or POST may have changed or removed it). Idempotent.
 */
export async function expireObject(job: {
  account: string;
  container: string;
  object: string;
  deleteAt: number;
}): Promise<'deleted' | 'skipped'> {
  // Early (clock skew between hosts): fail, so that the queue retries it later.
  if (job.deleteAt > nowSeconds()) throw new StratusError('Conflict', `object not due before ${job.deleteAt}`);
  const p: ObjectPath = { account: job.account, container: job.container, object: job.object };
  const listed = await transaction((tx) => listedDeleteAt(tx, p));
  const cur = await objectBackend().head(p);
  const stillDue = cur ? deleteAtOf(cur) === job.deleteAt : listed.live && listed.deleteAt === job.deleteAt;
  if (!stillDue) return 'skipped';
  // The tombstone carries the expiry time, so a PUT made after it wins.
  const ts = (job.deleteAt + 0.00001).toFixed(5);
  const stamp = cur && newer(cur.timestamp, ts) ? newTimestamp() : ts;
  if (cur) await objectBackend().delete(p, stamp);
  await commitDelete(p, stamp);
  return 'deleted';
}
