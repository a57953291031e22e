/*
 * Compute API microversions (2.1 … MAX). The request names one with
 * `OpenStack-API-Version: compute 2.N` (wins) or `X-OpenStack-Nova-API-Version: 2.N`;
 * none means 2.1, `latest` means MAX; a version outside the range is 406, a malformed
 * one 400. The answer echoes both headers and Vary.
 */
export const MIN_VERSION = { major: 2, minor: 1 } as const;
/** Highest microversion whose formats Stratus renders (docs/compute.md lists them). */
export const MAX_VERSION = { major: 2, minor: 60 } as const;

export interface Microversion {
  major: number;
  minor: number;
}

export type Negotiated = { ok: true; version: Microversion } | { ok: false; status: 400 | 406; message: string };

export const versionString = (v: Microversion): string => `${v.major}.${v.minor}`;
export const atLeast = (v: Microversion, minor: number): boolean => v.major > 2 || (v.major === 2 && v.minor >= minor);

function fromHeader(openstack: string | undefined, legacy: string | undefined): string | undefined {
  if (openstack) {
    for (const part of openstack.split(',')) {
      const [service, value] = part.trim().split(/\s+/, 2);
      if (service?.toLowerCase() === 'compute' && value) return value;
    }
  }
  return legacy?.trim() || undefined;
}

export function negotiate(headers: { openstack?: string; legacy?: string }): Negotiated {
  const raw = fromHeader(headers.openstack, headers.legacy);
  if (!raw) return { ok: true, version: { ...MIN_VERSION } };
  if (raw.toLowerCase() === 'latest') return { ok: true, version: { ...MAX_VERSION } };
  const m = /^(\d+)\.(\d+)$/.exec(raw);
  if (!m)
    return {
      ok: false,
      status: 400,
      message: `API Version String ${raw} is of invalid format. Must be of format MajorNum.MinorNum.`,
    };
  const v = { major: Number(m[1]), minor: Number(m[2]) };
  const below = v.major < MIN_VERSION.major || (v.major === MIN_VERSION.major && v.minor < MIN_VERSION.minor);
  const above = v.major > MAX_VERSION.major || (v.major === MAX_VERSION.major && v.minor > MAX_VERSION.minor);
  if (below || above) {
    return {
      ok: false,
      status: 406,
      message: `Version ${raw} is not supported by the API. Minimum is ${versionString(MIN_VERSION)} and maximum is ${versionString(MAX_VERSION)}.`,
    };
  }
  return { ok: true, version: v };
}

export function versionHeaders(v: Microversion): Record<string, string> {
  return {
    'openstack-api-version': `compute ${versionString(v)}`,
    'x-openstack-nova-api-version': versionString(v),
    vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
  };
}
