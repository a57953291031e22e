import type { ProviderAllocation, Resources } from '../placement/types.ts';

/** A host aggregate as compute knows it (Nova host aggregates): name and metadata. */
export interface HostAggregate {
  name?: string;
  metadata: Record<string, string>;
}

/** One architecture/hypervisor/vm-mode triple a host can run (Nova's supported_instances). */
export interface SupportedInstance {
  arch: string;
  hvType: string;
  vmMode: string;
}

/**
 * What compute knows about the host behind a resource provider. The compute service
 * supplies these (its services, compute nodes and host aggregates); placement knows
 * only capacities.
 */
export interface ComputeHostInfo {
  host: string;
  nodename?: string;
  /** The compute service's disabled flag (nova service-disable). */
  serviceDisabled: boolean;
  /** Last heartbeat of the host's compute service; null when it never reported. */
  lastHeartbeat: Date | null;
  hypervisorType: string;
  /** Numeric hypervisor version (Nova style, e.g. 7002000 for 7.2.0), if known. */
  hypervisorVersion?: number;
  /** CPU architecture (x86_64, aarch64); used when supportedInstances is absent. */
  cpuArch?: string;
  supportedInstances?: SupportedInstance[];
  /** Explicit availability zone; otherwise from the aggregates' availability_zone, else the default. */
  availabilityZone?: string;
  aggregates: HostAggregate[];
}

/** The compute side the scheduler needs; the compute service provides the real one. */
export interface ComputeInfoSource {
  /** Hosts of these resource providers (provider uuid → host); providers left out are not compute hosts. */
  hostsForProviders(providerIds: string[]): Promise<Map<string, ComputeHostInfo>>;
}

/** A candidate host: compute info plus placement's view of its capacity. */
export interface HostState {
  providerId: string;
  host: string;
  nodename: string;
  availabilityZone: string;
  serviceDisabled: boolean;
  lastHeartbeat: Date | null;
  hypervisorType: string;
  hypervisorVersion?: number;
  supportedInstances: SupportedInstance[];
  aggregates: HostAggregate[];
  /** Capacity and usage per resource class (from the provider summary). */
  resources: Record<string, { capacity: number; used: number }>;
  traits: string[];
}

export type ServerGroupPolicy = 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity';

export interface ServerGroupInfo {
  id: string;
  policy: ServerGroupPolicy;
  /** The host of every member already placed (one entry per member; repeats count). */
  memberHosts: string[];
  /** anti-affinity rule max_server_per_host (default 1). */
  maxServerPerHost?: number;
}

export interface SchedulerFlavor {
  name?: string;
  vcpus: number;
  memoryMb: number;
  diskGb?: number;
  extraSpecs?: Record<string, string>;
}

export interface SchedulerImage {
  id?: string;
  properties?: Record<string, string | number | boolean | null | undefined>;
}

/** What to place (Nova's RequestSpec, reduced to what the filters read). */
export interface RequestSpec {
  projectId: string;
  userId: string;
  /** Placement resources per instance, e.g. { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 }. */
  resources: Resources;
  flavor: SchedulerFlavor;
  image: SchedulerImage;
  /** "zone" or "zone:host" (forces the host, as Nova's admin-only syntax). */
  availabilityZone?: string;
  serverGroup?: ServerGroupInfo;
  /** Hosts not to use (e.g. where a build already failed). */
  ignoreHosts?: string[];
  /** Only these hosts. */
  forceHosts?: string[];
  requiredTraits?: string[];
  forbiddenTraits?: string[];
  memberOf?: string[][];
}

/** Effective scheduler settings (from config; tests and benchmarks may override). */
export interface SchedulerSettings {
  enabledFilters: string[];
  ramWeightMultiplier: number;
  cpuWeightMultiplier: number;
  softAffinityWeightMultiplier: number;
  softAntiAffinityWeightMultiplier: number;
  hostSubsetSize: number;
  maxAttempts: number;
  maxPlacementResults: number;
  /** Reuse a candidate list for this many ms (0 = ask placement on every decision). */
  candidateCacheMs: number;
  serviceDownSeconds: number;
  defaultAvailabilityZone: string;
}

export interface FilterEnv {
  now: Date;
  settings: SchedulerSettings;
}

export interface Destination {
  host: string;
  nodename: string;
  providerId: string;
  /** What was (for alternates: would be) claimed in placement. */
  allocations: ProviderAllocation[];
}

export interface Selection extends Destination {
  consumerId: string;
  /** Next-best hosts, unclaimed, for a reschedule after a failed build. */
  alternates: Destination[];
}
