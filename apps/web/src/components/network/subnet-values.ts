/*
 * The subnet form's values and what it sends: pure (no React), shared by the subnet
 * dialog and the create-network dialog, and tested without a browser.
 */
import type { SubnetRow } from './common';
import {
  DEFAULT_IPV6_MODE,
  type Ipv6FormMode,
  ipv6FormModeOf,
  ipv6ModeAttributes,
  isAutoAddressMode,
} from './ipv6-modes';
import { formatPools, formatRoutes, lines, parsePools, parseRoutes } from './text';

/** The subnet form's state: text as typed; core validates the addressing and answers in words. */
export interface SubnetValues {
  name: string;
  cidr: string;
  ipVersion: '4' | '6';
  /** IPv6 only: sets ipv6_ra_mode and ipv6_address_mode together, as Horizon does. */
  ipv6Mode: Ipv6FormMode;
  gatewayMode: 'auto' | 'custom' | 'none';
  gatewayIp: string;
  enableDhcp: boolean;
  pools: string;
  dns: string;
  routes: string;
}

export const emptySubnet = (): SubnetValues => ({
  name: '',
  cidr: '',
  ipVersion: '4',
  ipv6Mode: DEFAULT_IPV6_MODE,
  gatewayMode: 'auto',
  gatewayIp: '',
  enableDhcp: true,
  pools: '',
  dns: '',
  routes: '',
});

export const subnetValuesOf = (s: SubnetRow): SubnetValues => ({
  name: s.name,
  cidr: s.cidr,
  ipVersion: s.ipVersion === 6 ? '6' : '4',
  ipv6Mode: ipv6FormModeOf(s),
  gatewayMode: s.gatewayIp ? 'custom' : 'none',
  gatewayIp: s.gatewayIp ?? '',
  enableDhcp: s.enableDhcp,
  pools: formatPools(s.allocationPools),
  dns: s.dnsNameservers.join('\n'),
  routes: formatRoutes(s.hostRoutes),
});

/** The form's own checks, before asking the server; null when fine. */
export function subnetProblem(v: SubnetValues): string | null {
  if (!v.cidr.trim()) return 'A network address (CIDR) is required, e.g. 10.0.0.0/24.';
  if (v.gatewayMode === 'custom' && !v.gatewayIp.trim()) return 'Enter the gateway address or choose another option.';
  return null;
}

/** The IPv6 mode that applies to these values: null on IPv4 or without a mode. */
export const modeOf = (v: SubnetValues): Ipv6FormMode | null =>
  v.ipVersion === '6' && v.ipv6Mode !== 'none' ? v.ipv6Mode : null;

/** Whether the form shows (and sends) allocation pools: not for SLAAC / DHCPv6 stateless (EUI-64 addresses). */
export const poolsApply = (v: SubnetValues) => {
  const m = modeOf(v);
  return !m || !isAutoAddressMode(m);
};

/** Neutron's subnet body (without network_id) from the form. */
export function subnetInput(v: SubnetValues) {
  const pools = poolsApply(v) ? parsePools(v.pools) : [];
  const mode = modeOf(v);
  const modes = mode ? ipv6ModeAttributes(mode) : null;
  return {
    name: v.name.trim(),
    cidr: v.cidr.trim(),
    ip_version: v.ipVersion === '6' ? (6 as const) : (4 as const),
    ...(modes ?? {}),
    ...(v.gatewayMode === 'none'
      ? { gateway_ip: null }
      : v.gatewayMode === 'custom'
        ? { gateway_ip: v.gatewayIp.trim() }
        : {}),
    ...(pools.length ? { allocation_pools: pools } : {}),
    dns_nameservers: lines(v.dns),
    host_routes: parseRoutes(v.routes),
    // Neutron refuses IPv6 modes without DHCP; the form keeps it on under a mode.
    enable_dhcp: mode ? true : v.enableDhcp,
  };
}

/** The changes an edit may make (CIDR, IP version and the IPv6 modes are fixed once created). */
export function subnetPatch(v: SubnetValues) {
  return {
    name: v.name.trim(),
    gateway_ip: v.gatewayMode === 'none' ? null : v.gatewayMode === 'custom' ? v.gatewayIp.trim() : undefined,
    ...(poolsApply(v) ? { allocation_pools: parsePools(v.pools) } : {}),
    dns_nameservers: lines(v.dns),
    host_routes: parseRoutes(v.routes),
    enable_dhcp: modeOf(v) ? true : v.enableDhcp,
  };
}
