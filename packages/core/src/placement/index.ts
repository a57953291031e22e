/*
 * Placement: resource providers, inventories, traits, aggregates, usages and the
 * allocations consumers hold, with atomic claims that never over-commit
 * (docs/placement-scheduler.md). Functions take a Caller: a user's AuthContext,
 * checked against placement:* policy (admin by default), or 'service'.
 */
import './policy.ts';

export * from './types.ts';
export { PLACEMENT_RULES } from './policy.ts';
export { normalizeUuid } from './store.ts';
export {
  listResourceProviders,
  getResourceProvider,
  createResourceProvider,
  updateResourceProvider,
  deleteResourceProvider,
} from './providers.ts';
export {
  getInventories,
  getInventory,
  setInventories,
  setInventory,
  deleteInventory,
  type ProviderInventories,
} from './inventories.ts';
export {
  claimAllocations,
  claimAllocationsInTx,
  withRetry as withPlacementRetry,
  replaceManyAllocations,
  replaceManyAllocationsInTx,
  getConsumerAllocations,
  deleteAllocations,
  getProviderAllocations,
} from './allocations.ts';
export { getProviderUsages, getProjectUsages } from './usages.ts';
export { getAllocationCandidates } from './candidates.ts';
export {
  listTraits,
  getTrait,
  createTrait,
  deleteTrait,
  getProviderTraits,
  setProviderTraits,
  deleteProviderTraits,
  getProviderAggregates,
  setProviderAggregates,
  setProviderAggregateMembershipInTx,
  listResourceClasses,
  getResourceClass,
  createResourceClass,
  deleteResourceClass,
} from './traits.ts';
export { summarizeProviders, type ProviderUsageSummary, type ResourceUsage } from './summary.ts';
