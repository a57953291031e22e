import { type Microversion, type Negotiated, negotiateVersion, versionString } from '../common.ts';

export { type Microversion, versionString };

/*
 * Compute API microversions (2.1 … MAX). The request names one with
 * `OpenStack-API-Version: compute 2.N` (wins) or `X-OpenStack-Nova-API-Version: 2.N`;
 * none means 2.1, `latest` means MAX; a version outside the range is 406, a malformed
 * one 400. The answer echoes both headers and Vary.
 */
export const MIN_VERSION = { major: 2, minor: 1 } as const;
/** Highest microversion whose formats Stratus renders (docs/compute.md lists them). */
export const MAX_VERSION = { major: 2, minor: 60 } as const;

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
  return negotiateVersion(fromHeader(headers.openstack, headers.legacy), MIN_VERSION, MAX_VERSION);
}

export function versionHeaders(v: Microversion): Record<string, string> {
  return {
    'openstack-api-version': `compute ${versionString(v)}`,
    'x-openstack-nova-api-version': versionString(v),
    vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
  };
}
