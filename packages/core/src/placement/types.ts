import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { StratusError, type ErrorCode } from '../platform/errors.ts';

/**
 * Who calls placement: a user's token (checked against the placement:* policy), or a
 * Stratus service (scheduler, compute) acting for the cloud itself.
 */
export type Caller = AuthContext | 'service';

/** Resource classes every cloud has (os-resource-classes); others must be CUSTOM_*. */
export const STANDARD_RESOURCE_CLASSES = [
  'VCPU',
  'MEMORY_MB',
  'DISK_GB',
  'PCI_DEVICE',
  'SRIOV_NET_VF',
  'NUMA_SOCKET',
  'NUMA_CORE',
  'NUMA_THREAD',
  'NUMA_MEMORY_MB',
  'IPV4_ADDRESS',
  'VGPU',
  'VGPU_DISPLAY_HEAD',
  'NET_BW_EGR_KILOBIT_PER_SEC',
  'NET_BW_IGR_KILOBIT_PER_SEC',
  'PCPU',
  'MEM_ENCRYPTION_CONTEXT',
  'FPGA',
  'PGPU',
] as const;

/** A few standard traits (os-traits) that Stratus' compute driver reports; custom ones are CUSTOM_*. */
export const STANDARD_TRAITS = [
  'COMPUTE_NET_ATTACH_INTERFACE',
  'COMPUTE_VOLUME_ATTACH',
  'COMPUTE_VOLUME_EXTEND',
  'COMPUTE_DEVICE_TAGGING',
  'COMPUTE_TRUSTED_CERTS',
  'COMPUTE_STATUS_DISABLED',
  'COMPUTE_IMAGE_TYPE_QCOW2',
  'COMPUTE_IMAGE_TYPE_RAW',
  'COMPUTE_ARCH_X86_64',
  'COMPUTE_ARCH_AARCH64',
  'HW_CPU_X86_AVX',
  'HW_CPU_X86_AVX2',
  'HW_CPU_X86_SSE42',
  'HW_CPU_HYPERTHREADING',
  'HW_NIC_SRIOV',
  'STORAGE_DISK_SSD',
  'STORAGE_DISK_HDD',
  'MISC_SHARES_VIA_AGGREGATE',
] as const;

export const CUSTOM_NAME = /^CUSTOM_[A-Z0-9_]+$/;
export const RESOURCE_CLASS_NAME = /^[A-Z0-9_]+$/;
export const MAX_INT = 2147483647;

export const isStandardResourceClass = (rc: string): boolean =>
  (STANDARD_RESOURCE_CLASSES as readonly string[]).includes(rc);
export const isStandardTrait = (t: string): boolean => (STANDARD_TRAITS as readonly string[]).includes(t);

/** Error codes placement adds to its error bodies (microversion 1.23). */
export type PlacementErrorCode =
  | 'placement.undefined_code'
  | 'placement.concurrent_update'
  | 'placement.duplicate_name'
  | 'placement.inventory.inuse'
  | 'placement.resource_provider.inuse'
  | 'placement.resource_provider.cannot_delete_parent'
  | 'placement.resource_provider.not_found'
  | 'placement.query.duplicate_key'
  | 'placement.query.bad_value'
  | 'placement.query.missing_value';

export function placementError(
  code: ErrorCode,
  message: string,
  placementCode: PlacementErrorCode = 'placement.undefined_code',
): StratusError {
  return new StratusError(code, message, { placementCode });
}
export const concurrentUpdate = (message: string) => placementError('Conflict', message, 'placement.concurrent_update');

/** Resources per class, e.g. { VCPU: 1, MEMORY_MB: 512 }. */
export const Resources = z.record(
  z.string().regex(RESOURCE_CLASS_NAME, 'invalid resource class'),
  z.number().int().min(1).max(MAX_INT),
);
export type Resources = z.infer<typeof Resources>;

export interface ResourceProvider {
  uuid: string;
  name: string;
  generation: number;
  parentProviderUuid: string | null;
  rootProviderUuid: string;
}

export interface Inventory {
  total: number;
  reserved: number;
  minUnit: number;
  maxUnit: number;
  stepSize: number;
  allocationRatio: number;
}

export const InventoryInput = z
  .object({
    total: z.number().int().min(1).max(MAX_INT),
    reserved: z.number().int().min(0).max(MAX_INT).default(0),
    minUnit: z.number().int().min(1).max(MAX_INT).default(1),
    maxUnit: z.number().int().min(1).max(MAX_INT).default(MAX_INT),
    stepSize: z.number().int().min(1).max(MAX_INT).default(1),
    allocationRatio: z.number().positive().max(3.4e38).default(1.0),
  })
  .refine((i) => i.minUnit <= i.maxUnit, { message: 'min_unit must be less than or equal to max_unit' })
  .refine((i) => i.reserved <= i.total, { message: 'reserved must be less than or equal to total' });
export type InventoryInput = z.input<typeof InventoryInput>;

/** Usable amount of an inventory: Placement's int((total - reserved) * allocation_ratio). */
export function capacityOf(inv: Pick<Inventory, 'total' | 'reserved' | 'allocationRatio'>): number {
  return Math.floor((inv.total - inv.reserved) * inv.allocationRatio + 1e-9);
}

/** Why `amount` cannot be allocated from `inv` with `used` already taken, or undefined when it can. */
export function allocationProblem(inv: Inventory, used: number, amount: number): string | undefined {
  if (amount < inv.minUnit) return `the amount ${amount} is below min_unit ${inv.minUnit}`;
  if (amount > inv.maxUnit) return `the amount ${amount} is above max_unit ${inv.maxUnit}`;
  if (amount % inv.stepSize !== 0) return `the amount ${amount} is not a multiple of step_size ${inv.stepSize}`;
  const cap = capacityOf(inv);
  if (used + amount > cap) return `the requested amount would exceed the capacity (${used} used of ${cap})`;
  return undefined;
}

export interface ProviderAllocation {
  providerId: string;
  resources: Resources;
}

export interface ConsumerAllocations {
  consumerId: string;
  projectId: string;
  userId: string;
  allocations: ProviderAllocation[];
  /**
   * Compare-and-swap on the consumer: null = the consumer must not exist yet,
   * a number = its current generation, undefined = no check (pre-1.28 clients, services).
   */
  consumerGeneration?: number | null;
}

export interface ConsumerView {
  consumerId: string;
  projectId: string | null;
  userId: string | null;
  generation: number | null;
  allocations: Array<{ providerId: string; providerGeneration: number; resources: Record<string, number> }>;
}

export interface ProviderSummary {
  uuid: string;
  name: string;
  generation: number;
  parentProviderUuid: string | null;
  rootProviderUuid: string;
  /** Every resource class of the provider: capacity and used. */
  resources: Record<string, { capacity: number; used: number }>;
  traits: string[];
  aggregates: string[];
}

export interface AllocationCandidate {
  /** What a claim on this candidate would write. */
  allocations: ProviderAllocation[];
}

export interface AllocationCandidates {
  allocationRequests: AllocationCandidate[];
  providerSummaries: Record<string, ProviderSummary>;
}

export interface CandidateQuery {
  resources: Resources;
  requiredTraits?: string[];
  forbiddenTraits?: string[];
  /** Each element is a set of aggregate uuids the provider must be in (any of); all elements must hold. */
  memberOf?: string[][];
  /** Only providers in this provider's tree. */
  inTree?: string;
  limit?: number;
  /**
   * With `limit`: which `limit` providers out of all that fit are picked at random
   * (Placement's randomize_allocation_candidates) instead of the first by id.
   */
  randomize?: boolean;
}
