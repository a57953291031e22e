import type { HostState, RequestSpec, SchedulerSettings } from './types.ts';

/*
 * Weighers as Nova's: each gives every host a raw value, values are normalised to 0..1
 * over the hosts (all equal → 0), multiplied by the weigher's multiplier and summed.
 * A positive RAM/CPU multiplier spreads (prefers free hosts), a negative one packs.
 */
export interface Weigher {
  name: string;
  multiplier(s: SchedulerSettings): number;
  raw(host: HostState, spec: RequestSpec): number;
}

export const free = (host: HostState, rc: string): number => {
  const r = host.resources[rc];
  return r ? r.capacity - r.used : 0;
};

const membersOn = (spec: RequestSpec, host: string): number =>
  (spec.serverGroup?.memberHosts ?? []).filter((h) => h === host).length;

export const RAMWeigher: Weigher = {
  name: 'RAMWeigher',
  multiplier: (s) => s.ramWeightMultiplier,
  raw: (h) => free(h, 'MEMORY_MB'),
};
export const CPUWeigher: Weigher = {
  name: 'CPUWeigher',
  multiplier: (s) => s.cpuWeightMultiplier,
  raw: (h) => free(h, 'VCPU'),
};
/** soft-affinity: more members on the host is better. */
export const ServerGroupSoftAffinityWeigher: Weigher = {
  name: 'ServerGroupSoftAffinityWeigher',
  multiplier: (s) => s.softAffinityWeightMultiplier,
  raw: (h, spec) => (spec.serverGroup?.policy === 'soft-affinity' ? membersOn(spec, h.host) : 0),
};
/** soft-anti-affinity: fewer members on the host is better. */
export const ServerGroupSoftAntiAffinityWeigher: Weigher = {
  name: 'ServerGroupSoftAntiAffinityWeigher',
  multiplier: (s) => s.softAntiAffinityWeightMultiplier,
  raw: (h, spec) => (spec.serverGroup?.policy === 'soft-anti-affinity' ? -membersOn(spec, h.host) : 0),
};

export const WEIGHERS: Weigher[] = [
  RAMWeigher,
  CPUWeigher,
  ServerGroupSoftAffinityWeigher,
  ServerGroupSoftAntiAffinityWeigher,
];

export function normalize(values: number[]): number[] {
  if (values.length === 0) return [];
  const min = Math.min(...values);
  const max = Math.max(...values);
  if (min === max) return values.map(() => 0);
  return values.map((v) => (v - min) / (max - min));
}

export interface WeighedHost {
  host: HostState;
  weight: number;
}

/** Hosts sorted best first; ties keep the input order (stable sort). */
export function weighHosts(
  hosts: HostState[],
  spec: RequestSpec,
  settings: SchedulerSettings,
  weighers: Weigher[] = WEIGHERS,
): WeighedHost[] {
  const totals = hosts.map(() => 0);
  for (const w of weighers) {
    const m = w.multiplier(settings);
    if (m === 0) continue;
    normalize(hosts.map((h) => w.raw(h, spec))).forEach((n, i) => {
      totals[i] = (totals[i] ?? 0) + m * n;
    });
  }
  return hosts.map((host, i) => ({ host, weight: totals[i] ?? 0 })).sort((a, b) => b.weight - a.weight);
}
