import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { badRequest, StratusError } from '../../platform/errors.ts';
import type { ByteRange, ObjectMetadata, ObjectPath } from '../backend.ts';
import { authorize, type ObjectCaller, validObjectName } from './access.ts';
import { LIMITS } from './constants.ts';
import { findContainer, queryObjects } from './containers.ts';
import { objectBackend } from './store.ts';
import { listingDate, timestampToDate } from './timestamp.ts';

/*
 * Large objects. A DLO is a zero-byte object whose X-Object-Manifest names
 * "container/prefix": its content is the concatenation of the objects listed under
 * that prefix, in order, at GET time. An SLO manifest is a JSON list of segments
 * validated once at PUT (each must exist with the given etag and size) and stored as
 * an object flagged X-Static-Large-Object; its etag is the md5 of its segments' etags.
 * Both are streamed segment by segment, never buffered.
 */
export interface Segment {
  path: ObjectPath;
  /** Bytes this segment contributes (its range, or the whole object). */
  length: number;
  /** Expected etag of the segment object (SLO), checked when it is read. */
  etag?: string;
  /** Sub-range of the segment object (SLO "range"). */
  range?: ByteRange;
}

/** One stored SLO manifest entry, as Swift keeps it (and returns for multipart-manifest=get). */
export const StoredSegment = z.object({
  name: z.string(),
  bytes: z.number().int().min(0),
  hash: z.string(),
  content_type: z.string().optional(),
  last_modified: z.string().optional(),
  range: z.string().optional(),
});
export type StoredSegment = z.infer<typeof StoredSegment>;

/** What a client PUTs with ?multipart-manifest=put. */
const ClientSegment = z.object({
  path: z.string().min(1),
  etag: z.string().nullish(),
  size_bytes: z.number().int().min(0).nullish(),
  range: z.string().nullish(),
});

export const SLO_FLAG = 'x-static-large-object';
export const SLO_SIZE = 'x-object-sysmeta-slo-size';
export const SLO_ETAG = 'x-object-sysmeta-slo-etag';
export const DLO_MANIFEST = 'x-object-manifest';

export function isSlo(md: ObjectMetadata): boolean {
  return (md.sysMeta[SLO_FLAG] ?? '').toLowerCase() === 'true';
}

export function dloManifest(md: ObjectMetadata): string | undefined {
  const v = md.sysMeta[DLO_MANIFEST];
  return v ? v : undefined;
}

/** "/container/object" (or "container/object") inside `account`. */
function segmentPath(account: string, name: string): ObjectPath {
  const s = name.startsWith('/') ? name.slice(1) : name;
  const i = s.indexOf('/');
  if (i <= 0 || i === s.length - 1) throw badRequest(`Invalid segment path ${name}`);
  return { account, container: s.slice(0, i), object: s.slice(i + 1) };
}

function parseSegRange(r: string, size: number): ByteRange | null {
  const m = /^(\d*)-(\d*)$/.exec(r.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    const n = Number(m[2]);
    return n === 0 ? null : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start >= size || end < start ? null : { start, end };
}

export const sloEtagOf = (segs: Array<{ hash: string; range?: string | undefined }>): string =>
  createHash('md5')
    .update(segs.map((s) => (s.range ? `${s.hash}:${s.range};` : s.hash)).join(''))
    .digest('hex');

/** Reads a stream into memory up to `limit` bytes (manifests only). */
export async function readSmall(body: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(String(c));
    n += b.length;
    if (n > limit) {
      body.destroy();
      throw new StratusError('QuotaExceeded', `${what} is larger than ${limit} bytes.`);
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export function parseStoredManifest(buf: Buffer): StoredSegment[] {
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch {
    throw new StratusError('Unavailable', 'Stored SLO manifest is not valid JSON.');
  }
  const r = z.array(StoredSegment).safeParse(raw);
  if (!r.success) throw new StratusError('Unavailable', 'Stored SLO manifest is malformed.');
  return r.data;
}

export function sloSegments(account: string, manifest: StoredSegment[]): Segment[] {
  return manifest.map((s) => {
    const range = s.range ? (parseSegRange(s.range, s.bytes) ?? undefined) : undefined;
    return {
      path: segmentPath(account, s.name),
      length: range ? range.end - range.start + 1 : s.bytes,
      etag: s.hash,
      ...(range ? { range } : {}),
    };
  });
}

/** The objects of a DLO, in listing order, with the manifest's etag (md5 of their etags). */
export async function dloSegments(account: string, manifest: string): Promise<{ segments: Segment[]; etag: string }> {
  const decoded = safeDecode(manifest);
  const i = decoded.indexOf('/');
  const container = i < 0 ? decoded : decoded.slice(0, i);
  const prefix = i < 0 ? '' : decoded.slice(i + 1);
  const segments: Segment[] = [];
  const md5 = createHash('md5');
  let after: { name: string; inclusive: boolean } | undefined;
  const now = BigInt(Math.floor(Date.now() / 1000));
  while (segments.length < LIMITS.maxDloSegments) {
    const rows = await queryObjects(
      account,
      container,
      prefix,
      after,
      undefined,
      false,
      Math.min(1000, LIMITS.maxDloSegments - segments.length),
      now,
    );
    if (rows.length === 0) break;
    for (const r of rows) {
      segments.push({ path: { account, container, object: r.name }, length: r.bytes });
      md5.update(r.etag);
    }
    after = { name: rows[rows.length - 1]?.name ?? '', inclusive: false };
  }
  return { segments, etag: md5.digest('hex') };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Segment containers other than the manifest's must be readable by the caller too. */
export async function authorizeSegments(caller: ObjectCaller, segments: Segment[]): Promise<void> {
  if (caller.kind === 'tempurl') return;
  const seen = new Set<string>();
  for (const s of segments) {
    if (seen.has(s.path.container)) continue;
    seen.add(s.path.container);
    const c = await findContainer(s.path.account, s.path.container);
    authorize(caller, s.path.account, 'object.read', {
      container: s.path.container,
      acl: c ?? { readAcl: null, writeAcl: null },
      object: s.path.object,
    });
  }
}

/** The bytes of `segments` (within `range` of their concatenation), fetched one after another. */
export function concatSegments(segments: Segment[], range?: ByteRange): Readable {
  async function* gen(): AsyncGenerator<Buffer> {
    let offset = 0;
    for (const seg of segments) {
      const segStart = offset;
      const segEnd = offset + seg.length - 1;
      offset += seg.length;
      if (seg.length === 0) continue;
      if (range && (segEnd < range.start || segStart > range.end)) continue;
      const from = range ? Math.max(range.start, segStart) - segStart : 0;
      const to = range ? Math.min(range.end, segEnd) - segStart : seg.length - 1;
      const base = seg.range?.start ?? 0;
      const r = await objectBackend().get(seg.path, { start: base + from, end: base + to });
      if (!r) throw new StratusError('Unavailable', `Segment ${seg.path.container}/${seg.path.object} is missing.`);
      if (seg.etag && r.metadata.etag !== seg.etag) {
        r.body.destroy();
        throw new StratusError(
          'Unavailable',
          `Segment ${seg.path.container}/${seg.path.object} changed (etag mismatch).`,
        );
      }
      for await (const chunk of r.body) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    }
  }
  return Readable.from(gen(), { objectMode: false });
}

/**
 * Validates a client manifest (multipart-manifest=put): every segment must exist in the
 * account with the etag and size given; all errors are reported together, as Swift does.
 */
export async function buildSloManifest(
  caller: ObjectCaller,
  account: string,
  body: Readable,
): Promise<{ stored: StoredSegment[]; size: number; etag: string }> {
  const buf = await readSmall(body, LIMITS.maxManifestSize, 'Manifest');
  let raw: unknown;
  try {
    raw = JSON.parse(buf.toString('utf8'));
  } catch {
    throw badRequest('Manifest must be valid JSON.\n');
  }
  const parsed = z.array(ClientSegment).safeParse(raw);
  if (!parsed.success)
    throw badRequest(
      'Manifest must be a list of segments with "path", and optionally "etag", "size_bytes" and "range".\n',
    );
  const items = parsed.data;
  if (items.length === 0) throw badRequest('Manifest must have at least one segment.\n');
  if (items.length > LIMITS.maxManifestSegments)
    throw badRequest(`Too many segments in manifest; max ${LIMITS.maxManifestSegments}.\n`);
  const errors: string[] = [];
  const stored: Array<StoredSegment | undefined> = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      const item = items[i];
      if (!item) return;
      let path: ObjectPath;
      try {
        path = segmentPath(account, item.path);
        validObjectName(path.object);
      } catch {
        errors.push(`${item.path}, Invalid segment path`);
        continue;
      }
      const c = await findContainer(account, path.container);
      try {
        authorize(caller, account, 'object.read', {
          container: path.container,
          acl: c ?? { readAcl: null, writeAcl: null },
          object: path.object,
        });
      } catch {
        errors.push(`${item.path}, 403 Forbidden`);
        continue;
      }
      const md = await objectBackend().head(path);
      if (!md) {
        errors.push(`${item.path}, 404 Not Found`);
        continue;
      }
      if (isSlo(md)) {
        errors.push(`${item.path}, Nested SLO manifests are not supported`);
        continue;
      }
      if (item.etag && item.etag.replace(/"/g, '') !== md.etag) errors.push(`${item.path}, Etag Mismatch`);
      if (item.size_bytes !== null && item.size_bytes !== undefined && item.size_bytes !== md.size)
        errors.push(`${item.path}, Size Mismatch`);
      let range: string | undefined;
      if (item.range) {
        const r = parseSegRange(item.range, md.size);
        if (!r) errors.push(`${item.path}, Unsatisfiable Range`);
        else range = `${r.start}-${r.end}`;
      }
      const length = range ? Number(range.split('-')[1]) - Number(range.split('-')[0]) + 1 : md.size;
      if (length < LIMITS.minSegmentSize && i < items.length - 1)
        errors.push(`${item.path}, Too small; each segment must be at least ${LIMITS.minSegmentSize} byte.`);
      stored[i] = {
        name: `/${path.container}/${path.object}`,
        bytes: md.size,
        hash: md.etag,
        content_type: md.contentType,
        last_modified: listingDate(timestampToDate(md.timestamp)),
        ...(range ? { range } : {}),
      };
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, items.length) }, worker));
  if (errors.length) throw badRequest(`Errors:\n${errors.join('\n')}\n`);
  const list = stored.filter((s): s is StoredSegment => s !== undefined);
  const size = sloSegments(account, list).reduce((n, s) => n + s.length, 0);
  return { stored: list, size, etag: sloEtagOf(list) };
}
