import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { z } from 'zod';
import { FileRangeStream } from '../../platform/file-range.ts';
import { HASH_RE, normalizeTimestamp, SUFFIX_RE, swiftTimestamp } from '../hash.ts';
import {
  cachedPartitionHashes,
  DiskError,
  isMounted,
  listSuffix,
  type MetaFile,
  openObject,
  writeData,
  writeMeta,
  writeRawFile,
  writeTombstone,
} from './diskfile.ts';
import { DEFAULT_HASH_CACHE_MAX_AGE_MS, invalidateSuffix, RECLAIM_AGE_SECONDS } from './hashes.ts';

/*
 * The object server: one per host, serving the devices under one folder. It knows nothing of
 * rings, accounts or secrets: the proxy (replicated.ts) sends device, partition and hash.
 *   PUT|GET|HEAD|POST|DELETE /<device>/<partition>/<hash>     an object's replica
 *   GET  /_r/<device>/<partition>                            suffix → md5 of its listing
 *   GET  /_r/<device>/<partition>/<suffix>                   hash → files
 *   POST /_r/<device>/<partition>/<suffix>                   rehash this suffix (read repair)
 *   PUT  /_r/<device>/<partition>/<suffix>/<hash>/<file>     a file pushed by a replicator
 *   GET  /healthcheck
 * Metadata travels in X-Stratus-Metadata as URI-encoded JSON; X-Timestamp carries the
 * data's timestamp and X-Backend-Timestamp a tombstone's (on 404). An unmounted device
 * answers 507, before any body is read (Expect: 100-continue). The proxy sends object bodies
 * chunked with the declared length in X-Stratus-Content-Length, so a replica commits only
 * when the proxy ends the request (Content-Length is still accepted, e.g. from curl).
 */

export interface ObjectServerOptions {
  /** Folder holding the device folders (each with its .stratus-device marker). */
  devicesRoot: string;
  listen?: string;
  /** 0 = any free port. */
  port?: number;
  log?: { warn(obj: object, msg: string): void };
  /** Maximum age of a partition's suffix-hash cache (hashes.ts); 0 = no cache. Default 1 h. */
  hashCacheMaxAgeMs?: number;
  /** Tombstones older than this are removed when a suffix is rehashed (default a week). */
  reclaimAgeSeconds?: number;
}

export interface RunningObjectServer {
  port: number;
  host: string;
  server: Server;
  close(): Promise<void>;
}

const DEVICE_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;
const Meta = z.record(z.string(), z.string());
const PutMeta = z.object({ name: z.string(), contentType: z.string(), userMeta: Meta, sysMeta: Meta });
const PostMeta = z.object({ userMeta: Meta, sysMeta: Meta, contentType: z.string().optional() });

/** The object's length when its body comes chunked (the proxy always sends it chunked). */
export const OBJECT_LENGTH_HEADER = 'x-stratus-content-length';

export function encodeHeaderJson(v: unknown): string {
  return encodeURIComponent(JSON.stringify(v));
}
export function decodeHeaderJson(v: string | string[] | undefined): unknown {
  if (typeof v !== 'string') return undefined;
  return JSON.parse(decodeURIComponent(v));
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body?: string, headers: Record<string, string | number> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const buf = body === undefined ? undefined : Buffer.from(body);
  res.writeHead(status, { ...headers, 'content-length': buf?.length ?? 0 });
  res.end(buf);
}

function parseRange(h: string | undefined, size: number): { start: number; end: number } | 'bad' | undefined {
  if (!h) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'bad';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return 'bad';
  return { start, end };
}

function timestampHeader(req: IncomingMessage): string {
  const raw = req.headers['x-timestamp'];
  const ts = typeof raw === 'string' ? normalizeTimestamp(raw) : null;
  if (!ts) throw new HttpError(400, 'missing or bad X-Timestamp');
  return ts;
}

function diskStatus(err: unknown): number | undefined {
  if (!(err instanceof DiskError)) return undefined;
  return { unmounted: 507, etag: 422, conflict: 409, length: 499, corrupt: 500, 'not-found': 404 }[err.reason];
}

export function createObjectServer(opts: ObjectServerOptions): Server {
  return buildObjectServer(opts).server;
}

function buildObjectServer(opts: ObjectServerOptions): { server: Server; drain(): Promise<void> } {
  const hashCacheMaxAgeMs = opts.hashCacheMaxAgeMs ?? DEFAULT_HASH_CACHE_MAX_AGE_MS;
  const reclaimAgeSeconds = opts.reclaimAgeSeconds ?? RECLAIM_AGE_SECONDS;
  const devPath = (dev: string) => {
    if (!DEVICE_RE.test(dev)) throw new HttpError(400, 'bad device');
    return join(opts.devicesRoot, dev);
  };
  const partOf = (p: string) => {
    if (!/^\d{1,7}$/.test(p)) throw new HttpError(400, 'bad partition');
    return Number(p);
  };

  async function handleObject(
    req: IncomingMessage,
    res: ServerResponse,
    dev: string,
    part: number,
    hash: string,
  ): Promise<void> {
    const method = req.method ?? 'GET';
    if (method === 'PUT') {
      const ts = timestampHeader(req);
      const m = PutMeta.safeParse(decodeHeaderJson(req.headers['x-stratus-metadata']));
      if (!m.success) throw new HttpError(400, 'bad X-Stratus-Metadata');
      const cl = req.headers['content-length'] ?? req.headers[OBJECT_LENGTH_HEADER];
      if (typeof cl === 'string' && !/^\d{1,15}$/.test(cl)) throw new HttpError(400, 'bad content length');
      const expected = req.headers['x-stratus-etag'];
      const meta = await writeData(dev, part, hash, {
        body: req,
        name: m.data.name,
        timestamp: ts,
        contentType: m.data.contentType,
        userMeta: m.data.userMeta,
        sysMeta: m.data.sysMeta,
        ...(cl !== undefined ? { contentLength: Number(cl) } : {}),
        ...(typeof expected === 'string' && expected ? { expectedEtag: expected } : {}),
      });
      send(res, 201, undefined, { etag: meta.etag, 'x-timestamp': ts });
      return;
    }
    if (method === 'GET' || method === 'HEAD') {
      const obj = await openObject(dev, part, hash);
      if (!obj.metadata || !obj.dataFile) {
        const headers: Record<string, string> = {};
        if (obj.state.tombstone) headers['x-backend-timestamp'] = obj.state.tombstone.timestamp;
        send(res, 404, undefined, headers);
        return;
      }
      const md = obj.metadata;
      const headers: Record<string, string | number> = {
        'x-timestamp': md.timestamp,
        'x-stratus-metadata': encodeHeaderJson(md),
        etag: md.etag,
        'content-type': 'application/octet-stream',
      };
      const range = parseRange(req.headers.range, md.size);
      if (range === 'bad') {
        send(res, 416, undefined, { ...headers, 'content-range': `bytes */${md.size}` });
        return;
      }
      const len = range ? range.end - range.start + 1 : md.size;
      if (range) headers['content-range'] = `bytes ${range.start}-${range.end}/${md.size}`;
      res.writeHead(range ? 206 : 200, { ...headers, 'content-length': len });
      if (method === 'HEAD' || len === 0) {
        res.end();
        return;
      }
      // Reused buffers, no Buffer per chunk (platform/file-range.ts). A file shorter than its
      // metadata says (damaged under us), or a client gone: cut the connection, so the proxy
      // sees the failure at once and resumes from another replica.
      await new FileRangeStream(obj.dataFile, range?.start ?? 0, range?.end ?? md.size - 1)
        .sendTo(res)
        .catch(() => req.socket.destroy());
      return;
    }
    if (method === 'POST') {
      const ts = timestampHeader(req);
      const m = PostMeta.safeParse(decodeHeaderJson(req.headers['x-stratus-metadata']));
      if (!m.success) throw new HttpError(400, 'bad X-Stratus-Metadata');
      const meta: MetaFile = {
        timestamp: ts,
        userMeta: m.data.userMeta,
        sysMeta: m.data.sysMeta,
        ...(m.data.contentType ? { contentType: m.data.contentType } : {}),
      };
      const md = await writeMeta(dev, part, hash, meta);
      if (!md) send(res, 404);
      else send(res, 202, undefined, { 'x-timestamp': md.timestamp, 'x-stratus-metadata': encodeHeaderJson(md) });
      return;
    }
    if (method === 'DELETE') {
      const existed = await writeTombstone(dev, part, hash, timestampHeader(req));
      send(res, existed ? 204 : 404);
      return;
    }
    throw new HttpError(405, 'method not allowed');
  }

  async function handleReplicate(req: IncomingMessage, res: ServerResponse, segs: string[]): Promise<void> {
    const [devName = '', partS = '', suffix, hash, file] = segs;
    const dev = devPath(devName);
    const part = partOf(partS);
    if (!(await isMounted(dev))) throw new DiskError('unmounted', 'unmounted');
    if (suffix !== undefined && !SUFFIX_RE.test(suffix)) throw new HttpError(400, 'bad suffix');
    if (req.method === 'GET' && suffix === undefined) {
      // Rehashing here reclaims old tombstones as the replicator does: this rehash may be the
      // one that consumes a suffix's invalidation.
      const reclaimBefore = swiftTimestamp(Date.now() - reclaimAgeSeconds * 1000);
      const hashes = await cachedPartitionHashes(dev, part, { maxAgeMs: hashCacheMaxAgeMs, reclaimBefore });
      send(res, 200, JSON.stringify(hashes), { 'content-type': 'application/json' });
    } else if (req.method === 'POST' && suffix !== undefined && hash === undefined) {
      // Read repair: the proxy found this replica missing an object the others hold.
      await invalidateSuffix(dev, part, suffix);
      send(res, 204);
    } else if (req.method === 'GET' && suffix !== undefined && hash === undefined) {
      send(res, 200, JSON.stringify(await listSuffix(dev, part, suffix)), { 'content-type': 'application/json' });
    } else if (req.method === 'PUT' && suffix !== undefined && hash && file) {
      if (!HASH_RE.test(hash) || !hash.endsWith(suffix)) throw new HttpError(400, 'bad hash');
      await writeRawFile(dev, part, hash, file, req);
      send(res, 201);
    } else throw new HttpError(405, 'method not allowed');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const segs = url.pathname.split('/').slice(1).map(decodeURIComponent);
    if (segs[0] === 'healthcheck') return send(res, 200, 'OK');
    if (segs[0] === '_r') return handleReplicate(req, res, segs.slice(1));
    if (segs.length !== 3) throw new HttpError(400, 'expected /<device>/<partition>/<hash>');
    const [devName = '', partS = '', hash = ''] = segs;
    if (!HASH_RE.test(hash)) throw new HttpError(400, 'bad hash');
    return handleObject(req, res, devPath(devName), partOf(partS), hash);
  }

  const inflight = new Set<Promise<void>>();
  const server = createServer({ keepAlive: true }, (req, res) => {
    const work = handle(req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : diskStatus(err);
      if (status === undefined || status >= 500)
        opts.log?.warn({ err, url: req.url, method: req.method }, 'object server request failed');
      // Whatever the client still sends is of no use now.
      req.resume();
      send(res, status ?? 500, err instanceof Error ? err.message : 'error');
    });
    inflight.add(work);
    void work.finally(() => inflight.delete(work));
  });

  // A PUT to an unmounted device is refused before its body is sent.
  server.on('checkContinue', (req, res) => {
    const segs = new URL(req.url ?? '/', 'http://x').pathname.split('/').slice(1).map(decodeURIComponent);
    const devName = segs[0] === '_r' ? segs[1] : segs[0];
    const ok = devName !== undefined && DEVICE_RE.test(devName);
    (ok ? isMounted(join(opts.devicesRoot, devName)) : Promise.resolve(false)).then(
      (mounted) => {
        if (!ok) return send(res, 400, 'bad device');
        if (!mounted) return send(res, 507, 'device unmounted');
        res.writeContinue();
        server.emit('request', req, res);
      },
      () => send(res, 500, 'error'),
    );
  });
  server.keepAliveTimeout = 30_000;
  server.headersTimeout = 60_000;
  server.requestTimeout = 0;
  return {
    server,
    async drain() {
      await Promise.allSettled([...inflight]);
    },
  };
}

export async function startObjectServer(opts: ObjectServerOptions): Promise<RunningObjectServer> {
  const { server, drain } = buildObjectServer(opts);
  const host = opts.listen ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr: AddressInfo | string | null = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    port,
    host,
    server,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      // Handlers may still touch the disk after their sockets are gone: wait for them.
      await drain();
    },
  };
}
