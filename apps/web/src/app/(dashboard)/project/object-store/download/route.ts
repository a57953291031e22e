import { Readable } from 'node:stream';
import { isStratusError } from '@stratus/core/platform/errors';
import { parseRangeHeader, readObject } from '@stratus/core/objectstore/swift/index';
import { z } from 'zod';
import { currentAuth } from '@/server/auth';
import { scopeOf } from '@/server/routers/objectstore/backend';
import { ContainerName, ObjectName } from '@/server/routers/objectstore/schemas';

/*
 * Download of one object by the signed-in user: GET ?container=…&object=…, streamed from
 * the replicated store to the browser (never buffered), as an attachment. The session
 * cookie authenticates and core authorizes on the session's own account, so a user can
 * only fetch what their token may read; the Keystone token itself never reaches a URL.
 * One Range is passed through so that browsers can resume.
 */
export const dynamic = 'force-dynamic';

const Query = z.object({ container: ContainerName, object: ObjectName });

function problem(status: number, message: string): Response {
  return new Response(`${message}\n`, {
    status,
    headers: { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' },
  });
}

/** RFC 6266: an ASCII fallback and the UTF-8 name. */
function disposition(name: string): string {
  const base = name.split('/').filter(Boolean).pop() ?? 'download';
  const ascii = base.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(base)}`;
}

export async function GET(req: Request): Promise<Response> {
  const auth = await currentAuth();
  if (!auth) return problem(401, 'Your session has ended. Sign in again.');
  const url = new URL(req.url);
  const q = Query.safeParse({ container: url.searchParams.get('container'), object: url.searchParams.get('object') });
  if (!q.success) return problem(400, q.error.issues[0]?.message ?? 'container and object are required');
  try {
    const { caller, account } = await scopeOf(auth);
    const range = parseRangeHeader(req.headers.get('range') ?? undefined);
    const r = await readObject(caller, {
      path: { account, container: q.data.container, object: q.data.object },
      ...(range ? { range } : {}),
    });
    const v = r.view;
    const headers: Record<string, string> = {
      'Content-Type': v.contentType || 'application/octet-stream',
      'Content-Disposition': disposition(v.path.object),
      'Content-Length': String(r.range ? r.range.end - r.range.start + 1 : v.size),
      'Accept-Ranges': 'bytes',
      'Last-Modified': v.lastModified.toUTCString(),
      ETag: `"${v.etag}"`,
      'Cache-Control': 'private, no-store',
      'X-Content-Type-Options': 'nosniff',
    };
    if (r.range) headers['Content-Range'] = `bytes ${r.range.start}-${r.range.end}/${v.size}`;
    if (!r.body) return new Response(null, { status: r.status, headers });
    const body = Readable.toWeb(r.body) as ReadableStream<Uint8Array>;
    return new Response(body, { status: r.status, headers });
  } catch (err) {
    if (isStratusError(err)) return problem(err.status, err.message);
    throw err;
  }
}
