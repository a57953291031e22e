import type { IncomingMessage } from 'node:http';
import { StratusError } from '@stratus/core';
import { header } from '../common.ts';

/*
 * Placement microversions: `OpenStack-API-Version: placement X.Y` (or `latest`); absent
 * means the minimum. osc-placement asks for 1.29 at `GET /` and falls back to
 * errors[0].max_version on 406, so the maximum advertised is what is implemented.
 */
export const MIN_VERSION = { major: 1, minor: 0 };
export const MAX_VERSION = { major: 1, minor: 29 };
export const versionString = (v: { major: number; minor: number }) => `${v.major}.${v.minor}`;

export class Microversion {
  constructor(readonly minor: number) {}
  /** At least 1.n. */
  ge(n: number): boolean {
    return this.minor >= n;
  }
  toString(): string {
    return `1.${this.minor}`;
  }
}

/** The requested version; BadRequest when malformed, NotAcceptable outside the supported range. */
export function parseMicroversion(req: IncomingMessage): Microversion {
  const raw = header(req, 'openstack-api-version');
  if (!raw) return new Microversion(MIN_VERSION.minor);
  const entry = raw
    .split(',')
    .map((s) => s.trim().split(/\s+/))
    .find((parts) => parts[0]?.toLowerCase() === 'placement');
  if (!entry) return new Microversion(MIN_VERSION.minor);
  const value = entry[1] ?? '';
  if (value.toLowerCase() === 'latest') return new Microversion(MAX_VERSION.minor);
  const m = /^(\d+)\.(\d+)$/.exec(value);
  if (!m) throw new StratusError('BadRequest', `invalid version string: ${value}`);
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major !== 1 || minor < MIN_VERSION.minor || minor > MAX_VERSION.minor) {
    throw new StratusError('NotAcceptable', `Unacceptable version header: ${value}`, {
      minVersion: versionString(MIN_VERSION),
      maxVersion: versionString(MAX_VERSION),
    });
  }
  return new Microversion(minor);
}
