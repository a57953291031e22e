import { StratusError } from '../../platform/errors.ts';
import type { ByteRange } from '../backend.ts';

/*
 * Range and conditional requests, independent of HTTP framing (the S3 layer has the
 * same semantics): one byte range per request (a list of ranges is served whole, as
 * RFC 9110 allows), and If-Match / If-None-Match / If-Modified-Since /
 * If-Unmodified-Since evaluated in RFC 9110's order.
 */
export type RangeSpec = { start: number; end?: number } | { suffix: number };

/** `bytes=a-b`, `bytes=a-`, `bytes=-n`; undefined when absent, malformed or several ranges. */
export function parseRangeHeader(value: string | undefined): RangeSpec | undefined {
  if (!value) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(value);
  if (!m) return undefined;
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return undefined;
  if (a === '') return { suffix: Number(b) };
  const start = Number(a);
  if (b === '') return { start };
  const end = Number(b);
  if (end < start) return undefined;
  return { start, end };
}

/** The inclusive byte range of a `size`-byte object; 416 when it cannot be satisfied. */
export function resolveRange(spec: RangeSpec, size: number): ByteRange {
  if ('suffix' in spec) {
    if (spec.suffix === 0 || size === 0) throw rangeError(size);
    return { start: Math.max(0, size - spec.suffix), end: size - 1 };
  }
  if (spec.start >= size) throw rangeError(size);
  return { start: spec.start, end: Math.min(spec.end ?? size - 1, size - 1) };
}

function rangeError(size: number): StratusError {
  return new StratusError('RangeNotSatisfiable', 'Requested Range Not Satisfiable', { size });
}

export interface Conditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifUnmodifiedSince?: string;
}

const etags = (v: string): string[] =>
  v
    .split(',')
    .map((s) =>
      s
        .trim()
        .replace(/^W\//, '')
        .replace(/^"(.*)"$/, '$1'),
    )
    .filter(Boolean);

function httpDate(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.floor(t / 1000);
}

/**
 * 'ok', or 'not-modified' (304, for GET/HEAD); throws PreconditionFailed (412).
 * `lastModified` is in whole seconds, as Last-Modified shows it.
 */
export function evaluateConditions(
  c: Conditions,
  etag: string,
  lastModified: number,
  exists = true,
): 'ok' | 'not-modified' {
  if (c.ifMatch !== undefined) {
    const list = etags(c.ifMatch);
    const hit = exists && (list.includes('*') || list.includes(etag));
    if (!hit) throw new StratusError('PreconditionFailed', 'A precondition for this request was not met.', { etag });
  } else {
    const since = httpDate(c.ifUnmodifiedSince);
    if (since !== undefined && lastModified > since)
      throw new StratusError('PreconditionFailed', 'A precondition for this request was not met.', { etag });
  }
  if (c.ifNoneMatch !== undefined) {
    const list = etags(c.ifNoneMatch);
    if (exists && (list.includes('*') || list.includes(etag))) return 'not-modified';
  } else {
    const since = httpDate(c.ifModifiedSince);
    if (since !== undefined && lastModified <= since) return 'not-modified';
  }
  return 'ok';
}
