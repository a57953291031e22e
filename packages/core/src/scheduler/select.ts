import { randomUUID } from 'node:crypto';
import { claimAllocations, deleteAllocations } from '../placement/allocations.ts';
import { getAllocationCandidates } from '../placement/candidates.ts';
import type { AllocationCandidates, ProviderAllocation } from '../placement/types.ts';
import { loadConfig, type Config } from '../platform/config.ts';
import { badRequest, isStratusError, StratusError } from '../platform/errors.ts';
import { logger } from '../platform/log.ts';
import { type FilterResult, runFilters } from './filters.ts';
import type {
  ComputeHostInfo,
  ComputeInfoSource,
  Destination,
  HostState,
  RequestSpec,
  SchedulerSettings,
  Selection,
  SupportedInstance,
} from './types.ts';
import { weighHosts } from './weighers.ts';

export function schedulerSettings(
  c: Config = loadConfig(),
  overrides: Partial<SchedulerSettings> = {},
): SchedulerSettings {
  return {
    enabledFilters: c.schedulerEnabledFilters,
    ramWeightMultiplier: c.schedulerRamWeightMultiplier,
    cpuWeightMultiplier: c.schedulerCpuWeightMultiplier,
    softAffinityWeightMultiplier: c.schedulerSoftAffinityWeightMultiplier,
    softAntiAffinityWeightMultiplier: c.schedulerSoftAntiAffinityWeightMultiplier,
    hostSubsetSize: c.schedulerHostSubsetSize,
    maxAttempts: c.schedulerMaxAttempts,
    maxPlacementResults: c.schedulerMaxPlacementResults,
    candidateCacheMs: c.schedulerCandidateCacheMs,
    serviceDownSeconds: c.serviceDownSeconds,
    defaultAvailabilityZone: c.defaultAvailabilityZone,
    ...overrides,
  };
}

/** NoValidHost: no host passed the filters or could be claimed. */
export function noValidHost(reason: string, trace: FilterResult['trace'] = []): StratusError {
  return new StratusError('Conflict', `No valid host was found. ${reason}`, { noValidHost: true, filters: trace });
}
export function isNoValidHost(e: unknown): boolean {
  return isStratusError(e) && e.details?.noValidHost === true;
}

function supportedInstances(info: ComputeHostInfo): SupportedInstance[] {
  if (info.supportedInstances) return info.supportedInstances;
  return info.cpuArch ? [{ arch: info.cpuArch, hvType: info.hypervisorType, vmMode: 'hvm' }] : [];
}

/** Joins placement's candidates with compute's host info; providers compute does not know are skipped. */
export function buildHostStates(
  candidates: AllocationCandidates,
  infos: Map<string, ComputeHostInfo>,
  settings: SchedulerSettings,
): HostState[] {
  const out: HostState[] = [];
  for (const [id, summary] of Object.entries(candidates.providerSummaries)) {
    const info = infos.get(id);
    if (!info) continue;
    const zoneFromAggregates = info.aggregates.map((a) => a.metadata.availability_zone).find((z) => z !== undefined);
    out.push({
      providerId: id,
      host: info.host,
      nodename: info.nodename ?? info.host,
      availabilityZone: info.availabilityZone ?? zoneFromAggregates ?? settings.defaultAvailabilityZone,
      serviceDisabled: info.serviceDisabled,
      lastHeartbeat: info.lastHeartbeat,
      hypervisorType: info.hypervisorType,
      ...(info.hypervisorVersion !== undefined ? { hypervisorVersion: info.hypervisorVersion } : {}),
      supportedInstances: supportedInstances(info),
      aggregates: info.aggregates,
      resources: Object.fromEntries(Object.entries(summary.resources).map(([rc, r]) => [rc, { ...r }])),
      traits: summary.traits,
    });
  }
  return out;
}

/** The filtered, weighed hosts for one instance, best first, with the host-subset randomisation. */
export function rankHosts(
  hosts: HostState[],
  spec: RequestSpec,
  settings: SchedulerSettings,
  now = new Date(),
): { ranked: HostState[]; trace: FilterResult['trace'] } {
  const forced = spec.availabilityZone?.includes(':') ? spec.availabilityZone.split(':')[1] : undefined;
  const force = new Set([...(spec.forceHosts ?? []), ...(forced ? [forced] : [])]);
  const ignore = new Set(spec.ignoreHosts ?? []);
  const eligible = hosts.filter((h) => !ignore.has(h.host) && (force.size === 0 || force.has(h.host)));
  const { hosts: passed, trace } = runFilters(eligible, spec, { now, settings });
  const ranked = weighHosts(passed, spec, settings).map((w) => w.host);
  // Nova's host_subset_size: pick the first host at random among the N best, so that
  // parallel schedulers with the same view do not all race for one host.
  const n = Math.min(settings.hostSubsetSize, ranked.length);
  if (n > 1) {
    const i = Math.floor(Math.random() * n);
    const [chosen] = ranked.splice(i, 1);
    if (chosen) ranked.unshift(chosen);
  }
  return { ranked, trace };
}

const allocationFor = (h: HostState, spec: RequestSpec): ProviderAllocation[] => [
  { providerId: h.providerId, resources: { ...spec.resources } },
];
const destination = (h: HostState, spec: RequestSpec): Destination => ({
  host: h.host,
  nodename: h.nodename,
  providerId: h.providerId,
  allocations: allocationFor(h, spec),
});

/** Recent candidate host states per query (see candidateCacheMs), shared by this process's decisions. */
const hostCache = new Map<string, { at: number; entry: { hosts: HostState[]; sampled: boolean } }>();

export interface SelectDestinationsInput {
  request: RequestSpec;
  /** Instances to place (default 1). */
  count?: number;
  /** Placement consumers, one per instance (the servers' ids); random when absent. */
  consumerIds?: string[];
  source: ComputeInfoSource;
  settings?: Partial<SchedulerSettings>;
}

/**
 * Places `count` instances: allocation candidates from placement → host states with
 * compute's info → filters → weighers → claim in placement, moving on to the next host
 * when a claim conflicts (another scheduler took the room). Each selection carries up to
 * maxAttempts - 1 alternates. All or nothing: when an instance cannot be placed, the
 * claims already made for this request are removed and NoValidHost is thrown.
 */
export async function selectDestinations(input: SelectDestinationsInput): Promise<Selection[]> {
  const count = input.count ?? 1;
  if (!Number.isInteger(count) || count < 1) throw badRequest('count must be a positive integer.');
  const consumerIds = input.consumerIds ?? Array.from({ length: count }, () => randomUUID());
  if (consumerIds.length !== count) throw badRequest('consumerIds must have one id per instance.');
  const settings = schedulerSettings(loadConfig(), input.settings);
  const request = input.request;
  // A random sample of at most maxPlacementResults fitting providers (Placement's
  // max_placement_results with randomize_allocation_candidates): parallel schedulers see
  // different hosts and a decision does not read every provider of a large cloud. When
  // the filters leave nothing of a full sample, the decision is retried on every provider.
  const fetchHosts = async (limit: number | undefined, useCache = true) => {
    // Optionally (candidateCacheMs) the host states of a recent identical query are reused,
    // shared by the decisions of this process like Nova's HostManager: each claim made here
    // is applied to them at once, and claims re-check capacity in placement anyway, so a
    // stale entry costs at most a refused claim. A decision that finds nothing in it asks
    // placement afresh (useCache false), so the cache never causes a NoValidHost.
    const key = `${JSON.stringify([request.resources, request.requiredTraits, request.forbiddenTraits, request.memberOf])}/${limit}`;
    if (useCache && settings.candidateCacheMs > 0) {
      const hit = hostCache.get(key);
      if (hit && Date.now() - hit.at < settings.candidateCacheMs) return hit.entry;
    }
    const candidates = await getAllocationCandidates('service', {
      resources: request.resources,
      ...(request.requiredTraits ? { requiredTraits: request.requiredTraits } : {}),
      ...(request.forbiddenTraits ? { forbiddenTraits: request.forbiddenTraits } : {}),
      ...(request.memberOf ? { memberOf: request.memberOf } : {}),
      ...(limit !== undefined ? { limit, randomize: true } : {}),
    });
    const ids = Object.keys(candidates.providerSummaries);
    const hosts = ids.length ? buildHostStates(candidates, await input.source.hostsForProviders(ids), settings) : [];
    const entry = { hosts, sampled: limit !== undefined && ids.length >= limit };
    if (settings.candidateCacheMs > 0) {
      if (hostCache.size > 100) hostCache.clear();
      hostCache.set(key, { at: Date.now(), entry });
    }
    return entry;
  };
  let { hosts, sampled } = await fetchHosts(settings.maxPlacementResults);
  // Members placed by this request count for the next instances (affinity, anti-affinity).
  const spec: RequestSpec = request.serverGroup
    ? { ...request, serverGroup: { ...request.serverGroup, memberHosts: [...request.serverGroup.memberHosts] } }
    : request;

  /** Claims on the first host of `ranked` that still has room; undefined when none had. */
  const claimFirst = async (ranked: HostState[], consumerId: string): Promise<HostState | undefined> => {
    for (const h of ranked) {
      try {
        await claimAllocations('service', {
          consumerId,
          projectId: request.projectId,
          userId: request.userId,
          allocations: allocationFor(h, spec),
        });
        return h;
      } catch (e) {
        if (!(isStratusError(e) && e.code === 'Conflict')) throw e;
        logger().debug({ host: h.host, consumerId, err: e.message }, 'scheduler: claim conflict, trying the next host');
        // Someone else used the room: treat this host as full for the rest of the request.
        for (const [rc] of Object.entries(spec.resources)) {
          const r = h.resources[rc];
          if (r) r.used = r.capacity;
        }
      }
    }
    return undefined;
  };

  const selections: Selection[] = [];
  try {
    // Hosts this request (or, with the cache, this process) already filled are left out.
    const withRoom = (list: HostState[]) =>
      list.filter((h) =>
        Object.entries(spec.resources).every(([rc, n]) => {
          const r = h.resources[rc];
          return !r || r.used + n <= r.capacity;
        }),
      );
    for (const consumerId of consumerIds) {
      let { ranked, trace } = rankHosts(withRoom(hosts), spec, settings);
      let chosen = ranked.length ? await claimFirst(ranked, consumerId) : undefined;
      if (!chosen && (sampled || settings.candidateCacheMs > 0)) {
        ({ hosts, sampled } = await fetchHosts(undefined, false));
        ({ ranked, trace } = rankHosts(withRoom(hosts), spec, settings));
        chosen = ranked.length ? await claimFirst(ranked, consumerId) : undefined;
      }
      if (ranked.length === 0) {
        throw noValidHost(
          hosts.length === 0
            ? 'There are not enough hosts available.'
            : `Filters left no host: ${trace.map((t) => `${t.filter} → ${t.remaining}`).join(', ')}.`,
          trace,
        );
      }
      if (!chosen) throw noValidHost('Every candidate host was claimed by other requests.', trace);
      for (const [rc, amount] of Object.entries(spec.resources)) {
        const r = chosen.resources[rc];
        if (r) r.used += amount;
      }
      spec.serverGroup?.memberHosts.push(chosen.host);
      const alternates = ranked
        .filter((h) => h !== chosen)
        .slice(0, Math.max(0, settings.maxAttempts - 1))
        .map((h) => destination(h, spec));
      selections.push({ ...destination(chosen, spec), consumerId, alternates });
    }
  } catch (e) {
    await Promise.all(selections.map((s) => deleteAllocations('service', s.consumerId).catch(() => undefined)));
    throw e;
  }
  return selections;
}
