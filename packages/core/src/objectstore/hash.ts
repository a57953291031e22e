import { createHash } from 'node:crypto';
import type { ObjectPath, SwiftTimestamp } from './backend.ts';

/*
 * Where an object's name lands: md5 of the cluster's secret prefix, "/account/container/object"
 * and the secret suffix (Swift's hash_path). The secret keeps clients from choosing names that
 * all fall on one partition; every proxy must use the same one (it is stored with the ring).
 */

export interface HashSecret {
  prefix: string;
  suffix: string;
}

/** 32 hex characters naming the object's directory on every replica. */
export function hashPath(secret: HashSecret, path: ObjectPath): string {
  return createHash('md5')
    .update(`${secret.prefix}/${path.account}/${path.container}/${path.object}${secret.suffix}`)
    .digest('hex');
}

/** The partition of a hash: its top `partPower` bits. */
export function partitionOfHash(hash: string, partPower: number): number {
  const top = Number.parseInt(hash.slice(0, 8), 16);
  return partPower === 0 ? 0 : Math.floor(top / 2 ** (32 - partPower));
}

/** Suffix directory of a hash (the last 3 hex digits, as in Swift). */
export function suffixOfHash(hash: string): string {
  return hash.slice(-3);
}

export const HASH_RE = /^[0-9a-f]{32}$/;
export const SUFFIX_RE = /^[0-9a-f]{3}$/;
export const TIMESTAMP_RE = /^\d{10}\.\d{5}$/;

/** A Swift timestamp of now (or of `ms`): seconds with 5 decimals. */
export function swiftTimestamp(ms: number = Date.now()): SwiftTimestamp {
  return (ms / 1000).toFixed(5).padStart(16, '0');
}

/** Normalises "1700000000.1" or "1700000000" to the fixed 16-character form; null when invalid. */
export function normalizeTimestamp(ts: string): SwiftTimestamp | null {
  if (!/^\d{1,10}(\.\d{1,5})?$/.test(ts)) return null;
  const [int = '0', frac = ''] = ts.split('.');
  return `${int.padStart(10, '0')}.${frac.padEnd(5, '0')}`;
}

/** Orders normalised timestamps (fixed width: string order is time order). */
export function compareTimestamps(a: SwiftTimestamp, b: SwiftTimestamp): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
