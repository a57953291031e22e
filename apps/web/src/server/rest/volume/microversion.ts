import { type Microversion, type Negotiated, negotiateVersion, versionString } from '../common.ts';

export { type Microversion, versionString };

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
  return negotiateVersion(fromHeader(openstack), MIN_VERSION, MAX_VERSION);
}

export function versionHeaders(v: Microversion): Record<string, string> {
  return { 'openstack-api-version': `volume ${versionString(v)}`, vary: 'OpenStack-API-Version' };
}
