import type {
  FloatingIpRecord,
  NetworkRecord,
  PortRecord,
  RouterRecord,
  SecurityGroupRecord,
  SubnetRecord,
} from '@stratus/core/network/index';
import { routesOf } from '@stratus/core/network/index';
import { z } from 'zod';

/*
 * What the dashboard receives: camelCase records with ISO dates, only the fields the
 * panels show. Provider details and binding hosts stay with the REST API and admins.
 */
const iso = (d: Date) => d.toISOString();

export const networkShape = (n: NetworkRecord, projectId: string | null) => ({
  id: n.id,
  name: n.name,
  description: n.description,
  projectId: n.projectId,
  own: n.projectId === projectId,
  status: n.status,
  adminStateUp: n.adminStateUp,
  shared: n.shared,
  external: n.external,
  mtu: n.mtu,
  portSecurityEnabled: n.portSecurityEnabled,
  subnetIds: n.subnets.map((s) => s.id),
  createdAt: iso(n.createdAt),
});

export const subnetShape = (s: SubnetRecord) => ({
  id: s.id,
  name: s.name,
  description: s.description,
  networkId: s.networkId,
  projectId: s.projectId,
  ipVersion: s.ipVersion,
  /** Neutron's ipv6_ra_mode / ipv6_address_mode (null on IPv4 and when unset). */
  ipv6RaMode: s.ipv6RaMode,
  ipv6AddressMode: s.ipv6AddressMode,
  cidr: s.cidr,
  gatewayIp: s.gatewayIp,
  allocationPools: s.pools,
  dnsNameservers: s.dnsNameservers,
  hostRoutes: s.routes,
  enableDhcp: s.enableDhcp,
  createdAt: iso(s.createdAt),
});

export const portShape = (p: PortRecord) => ({
  id: p.id,
  name: p.name,
  networkId: p.networkId,
  projectId: p.projectId,
  macAddress: p.macAddress,
  status: p.status,
  adminStateUp: p.adminStateUp,
  deviceOwner: p.deviceOwner,
  deviceId: p.deviceId,
  fixedIps: p.fixedIps.map((f) => ({ subnetId: f.subnetId, ip: f.ip })),
  securityGroupIds: p.securityGroups.map((g) => g.securityGroupId),
  portSecurityEnabled: p.portSecurityEnabled,
  createdAt: iso(p.createdAt),
});

export const routerShape = (r: RouterRecord) => ({
  id: r.id,
  name: r.name,
  description: r.description,
  projectId: r.projectId,
  status: r.status,
  adminStateUp: r.adminStateUp,
  gateway: r.gateway,
  interfaces: r.interfaces.map((i) => ({ portId: i.portId, subnetId: i.subnetId })),
  routes: routesOf(r),
  createdAt: iso(r.createdAt),
});

export const floatingIpShape = (f: FloatingIpRecord) => ({
  id: f.id,
  floatingIp: f.floatingIp,
  floatingNetworkId: f.floatingNetworkId,
  portId: f.portId,
  fixedIp: f.fixedIp,
  routerId: f.routerId,
  status: f.status,
  description: f.description,
  createdAt: iso(f.createdAt),
});

export const ruleShape = (r: SecurityGroupRecord['rules'][number]) => ({
  id: r.id,
  securityGroupId: r.securityGroupId,
  direction: r.direction,
  ethertype: r.ethertype,
  protocol: r.protocol,
  portRangeMin: r.portRangeMin,
  portRangeMax: r.portRangeMax,
  remoteIpPrefix: r.remoteIpPrefix,
  remoteGroupId: r.remoteGroupId,
  description: r.description,
});

export const securityGroupShape = (g: SecurityGroupRecord) => ({
  id: g.id,
  name: g.name,
  description: g.description,
  projectId: g.projectId,
  isDefault: g.defaultFor !== null,
  rules: g.rules.map(ruleShape),
  createdAt: iso(g.createdAt),
});

/** Marker paging input shared by the lists. */
export const Page = z.object({
  marker: z.string().max(64).optional(),
  limit: z.number().int().min(1).max(200).default(20),
});

/** Asks core for one row more than the page: its presence means there is a next page. */
export function paged<T extends { id: string }>(rows: T[], limit: number): { items: T[]; next: string | null } {
  const items = rows.slice(0, limit);
  return { items, next: rows.length > limit ? (items.at(-1)?.id ?? null) : null };
}

export const Id = z.object({ id: z.string().min(1) });
