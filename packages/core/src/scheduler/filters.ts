import { matchExtraSpec } from './extra-specs-ops.ts';
import type { FilterEnv, HostState, RequestSpec } from './types.ts';

/** A host filter: pure, true when the host may take one instance of the request. */
export type HostFilter = (host: HostState, spec: RequestSpec, env: FilterEnv) => boolean;

/** Values of each aggregate metadata key over the host's aggregates (Nova's aggregate_metadata_get_by_host). */
export function aggregateMetadata(host: HostState): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const agg of host.aggregates) {
    for (const [k, v] of Object.entries(agg.metadata)) {
      const set = out.get(k) ?? new Set<string>();
      set.add(v);
      out.set(k, set);
    }
  }
  return out;
}

/** The zone part of "zone" or "zone:host". */
export function requestedZone(spec: RequestSpec): string | undefined {
  const az = spec.availabilityZone;
  if (!az) return undefined;
  const zone = az.split(':')[0];
  return zone ? zone : undefined;
}

export const AvailabilityZoneFilter: HostFilter = (host, spec) => {
  const zone = requestedZone(spec);
  return zone === undefined || host.availabilityZone === zone;
};

/** The compute service is enabled and its heartbeat is newer than serviceDownSeconds. */
export const ComputeFilter: HostFilter = (host, _spec, env) => {
  if (host.serviceDisabled || !host.lastHeartbeat) return false;
  return env.now.getTime() - host.lastHeartbeat.getTime() <= env.settings.serviceDownSeconds * 1000;
};

const ARCH_ALIASES: Record<string, string> = {
  amd64: 'x86_64',
  x64: 'x86_64',
  i386: 'i686',
  i486: 'i686',
  i586: 'i686',
  x86_32: 'i686',
  ia32: 'i686',
  arm64: 'aarch64',
  armv8: 'aarch64',
  ppc: 'ppc',
  powerpc: 'ppc',
  ppc64el: 'ppc64le',
};
export const canonicalArch = (a: string): string => ARCH_ALIASES[a.toLowerCase()] ?? a.toLowerCase();
export const canonicalHvType = (h: string): string => (h.toLowerCase() === 'xapi' ? 'xen' : h.toLowerCase());
export const canonicalVmMode = (m: string): string => {
  const l = m.toLowerCase();
  return l === 'hv' || l === 'baremetal' ? 'hvm' : l === 'pv' ? 'xen' : l;
};

const prop = (spec: RequestSpec, ...names: string[]): string | undefined => {
  for (const n of names) {
    const v = spec.image.properties?.[n];
    if (v !== undefined && v !== null && v !== '') return String(v);
  }
  return undefined;
};

/** "7.2.0" → 7002000, as Nova compares hypervisor versions. */
export function versionToInt(v: string): number {
  return v
    .split('.')
    .slice(0, 3)
    .reduce((acc, part, i) => acc + (Number.parseInt(part, 10) || 0) * 1000 ** (2 - i), 0);
}

/**
 * The image's hw_architecture, img_hv_type and hw_vm_mode (or the legacy names) must be
 * one of the host's supported instances; img_hv_requested_version must match its version.
 */
export const ImagePropertiesFilter: HostFilter = (host, spec) => {
  const arch = prop(spec, 'hw_architecture', 'architecture');
  const hv = prop(spec, 'img_hv_type', 'hypervisor_type');
  const mode = prop(spec, 'hw_vm_mode', 'vm_mode');
  const want = [arch && canonicalArch(arch), hv && canonicalHvType(hv), mode && canonicalVmMode(mode)];
  const requestedVersion = prop(spec, 'img_hv_requested_version');
  if (!want.some(Boolean) && !requestedVersion) return true;
  if (want.some(Boolean)) {
    if (host.supportedInstances.length === 0) return false;
    const ok = host.supportedInstances.some((s) => {
      const have = [canonicalArch(s.arch), canonicalHvType(s.hvType), canonicalVmMode(s.vmMode)];
      return want.every((w, i) => !w || w === have[i]);
    });
    if (!ok) return false;
  }
  if (requestedVersion) {
    if (host.hypervisorVersion === undefined) return false;
    const words = requestedVersion.trim().split(/\s+/);
    const versionArg =
      words.length > 1 ? `${words[0]} ${versionToInt(words[1] ?? '')}` : String(versionToInt(requestedVersion));
    return matchExtraSpec(String(host.hypervisorVersion), versionArg);
  }
  return true;
};

const membersOn = (spec: RequestSpec, host: string): number =>
  (spec.serverGroup?.memberHosts ?? []).filter((h) => h === host).length;

/** Policy affinity: once a member is placed, every other goes to the same host. */
export const ServerGroupAffinityFilter: HostFilter = (host, spec) => {
  const g = spec.serverGroup;
  if (g?.policy !== 'affinity' || g.memberHosts.length === 0) return true;
  return g.memberHosts.includes(host.host);
};

/** Policy anti-affinity: at most max_server_per_host (default 1) members per host. */
export const ServerGroupAntiAffinityFilter: HostFilter = (host, spec) => {
  const g = spec.serverGroup;
  if (g?.policy !== 'anti-affinity') return true;
  return membersOn(spec, host.host) < (g.maxServerPerHost ?? 1);
};

const SCOPE = 'aggregate_instance_extra_specs';

/** Flavor extra specs `aggregate_instance_extra_specs:key` (and unscoped keys) must match the host's aggregate metadata. */
export const AggregateInstanceExtraSpecsFilter: HostFilter = (host, spec) => {
  const specs = spec.flavor.extraSpecs;
  if (!specs) return true;
  let metadata: Map<string, Set<string>> | undefined;
  for (const [rawKey, req] of Object.entries(specs)) {
    const parts = rawKey.split(':');
    let key = rawKey;
    if (parts.length > 1) {
      if (parts[0] !== SCOPE) continue;
      key = parts.slice(1).join(':');
    }
    metadata ??= aggregateMetadata(host);
    const values = metadata.get(key);
    if (!values || values.size === 0) return false;
    if (![...values].some((v) => matchExtraSpec(v, req))) return false;
  }
  return true;
};

export const FILTERS: Record<string, HostFilter> = {
  AvailabilityZoneFilter,
  ComputeFilter,
  ImagePropertiesFilter,
  ServerGroupAffinityFilter,
  ServerGroupAntiAffinityFilter,
  AggregateInstanceExtraSpecsFilter,
};

export interface FilterResult {
  hosts: HostState[];
  /** Hosts left after each filter, in order (explains a NoValidHost). */
  trace: Array<{ filter: string; remaining: number }>;
}

/** Runs the enabled filters in order; an unknown filter name is an error in the configuration. */
export function runFilters(hosts: HostState[], spec: RequestSpec, env: FilterEnv): FilterResult {
  let remaining = hosts;
  const trace: FilterResult['trace'] = [];
  for (const name of env.settings.enabledFilters) {
    const f = FILTERS[name];
    if (!f)
      throw new Error(
        `scheduler: unknown filter ${name} in schedulerEnabledFilters (known: ${Object.keys(FILTERS).join(', ')})`,
      );
    remaining = remaining.filter((h) => f(h, spec, env));
    trace.push({ filter: name, remaining: remaining.length });
    if (remaining.length === 0) break;
  }
  return { hosts: remaining, trace };
}
