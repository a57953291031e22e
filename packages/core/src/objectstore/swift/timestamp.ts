import type { SwiftTimestamp } from '../backend.ts';

/*
 * Swift timestamps: seconds since the epoch with 5 decimals. Two writes in the same
 * process never get the same one (the newest timestamp wins between replicas).
 */
let last = 0;

export function newTimestamp(): SwiftTimestamp {
  let t = Math.round(Date.now() * 100); // units of 10 µs
  if (t <= last) t = last + 1;
  last = t;
  return (t / 100000).toFixed(5);
}

export function timestampToDate(ts: SwiftTimestamp): Date {
  return new Date(Math.round(Number(ts) * 1000));
}

/** Whole seconds of Last-Modified: Swift rounds the timestamp up. */
export function lastModifiedSeconds(ts: SwiftTimestamp): number {
  return Math.ceil(Number(ts));
}

/** a > b, comparing Swift timestamps numerically. */
export function newer(a: SwiftTimestamp, b: SwiftTimestamp): boolean {
  return Number(a) > Number(b);
}

/** As listings show it: 2024-01-02T03:04:05.123450 (microseconds, no zone). */
export function listingDate(d: Date): string {
  return `${d.toISOString().slice(0, 23)}000`;
}
