/*
 * Scheduler: pure filters and weighers over host states (placement candidates joined
 * with compute's host info), then atomic claims in placement (docs/placement-scheduler.md).
 */
export * from './types.ts';
export { matchExtraSpec } from './extra-specs-ops.ts';
export {
  FILTERS,
  runFilters,
  aggregateMetadata,
  AvailabilityZoneFilter,
  ComputeFilter,
  ImagePropertiesFilter,
  ServerGroupAffinityFilter,
  ServerGroupAntiAffinityFilter,
  AggregateInstanceExtraSpecsFilter,
  type HostFilter,
  type FilterResult,
} from './filters.ts';
export {
  WEIGHERS,
  weighHosts,
  normalize,
  RAMWeigher,
  CPUWeigher,
  ServerGroupSoftAffinityWeigher,
  ServerGroupSoftAntiAffinityWeigher,
  type Weigher,
  type WeighedHost,
} from './weighers.ts';
export {
  selectDestinations,
  schedulerSettings,
  buildHostStates,
  rankHosts,
  noValidHost,
  isNoValidHost,
  type SelectDestinationsInput,
} from './select.ts';
