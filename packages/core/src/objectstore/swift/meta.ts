import { z } from 'zod';
import { badRequest } from '../../platform/errors.ts';
import { LIMITS } from './constants.ts';

/*
 * User metadata (X-{Account,Container,Object}-Meta-*): lower-case names without the
 * prefix. Swift's limits apply to what a request sets (check_metadata).
 */
export const Meta = z.record(z.string(), z.string());
export type Meta = z.infer<typeof Meta>;

/** A metadata change: names set to a value ('' removes, as in Swift) and names removed. */
export interface MetaChange {
  set: Meta;
  remove: string[];
}

export const emptyChange = (): MetaChange => ({ set: {}, remove: [] });

export function checkMeta(kind: 'Account' | 'Container' | 'Object', meta: Meta): void {
  let count = 0;
  let size = 0;
  for (const [k, v] of Object.entries(meta)) {
    if (!k) throw badRequest('Metadata name cannot be empty');
    if (Buffer.byteLength(k) > LIMITS.maxMetaNameLength)
      throw badRequest(`Metadata name too long: X-${kind}-Meta-${k}`);
    if (Buffer.byteLength(v) > LIMITS.maxMetaValueLength)
      throw badRequest(`Metadata value longer than ${LIMITS.maxMetaValueLength}: X-${kind}-Meta-${k}`);
    count += 1;
    size += Buffer.byteLength(k) + Buffer.byteLength(v);
  }
  if (count > LIMITS.maxMetaCount) throw badRequest(`Too many metadata items; max ${LIMITS.maxMetaCount}`);
  if (size > LIMITS.maxMetaOverallSize) throw badRequest(`Total metadata too large; max ${LIMITS.maxMetaOverallSize}`);
}

/** Applies a change to stored metadata; the result is what gets stored. */
export function applyMeta(current: Meta, change: MetaChange): Meta {
  const out: Meta = { ...current };
  for (const k of change.remove) delete out[k.toLowerCase()];
  for (const [k, v] of Object.entries(change.set)) {
    if (v === '') delete out[k.toLowerCase()];
    else out[k.toLowerCase()] = v;
  }
  return out;
}

export function storedMeta(value: unknown): Meta {
  const r = Meta.safeParse(value);
  return r.success ? r.data : {};
}

/** Non-negative integer quota from metadata ('' or absent: none). */
export function quotaValue(meta: Meta, key: string): number | undefined {
  const v = meta[key];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

export function checkQuotaValue(name: string, v: string | undefined): void {
  if (v === undefined || v === '') return;
  if (!/^\d+$/.test(v.trim())) throw badRequest(`Invalid ${name}: must be a non-negative integer.`);
}
