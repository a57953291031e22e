import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Conditions, ObjectRead } from '@stratus/core';

/*
 * What the Swift and S3 adapters share when they answer an object read: the
 * conditional headers in, the (ranged) body out.
 */

const CONDITIONS = [
  ['if-match', 'ifMatch'],
  ['if-none-match', 'ifNoneMatch'],
  ['if-modified-since', 'ifModifiedSince'],
  ['if-unmodified-since', 'ifUnmodifiedSince'],
] as const;

/** The request's If-* headers, as the adapter reads its headers. */
export function conditionsIn(get: (name: string) => string | undefined): Conditions {
  const out: Conditions = {};
  for (const [name, key] of CONDITIONS) {
    const v = get(name);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/**
 * Answers a read: 304 with `notModified`'s headers only; else the status, `headers`
 * with Content-Length (and Content-Range for a range), and the body streamed (none for HEAD).
 */
export async function sendObjectRead(
  res: ServerResponse,
  r: ObjectRead,
  headers: Record<string, string>,
  o: { head: boolean; notModified: Record<string, string> },
): Promise<void> {
  if (r.status === 304) {
    r.body?.destroy();
    res.writeHead(304, o.notModified);
    res.end();
    return;
  }
  const length = r.range ? r.range.end - r.range.start + 1 : r.view.size;
  headers['Content-Length'] = String(length);
  if (r.range) headers['Content-Range'] = `bytes ${r.range.start}-${r.range.end}/${r.view.size}`;
  res.writeHead(r.status, headers);
  if (o.head || !r.body) {
    r.body?.destroy();
    res.end();
    return;
  }
  // Headers are out: a failure from here on can only cut the connection.
  await pipeline(r.body, res).catch(() => res.destroy());
}

/**
 * Before an error answer: false when the headers are already out (the connection is
 * cut instead). The body may be partly unread, so the connection is not kept.
 */
export function readyForError(req: IncomingMessage, res: ServerResponse): boolean {
  if (res.headersSent) {
    res.destroy();
    return false;
  }
  if (req.readable && !req.readableEnded) res.setHeader('Connection', 'close');
  req.resume();
  return true;
}
