import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  badRequest,
  bulkDelete,
  capabilities,
  copyObject,
  deleteContainer,
  deleteObject,
  deleteSlo,
  headAccount,
  headContainer,
  listAccount,
  listContainer,
  type ListingOptions,
  type MetaChange,
  type ObjectCaller,
  type ObjectHeaders,
  parseRangeHeader,
  postAccount,
  postContainer,
  postObject,
  putContainer,
  putObject,
  readObject,
  StratusError,
  validateToken,
  verifyTempUrl,
} from '@stratus/core';
import type { RestMount } from '../../http.ts';
import { header } from '../common.ts';
import { ensureObjectBackend } from './backend.ts';
import { conditionsIn, readyForError, sendObjectRead } from './read.ts';
import {
  accountHeaders,
  containerHeaders,
  errorOut,
  lastModifiedOf,
  type ListingFormat,
  listingContentType,
  listingFormat,
  objectHeaders,
  renderAccountListing,
  renderContainerListing,
  sendSwift,
  statusText,
  transId,
} from './shapes.ts';

/*
 * Swift v1 under /object-store: /object-store/v1/AUTH_<project>[/container[/object]]
 * and /object-store/info. A thin adapter: names and headers in, one core call, Swift's
 * headers and statuses out. Object bodies are streamed both ways, never buffered.
 * The caller is a Keystone token (X-Auth-Token / X-Storage-Token), a temp URL
 * (temp_url_sig + temp_url_expires) or nobody (container ACLs decide).
 */
const PREFIX = '/object-store';
const V1 = `${PREFIX}/v1/`;
/** A bulk-delete body: 10,000 paths of up to 1 KiB each. */
const BULK_BODY_LIMIT = 10 * 1024 * 1024;

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  method: string;
  head: boolean;
  base: Record<string, string>;
  account: string;
  container: string;
  object: string;
  caller: ObjectCaller;
}

const q = (c: Ctx, name: string) => c.url.searchParams.get(name) ?? undefined;
const has = (c: Ctx, name: string) => c.url.searchParams.has(name);

/** Headers starting with `prefix` (lower-case), keyed by the rest. */
function prefixed(req: IncomingMessage, prefix: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (k.startsWith(prefix) && k.length > prefix.length)
      out[k.slice(prefix.length)] = Array.isArray(v) ? v.join(',') : (v ?? '');
  }
  return out;
}

function metaChange(req: IncomingMessage, kind: 'account' | 'container'): MetaChange {
  return { set: prefixed(req, `x-${kind}-meta-`), remove: Object.keys(prefixed(req, `x-remove-${kind}-meta-`)) };
}

function listingOptions(c: Ctx): ListingOptions {
  const limit = q(c, 'limit');
  let n: number | undefined;
  if (limit !== undefined && limit !== '') {
    if (!/^\d+$/.test(limit)) throw badRequest('Value of limit must be a positive integer');
    n = Number(limit);
  }
  const delimiter = q(c, 'delimiter');
  const reverse = (q(c, 'reverse') ?? '').toLowerCase();
  return {
    prefix: q(c, 'prefix') ?? '',
    ...(delimiter ? { delimiter } : {}),
    ...(q(c, 'marker') ? { marker: q(c, 'marker') } : {}),
    ...(q(c, 'end_marker') ? { endMarker: q(c, 'end_marker') } : {}),
    ...(n !== undefined ? { limit: n } : {}),
    reverse: ['true', '1', 'yes', 'on', 't', 'y'].includes(reverse),
  };
}

/** A listing in the format asked for (?format= or Accept); an empty plain listing is 204. */
function sendListing(
  c: Ctx,
  infoHeaders: Record<string, string>,
  count: number,
  render: (f: ListingFormat) => string,
): void {
  const f = listingFormat(q(c, 'format') ?? null, header(c.req, 'accept'));
  const headers = { ...c.base, ...infoHeaders, 'Content-Type': listingContentType(f) };
  if (count === 0 && f === 'plain') sendSwift(c.res, 204, headers);
  else sendSwift(c.res, 200, headers, render(f));
}

function objectHeadersIn(req: IncomingMessage): ObjectHeaders {
  const h: ObjectHeaders = {};
  const cd = header(req, 'content-disposition');
  const ce = header(req, 'content-encoding');
  const da = header(req, 'x-delete-at');
  const df = header(req, 'x-delete-after');
  const om = header(req, 'x-object-manifest');
  if (cd) h.contentDisposition = cd;
  if (ce) h.contentEncoding = ce;
  if (da !== undefined) h.deleteAt = da;
  if (df !== undefined) h.deleteAfter = df;
  if (om) h.objectManifest = om;
  if (req.headers['x-remove-delete-at'] !== undefined) h.removeDeleteAt = true;
  return h;
}

/** "container/object" from X-Copy-From or Destination (URL-encoded, maybe a leading /). */
function splitCopyPath(v: string, what: string): { container: string; object: string } {
  let s: string;
  try {
    s = decodeURIComponent(v);
  } catch {
    throw badRequest(`${what} header must be of the form <container name>/<object name>`);
  }
  s = s.replace(/^\/+/, '');
  const i = s.indexOf('/');
  if (i <= 0 || i === s.length - 1)
    throw new StratusError('PreconditionFailed', `${what} header must be of the form <container name>/<object name>`);
  return { container: s.slice(0, i), object: s.slice(i + 1) };
}

async function readText(req: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of req) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    n += b.length;
    if (n > limit) throw new StratusError('QuotaExceeded', 'Request body too large.');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A bulk delete's (and an SLO delete's) report: plain text, or JSON when Accept asks for it. */
function sendBulkResult(
  c: Ctx,
  r: { deleted: number; notFound: number; errors: Array<{ name: string; status: string }> },
): void {
  const status = r.errors.length ? '400 Bad Request' : '200 OK';
  const json = (header(c.req, 'accept') ?? '').toLowerCase().includes('application/json');
  const body = json
    ? JSON.stringify({
        'Number Deleted': r.deleted,
        'Number Not Found': r.notFound,
        'Response Status': status,
        'Response Body': '',
        Errors: r.errors.map((e) => [e.name, e.status]),
      })
    : `Number Deleted: ${r.deleted}\nNumber Not Found: ${r.notFound}\nResponse Body: \nResponse Status: ${status}\nErrors:\n${r.errors.map((e) => `${e.name}, ${e.status}\n`).join('')}`;
  const type = json ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8';
  sendSwift(c.res, 200, { ...c.base, 'Content-Type': type }, body);
}

// ---------------------------------------------------------------- account

async function accountLevel(c: Ctx): Promise<void> {
  if (c.method === 'GET' || c.method === 'HEAD') {
    if (c.head) {
      const info = await headAccount(c.caller, c.account);
      sendSwift(
        c.res,
        204,
        { ...c.base, ...accountHeaders(info), 'Content-Type': 'text/plain; charset=utf-8' },
        undefined,
        true,
      );
      return;
    }
    const { info, entries } = await listAccount(c.caller, c.account, listingOptions(c));
    sendListing(c, accountHeaders(info), entries.length, (f) => renderAccountListing(c.account, entries, f));
    return;
  }
  if ((c.method === 'POST' || c.method === 'DELETE') && has(c, 'bulk-delete')) {
    const text = await readText(c.req, BULK_BODY_LIMIT);
    const paths = text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .map((l) => {
        try {
          return decodeURIComponent(l);
        } catch {
          return l;
        }
      });
    sendBulkResult(c, await bulkDelete(c.caller, c.account, paths));
    return;
  }
  if (c.method === 'POST') {
    await postAccount(c.caller, c.account, metaChange(c.req, 'account'));
    sendSwift(c.res, 204, { ...c.base, 'Content-Type': 'text/html; charset=UTF-8' });
    return;
  }
  throw new MethodNotAllowed();
}

// ---------------------------------------------------------------- container

function containerChange(req: IncomingMessage) {
  const read = header(req, 'x-container-read');
  const write = header(req, 'x-container-write');
  return {
    meta: metaChange(req, 'container'),
    ...(req.headers['x-remove-container-read'] !== undefined
      ? { readAcl: '' }
      : read !== undefined || req.headers['x-container-read'] === ''
        ? { readAcl: read ?? '' }
        : {}),
    ...(req.headers['x-remove-container-write'] !== undefined
      ? { writeAcl: '' }
      : write !== undefined || req.headers['x-container-write'] === ''
        ? { writeAcl: write ?? '' }
        : {}),
  };
}

async function containerLevel(c: Ctx): Promise<void> {
  switch (c.method) {
    case 'PUT': {
      const { created } = await putContainer(c.caller, c.account, c.container, containerChange(c.req));
      sendSwift(c.res, created ? 201 : 202, { ...c.base, 'Content-Type': 'text/html; charset=UTF-8' });
      return;
    }
    case 'POST': {
      await postContainer(c.caller, c.account, c.container, containerChange(c.req));
      sendSwift(c.res, 204, { ...c.base, 'Content-Type': 'text/html; charset=UTF-8' });
      return;
    }
    case 'DELETE': {
      await deleteContainer(c.caller, c.account, c.container);
      sendSwift(c.res, 204, { ...c.base, 'Content-Type': 'text/html; charset=UTF-8' });
      return;
    }
    case 'HEAD': {
      const info = await headContainer(c.caller, c.account, c.container);
      sendSwift(
        c.res,
        204,
        { ...c.base, ...containerHeaders(info), 'Content-Type': 'text/plain; charset=utf-8' },
        undefined,
        true,
      );
      return;
    }
    case 'GET': {
      const { info, entries } = await listContainer(c.caller, c.account, c.container, listingOptions(c));
      sendListing(c, containerHeaders(info), entries.length, (f) => renderContainerListing(c.container, entries, f));
      return;
    }
    default:
      throw new MethodNotAllowed();
  }
}

// ---------------------------------------------------------------- object

function contentLengthOf(req: IncomingMessage): number | undefined | 'missing' {
  const te = (header(req, 'transfer-encoding') ?? '').toLowerCase();
  if (te.includes('chunked')) return undefined;
  const cl = header(req, 'content-length');
  if (cl === undefined) return 'missing';
  if (!/^\d+$/.test(cl)) throw badRequest('Invalid Content-Length');
  return Number(cl);
}

const contentTypeIn = (req: IncomingMessage) => {
  const ct = header(req, 'content-type');
  const detect = (header(req, 'x-detect-content-type') ?? '').toLowerCase() === 'true';
  return ct && !detect ? ct : undefined;
};

async function objectPut(c: Ctx): Promise<void> {
  const path = { account: c.account, container: c.container, object: c.object };
  const userMeta = prefixed(c.req, 'x-object-meta-');
  const copyFrom = header(c.req, 'x-copy-from');
  const ct = contentTypeIn(c.req);
  const ifNoneMatch = header(c.req, 'if-none-match');
  if (copyFrom) {
    c.req.resume();
    const src = splitCopyPath(copyFrom, 'X-Copy-From');
    return copyAndAnswer(c, { account: header(c.req, 'x-copy-from-account') ?? c.account, ...src }, path);
  }
  const len = contentLengthOf(c.req);
  if (len === 'missing') {
    c.res.setHeader('Connection', 'close');
    throw new LengthRequired();
  }
  const etag = header(c.req, 'etag');
  const view = await putObject(c.caller, {
    path,
    body: c.req,
    ...(len !== undefined ? { contentLength: len } : {}),
    ...(etag ? { etag } : {}),
    ...(ct ? { contentType: ct } : {}),
    userMeta,
    headers: objectHeadersIn(c.req),
    ...(ifNoneMatch !== undefined ? { ifNoneMatch } : {}),
    ...(q(c, 'multipart-manifest') === 'put' ? { sloManifest: true } : {}),
  });
  sendSwift(c.res, 201, {
    ...c.base,
    Etag: view.largeObject ? `"${view.etag}"` : view.etag,
    'Last-Modified': lastModifiedOf(view.timestamp),
    'Content-Type': 'text/html; charset=UTF-8',
  });
}

type ObjectPath = { account: string; container: string; object: string };

/** PUT with X-Copy-From and COPY with Destination: the request's metadata and headers apply to the copy. */
async function copyAndAnswer(c: Ctx, from: ObjectPath, to: ObjectPath): Promise<void> {
  const ct = contentTypeIn(c.req);
  const ifNoneMatch = header(c.req, 'if-none-match');
  const r = await copyObject(c.caller, {
    from,
    to,
    userMeta: prefixed(c.req, 'x-object-meta-'),
    freshMetadata: (header(c.req, 'x-fresh-metadata') ?? '').toLowerCase() === 'true',
    ...(ct ? { contentType: ct } : {}),
    headers: objectHeadersIn(c.req),
    ...(ifNoneMatch !== undefined ? { ifNoneMatch } : {}),
    ...(q(c, 'multipart-manifest') === 'get' ? { manifest: true } : {}),
  });
  sendSwift(c.res, 201, { ...c.base, ...copiedHeaders(r), 'Content-Type': 'text/html; charset=UTF-8' });
}

function copiedHeaders(r: Awaited<ReturnType<typeof copyObject>>): Record<string, string> {
  return {
    Etag: r.view.etag,
    'Last-Modified': lastModifiedOf(r.view.timestamp),
    'X-Copied-From': `${encodeURIComponent(r.source.path.container)}/${encodeURIComponent(r.source.path.object).replace(/%2F/g, '/')}`,
    'X-Copied-From-Account': r.source.path.account,
    'X-Copied-From-Last-Modified': lastModifiedOf(r.source.timestamp),
  };
}

async function objectGet(c: Ctx): Promise<void> {
  const range = parseRangeHeader(header(c.req, 'range'));
  const conditions = conditionsIn((name) => header(c.req, name));
  const manifest = q(c, 'multipart-manifest') === 'get';
  const r = await readObject(c.caller, {
    path: { account: c.account, container: c.container, object: c.object },
    head: c.head,
    ...(range ? { range } : {}),
    conditions,
    ...(manifest ? { manifest: true } : {}),
  });
  const h: Record<string, string> = { ...c.base, ...objectHeaders(r.view) };
  if (manifest && r.view.contentType && !r.view.largeObject && c.url.searchParams.get('multipart-manifest') === 'get') {
    // The stored manifest is JSON, whatever type the large object has.
    h['Content-Type'] = 'application/json; charset=utf-8';
  }
  const filename = q(c, 'filename');
  if (filename !== undefined && c.caller.kind === 'tempurl') {
    const inline = has(c, 'inline');
    h['Content-Disposition'] =
      `${inline ? 'inline' : 'attachment'}; filename="${filename.replace(/["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(filename)}`;
  } else if (c.caller.kind === 'tempurl' && has(c, 'inline')) h['Content-Disposition'] = 'inline';
  await sendObjectRead(c.res, r, h, {
    head: c.head,
    notModified: { ...c.base, Etag: h.Etag ?? '', 'Last-Modified': h['Last-Modified'] ?? '', 'Content-Length': '0' },
  });
}

async function objectLevel(c: Ctx): Promise<void> {
  const path = { account: c.account, container: c.container, object: c.object };
  switch (c.method) {
    case 'PUT':
      return objectPut(c);
    case 'GET':
    case 'HEAD':
      return objectGet(c);
    case 'POST': {
      c.req.resume();
      const ct = header(c.req, 'content-type');
      await postObject(c.caller, {
        path,
        userMeta: prefixed(c.req, 'x-object-meta-'),
        ...(ct ? { contentType: ct } : {}),
        headers: objectHeadersIn(c.req),
      });
      sendSwift(
        c.res,
        202,
        { ...c.base, 'Content-Type': 'text/html; charset=UTF-8' },
        '<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>',
      );
      return;
    }
    case 'DELETE': {
      c.req.resume();
      if (q(c, 'multipart-manifest') === 'delete') {
        sendBulkResult(c, await deleteSlo(c.caller, path));
        return;
      }
      await deleteObject(c.caller, path);
      sendSwift(c.res, 204, { ...c.base, 'Content-Type': 'text/html; charset=UTF-8' });
      return;
    }
    case 'COPY': {
      c.req.resume();
      const dest = header(c.req, 'destination');
      if (!dest) throw new StratusError('PreconditionFailed', 'Destination header required');
      const to = splitCopyPath(dest, 'Destination');
      return copyAndAnswer(c, path, { account: header(c.req, 'destination-account') ?? c.account, ...to });
    }
    default:
      throw new MethodNotAllowed();
  }
}

// ---------------------------------------------------------------- dispatch

class MethodNotAllowed extends Error {}
class LengthRequired extends Error {}

async function callerOf(
  req: IncomingMessage,
  url: URL,
  method: string,
  account: string,
  container: string,
  obj: string,
): Promise<ObjectCaller> {
  const sig = url.searchParams.get('temp_url_sig');
  const expires = url.searchParams.get('temp_url_expires');
  if (sig !== null && expires !== null && container && obj) {
    const prefix = url.searchParams.get('temp_url_prefix');
    const grant = await verifyTempUrl({
      method,
      account,
      container,
      object: obj,
      mounts: [PREFIX, ''],
      sig,
      expires,
      ...(prefix !== null ? { prefix } : {}),
    });
    return { kind: 'tempurl', grant };
  }
  const referer = header(req, 'referer');
  const token = header(req, 'x-auth-token') ?? header(req, 'x-storage-token');
  if (token) return { kind: 'token', ctx: await validateToken(token), ...(referer ? { referer } : {}) };
  return { kind: 'anonymous', ...(referer ? { referer } : {}) };
}

function splitPath(raw: string): { account: string; container: string; object: string } {
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    throw badRequest('Invalid UTF8 or contains NULL');
  }
  if (path.includes('\0')) throw badRequest('Invalid UTF8 or contains NULL');
  const a = path.indexOf('/');
  if (a < 0) return { account: path, container: '', object: '' };
  const rest = path.slice(a + 1);
  const b = rest.indexOf('/');
  if (b < 0) return { account: path.slice(0, a), container: rest, object: '' };
  return { account: path.slice(0, a), container: rest.slice(0, b), object: rest.slice(b + 1) };
}

async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const method = (req.method ?? 'GET').toUpperCase();
  const tx = transId();
  const base: Record<string, string> = { 'X-Trans-Id': tx, 'X-Openstack-Request-Id': tx };
  const head = method === 'HEAD';
  try {
    const rawPath = (req.url ?? '/').split('?')[0] ?? '/';
    if (rawPath === `${PREFIX}/info` || rawPath === `${PREFIX}/info/`) {
      req.resume();
      if (method !== 'GET' && method !== 'HEAD') throw new MethodNotAllowed();
      sendSwift(
        res,
        200,
        { ...base, 'Content-Type': 'application/json; charset=UTF-8' },
        JSON.stringify(capabilities()),
        head,
      );
      return true;
    }
    if (!rawPath.startsWith(V1)) throw new StratusError('NotFound', 'The resource could not be found.');
    const { account, container, object: obj } = splitPath(rawPath.slice(V1.length));
    if (!account) throw new StratusError('NotFound', 'The resource could not be found.');
    await ensureObjectBackend();
    const caller = await callerOf(req, url, method, account, container, obj);
    const c: Ctx = { req, res, url, method, head, base, account, container, object: obj, caller };
    if (!container) await accountLevel(c);
    else if (!obj) await containerLevel(c);
    else await objectLevel(c);
  } catch (err) {
    if (!readyForError(req, res)) return true;
    if (err instanceof MethodNotAllowed) {
      sendSwift(
        res,
        405,
        { ...base, 'Content-Type': 'text/html; charset=UTF-8', Allow: 'HEAD, GET, PUT, POST, DELETE, COPY' },
        `<html><h1>${statusText(405)}</h1><p>The method is not allowed for this resource.</p></html>`,
        head,
      );
      return true;
    }
    if (err instanceof LengthRequired) {
      sendSwift(
        res,
        411,
        { ...base, 'Content-Type': 'text/html; charset=UTF-8' },
        '<html><h1>Length Required</h1><p>Length Required</p></html>',
        head,
      );
      return true;
    }
    const e = errorOut(err);
    sendSwift(res, e.status, { ...base, ...e.headers, 'Content-Type': e.contentType }, e.body, head);
  }
  return true;
}

export const objectMount: RestMount = { prefix: PREFIX, handler: handle };
