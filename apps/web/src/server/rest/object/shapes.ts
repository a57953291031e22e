import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import {
  type AccountInfo,
  type ContainerInfo,
  type ContainerSummary,
  isStratusError,
  type ListingEntry,
  listingDate,
  logger,
  type ObjectSummary,
  type ObjectView,
  STORAGE_POLICY,
} from '@stratus/core';
import { z } from 'zod';

/*
 * What a Swift proxy puts on the wire: transaction ids, account/container/object
 * headers, listings in plain text / JSON / XML, and swob's error bodies (short HTML for
 * most statuses, the plain message for 400/412/413).
 */

/** tx<21 hex>-<hex epoch>, as Swift's proxy makes them. */
export function transId(): string {
  return `tx${randomBytes(11).toString('hex').slice(0, 21)}-${Math.floor(Date.now() / 1000)
    .toString(16)
    .padStart(10, '0')}`;
}

/** x-container-meta-temp-url-key → X-Container-Meta-Temp-Url-Key */
export const titleCase = (h: string) => h.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());

const httpDate = (d: Date) => d.toUTCString();
const lastModifiedOf = (ts: string) => httpDate(new Date(Math.ceil(Number(ts)) * 1000));

export function metaHeaders(
  kind: 'account' | 'container' | 'object',
  meta: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) out[titleCase(`x-${kind}-meta-${k}`)] = v;
  return out;
}

export function accountHeaders(a: AccountInfo): Record<string, string> {
  const p = `X-Account-Storage-Policy-${STORAGE_POLICY}`;
  return {
    'X-Account-Container-Count': String(a.containerCount),
    'X-Account-Object-Count': String(a.objectCount),
    'X-Account-Bytes-Used': String(a.bytesUsed),
    [`${p}-Container-Count`]: String(a.containerCount),
    [`${p}-Object-Count`]: String(a.objectCount),
    [`${p}-Bytes-Used`]: String(a.bytesUsed),
    'X-Timestamp': a.createdTs,
    'X-Put-Timestamp': a.createdTs,
    'Accept-Ranges': 'bytes',
    ...metaHeaders('account', a.meta),
  };
}

export function containerHeaders(c: ContainerInfo): Record<string, string> {
  const h: Record<string, string> = {
    'X-Container-Object-Count': String(c.objectCount),
    'X-Container-Bytes-Used': String(c.bytesUsed),
    'X-Timestamp': c.createdTs,
    'X-Put-Timestamp': c.createdTs,
    'X-Storage-Policy': STORAGE_POLICY,
    'Last-Modified': httpDate(new Date(Math.ceil(c.lastModified.getTime() / 1000) * 1000)),
    'Accept-Ranges': 'bytes',
    ...metaHeaders('container', c.meta),
  };
  if (c.readAcl) h['X-Container-Read'] = c.readAcl;
  if (c.writeAcl) h['X-Container-Write'] = c.writeAcl;
  return h;
}

/** Large objects' etags are quoted, as Swift sends them (clients then skip their md5 check). */
export const etagHeader = (v: ObjectView) => (v.largeObject ? `"${v.etag}"` : v.etag);

export function objectHeaders(v: ObjectView): Record<string, string> {
  const h: Record<string, string> = {
    'Content-Type': v.contentType,
    Etag: etagHeader(v),
    'Last-Modified': httpDate(new Date(Math.ceil(v.lastModified.getTime() / 1000) * 1000)),
    'X-Timestamp': v.timestamp,
    'Accept-Ranges': 'bytes',
    ...metaHeaders('object', v.userMeta),
  };
  if (v.contentDisposition) h['Content-Disposition'] = v.contentDisposition;
  if (v.contentEncoding) h['Content-Encoding'] = v.contentEncoding;
  if (v.deleteAt !== undefined) h['X-Delete-At'] = String(v.deleteAt);
  if (v.objectManifest) h['X-Object-Manifest'] = v.objectManifest;
  if (v.largeObject === 'slo') h['X-Static-Large-Object'] = 'True';
  return h;
}

export { lastModifiedOf };

// ---------------------------------------------------------------- listings

export type ListingFormat = 'json' | 'xml' | 'plain';

export function listingFormat(format: string | null, accept: string | undefined): ListingFormat {
  const f = (format ?? '').toLowerCase();
  if (f === 'json') return 'json';
  if (f === 'xml') return 'xml';
  if (f === 'plain' || f === 'text') return 'plain';
  const a = (accept ?? '').toLowerCase();
  if (a.includes('application/json')) return 'json';
  if (a.includes('application/xml') || a.includes('text/xml')) return 'xml';
  return 'plain';
}

const CONTENT_TYPES: Record<ListingFormat, string> = {
  json: 'application/json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  plain: 'text/plain; charset=utf-8',
};
export const listingContentType = (f: ListingFormat) => CONTENT_TYPES[f];

const xmlEscape = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A listing in the asked format; pseudo-folders are `subdir` entries. */
function renderListing<T extends { name: string }>(
  root: 'account' | 'container',
  name: string,
  entries: Array<ListingEntry<T>>,
  f: ListingFormat,
  item: { json: (x: T) => Record<string, unknown>; xml: (x: T) => string },
): string {
  if (f === 'json')
    return JSON.stringify(entries.map((e) => (e.kind === 'subdir' ? { subdir: e.subdir } : item.json(e.item))));
  if (f === 'xml') {
    const items = entries.map((e) =>
      e.kind === 'subdir'
        ? `<subdir name="${xmlEscape(e.subdir)}"><name>${xmlEscape(e.subdir)}</name></subdir>`
        : item.xml(e.item),
    );
    return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} name="${xmlEscape(name)}">${items.join('')}</${root}>`;
  }
  return entries.map((e) => `${e.kind === 'subdir' ? e.subdir : e.item.name}\n`).join('');
}

export const renderAccountListing = (
  account: string,
  entries: Array<ListingEntry<ContainerSummary>>,
  f: ListingFormat,
): string =>
  renderListing('account', account, entries, f, {
    json: (x) => ({ name: x.name, count: x.count, bytes: x.bytes, last_modified: listingDate(x.lastModified) }),
    xml: (x) =>
      `<container><name>${xmlEscape(x.name)}</name><count>${x.count}</count><bytes>${x.bytes}</bytes><last_modified>${listingDate(x.lastModified)}</last_modified></container>`,
  });

export const renderContainerListing = (
  container: string,
  entries: Array<ListingEntry<ObjectSummary>>,
  f: ListingFormat,
): string =>
  renderListing('container', container, entries, f, {
    json: (x) => ({
      name: x.name,
      hash: x.etag,
      bytes: x.bytes,
      content_type: x.contentType,
      last_modified: listingDate(x.lastModified),
    }),
    xml: (x) =>
      `<object><name>${xmlEscape(x.name)}</name><hash>${x.etag}</hash><bytes>${x.bytes}</bytes><content_type>${xmlEscape(x.contentType)}</content_type><last_modified>${listingDate(x.lastModified)}</last_modified></object>`,
  });

// ---------------------------------------------------------------- errors

const SWOB: Record<number, [string, string]> = {
  400: [
    'Bad Request',
    'The server could not comply with the request since it is either malformed or otherwise incorrect.',
  ],
  401: ['Unauthorized', 'This server could not verify that you are authorized to access the document you requested.'],
  403: ['Forbidden', 'Access was denied to this resource.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'The method is not allowed for this resource.'],
  409: ['Conflict', 'There was a conflict when trying to complete your request.'],
  411: ['Length Required', 'Length Required'],
  412: ['Precondition Failed', 'A precondition for this request was not met.'],
  413: ['Request Entity Too Large', 'The body of your request was too large for this server.'],
  416: ['Requested Range Not Satisfiable', 'The Range requested is not available.'],
  422: ['Unprocessable Entity', 'Unable to process the contained instructions'],
  499: ['Client Disconnect', 'The client was disconnected during request.'],
  500: ['Internal Error', 'The server has either erred or is incapable of performing the requested operation.'],
  503: ['Service Unavailable', 'The server is currently unavailable. Please try again at a later time.'],
};
export const statusText = (s: number) => SWOB[s]?.[0] ?? 'Error';

/** Where swob sends a specific message as text/plain rather than its HTML page. */
const PLAIN = new Set([400, 412, 413]);

export interface ErrorOut {
  status: number;
  body: string;
  contentType: string;
  headers: Record<string, string>;
}

export function errorOut(err: unknown): ErrorOut {
  let status = 500;
  let message = '';
  const headers: Record<string, string> = {};
  if (isStratusError(err)) {
    status = err.status;
    message = err.message;
    if (status === 416) {
      const size = z.number().safeParse(err.details?.size);
      if (size.success) headers['Content-Range'] = `bytes */${size.data}`;
    }
    if (status === 401) headers['Www-Authenticate'] = 'Swift realm="unknown"';
    if (status === 400 && err.details?.aborted === true) status = 499;
  } else {
    logger().error({ err }, 'unexpected error in the object-store API');
  }
  const [title, explanation] = SWOB[status] ?? ['Error', message];
  if (status === 401 && message.startsWith('Temp URL'))
    return { status, body: `401 Unauthorized: ${message}\n`, contentType: 'text/plain; charset=UTF-8', headers };
  if (PLAIN.has(status) && message) return { status, body: message, contentType: 'text/plain; charset=UTF-8', headers };
  return {
    status,
    body: `<html><h1>${title}</h1><p>${explanation}</p></html>`,
    contentType: 'text/html; charset=UTF-8',
    headers,
  };
}

export function sendSwift(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body?: string | Buffer,
  head = false,
): void {
  const data = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  res.writeHead(status, { 'Content-Length': String(data?.length ?? 0), ...headers });
  res.end(head || status === 204 || status === 304 ? undefined : data);
}
