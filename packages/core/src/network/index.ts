/*
 * Networking (Neutron): networks, subnets, ports with IPAM, routers, floating IPs,
 * security groups, quotas; the functions compute calls for a server's ports; and the
 * desired dataplane state the worker's agent job converges each host to.
 */
export * from './cidr.ts';
export { networkSyncJobDef, NetworkSyncJob, requestSync, agentHosts } from './common.ts';
export { NETWORK_RULES } from './policy.ts';
export * from './quotas.ts';
export * from './networks.ts';
export * from './subnets.ts';
export * from './ports.ts';
export * from './secgroups.ts';
export * from './routers.ts';
export * from './server.ts';
export * from './agent.ts';
export {
  publishTunnelEndpoint,
  tunnelEndpoints,
  placeNetworks,
  type NetworkPlacement,
  type NetworkPlacementInput,
} from './tunnels.ts';
export * from './external.ts';
export { bridgeName, tapName } from './names.ts';
export { subnetPools } from './ipam.ts';
