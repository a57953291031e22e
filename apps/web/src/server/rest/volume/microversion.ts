/*
 * Block-storage API microversions (3.0 … MAX). The request names one with
 * `OpenStack-API-Version: volume 3.N`; none means 3.0, `latest` means MAX; outside the
 * range is 406, malformed 400. Answers echo the header and Vary.
 *
 * What changes with the version here: 3.42 extends attached volumes; 3.47 creates a
 * volume from a backup; 3.48 adds shared_targets/service_uuid; 3.41 user_id on
 * snapshots; 3.55 the /volume-transfers resource; 3.63 volume_type_id; 3.65
 * consumes_quota; 3.66 snapshots of in-use volumes without force.
 */
export const MIN_VERSION = { major: 3, minor: 0 } as const;
export const MAX_VERSION = { major: 3, minor: 66 } as const;

export interface Microversion {
  major: number;
  minor: number;
}
export type Negotiated = { ok: true; version: Microversion } | { ok: false; status: 400 | 406; message: string };

export const versionString = (v: Microversion): string => `${v.major}.${v.minor}`;
export const atLeast = (v: Microversion, minor: number): boolean => v.major > 3 || (v.major === 3 && v.minor >= minor);

function fromHeader(openstack: string | undefined): string | undefined {
  if (!openstack) return undefined;
  for (const part of openstack.split(',')) {
    const [service, value] = part.trim().split(/\s+/, 2);
    if ((service?.toLowerCase() === 'volume' || service?.toLowerCase() === 'block-storage') && value) return value;
  }
  return undefined;
}

export function negotiate(openstack: string | undefined): Negotiated {
  const raw = fromHeader(openstack);
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
  if (below || above)
    return {
      ok: false,
      status: 406,
      message: `Version ${raw} is not supported by the API. Minimum is ${versionString(MIN_VERSION)} and maximum is ${versionString(MAX_VERSION)}.`,
    };
  return { ok: true, version: v };
}

export function versionHeaders(v: Microversion): Record<string, string> {
  return { 'openstack-api-version': `volume ${versionString(v)}`, vary: 'OpenStack-API-Version' };
}
