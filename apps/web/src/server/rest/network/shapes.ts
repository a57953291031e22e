import type {
  FloatingIpRecord,
  NetworkRecord,
  PortRecord,
  RouterRecord,
  SecurityGroupRecord,
  SubnetRecord,
} from '@stratus/core';

/*
 * Neutron's JSON for each resource. Every object carries both tenant_id and
 * project_id, timestamps without fractions, and revision_number (always 1: Stratus
 * does not version rows; clients only echo it in If-Match, which we do not require).
 */
type Json = Record<string, unknown>;

export const neutronTime = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;
const common = (r: { id: string; projectId: string; createdAt: Date; updatedAt: Date; description?: string }) => ({
  id: r.id,
  tenant_id: r.projectId,
  project_id: r.projectId,
  description: r.description ?? '',
  tags: [],
  created_at: neutronTime(r.createdAt),
  updated_at: neutronTime(r.updatedAt),
  revision_number: 1,
});

const fixedIpsJson = (ips: { subnetId: string; ip: string }[]) =>
  ips.map((f) => ({ subnet_id: f.subnetId, ip_address: f.ip }));
/** One availability zone, as Neutron reports for networks and routers. */
const ZONES = { availability_zone_hints: [], availability_zones: ['nova'] };

export function networkJson(n: NetworkRecord, admin: boolean): Json {
  return {
    ...common(n),
    name: n.name,
    admin_state_up: n.adminStateUp,
    status: n.status,
    subnets: n.subnets.map((s) => s.id),
    shared: n.shared,
    'router:external': n.external,
    is_default: false,
    mtu: n.mtu,
    port_security_enabled: n.portSecurityEnabled,
    ...ZONES,
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    l2_adjacency: true,
    ...(admin
      ? {
          'provider:network_type': n.networkType,
          'provider:physical_network': n.physicalNetwork,
          'provider:segmentation_id': n.segmentationId,
        }
      : {}),
  };
}

export function subnetJson(s: SubnetRecord): Json {
  return {
    ...common(s),
    name: s.name,
    network_id: s.networkId,
    ip_version: s.ipVersion,
    cidr: s.cidr,
    gateway_ip: s.gatewayIp,
    allocation_pools: s.pools,
    dns_nameservers: s.dnsNameservers,
    host_routes: s.routes,
    enable_dhcp: s.enableDhcp,
    ipv6_ra_mode: s.ipv6RaMode,
    ipv6_address_mode: s.ipv6AddressMode,
    subnetpool_id: null,
    service_types: [],
    segment_id: null,
  };
}

function pairs(raw: unknown): unknown[] {
  return Array.isArray(raw) ? raw : [];
}

export function portJson(p: PortRecord, admin: boolean): Json {
  return {
    ...common(p),
    name: p.name,
    network_id: p.networkId,
    mac_address: p.macAddress,
    admin_state_up: p.adminStateUp,
    status: p.status,
    device_id: p.deviceId,
    device_owner: p.deviceOwner,
    fixed_ips: fixedIpsJson(p.fixedIps),
    security_groups: p.securityGroups.map((g) => g.securityGroupId),
    allowed_address_pairs: pairs(p.allowedAddressPairs),
    port_security_enabled: p.portSecurityEnabled,
    extra_dhcp_opts: [],
    dns_name: '',
    'binding:vnic_type': p.bindingVnicType,
    ...(admin
      ? {
          'binding:host_id': p.bindingHost,
          'binding:vif_type': p.bindingHost ? 'bridge' : 'unbound',
          'binding:vif_details': p.bindingHost ? { port_filter: true } : {},
          'binding:profile': {},
        }
      : {}),
  };
}

export function routerJson(r: RouterRecord): Json {
  return {
    ...common(r),
    name: r.name,
    admin_state_up: r.adminStateUp,
    status: r.status,
    external_gateway_info: r.gateway
      ? {
          network_id: r.gateway.networkId,
          enable_snat: r.gateway.enableSnat,
          external_fixed_ips: fixedIpsJson(r.gateway.externalFixedIps),
        }
      : null,
    routes: Array.isArray(r.routes) ? r.routes : [],
    distributed: false,
    ha: false,
    flavor_id: null,
    ...ZONES,
  };
}

export function floatingIpJson(f: FloatingIpRecord): Json {
  return {
    ...common(f),
    floating_network_id: f.floatingNetworkId,
    floating_ip_address: f.floatingIp,
    fixed_ip_address: f.fixedIp,
    port_id: f.portId,
    router_id: f.routerId,
    status: f.status,
    port_details: null,
    dns_domain: '',
    dns_name: '',
    port_forwardings: [],
    qos_policy_id: null,
  };
}

export function ruleJson(r: SecurityGroupRecord['rules'][number]): Json {
  return {
    ...common(r),
    security_group_id: r.securityGroupId,
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: r.protocol,
    port_range_min: r.portRangeMin,
    port_range_max: r.portRangeMax,
    remote_ip_prefix: r.remoteIpPrefix,
    remote_group_id: r.remoteGroupId,
    remote_address_group_id: null,
    normalized_cidr: r.remoteIpPrefix,
  };
}

export function securityGroupJson(g: SecurityGroupRecord): Json {
  return {
    ...common(g),
    name: g.name,
    stateful: true,
    shared: false,
    security_group_rules: g.rules.map(ruleJson),
  };
}
