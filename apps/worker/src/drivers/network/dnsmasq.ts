import type { DhcpHost, DhcpSubnet } from './types.ts';
import {
  checkMac,
  inCidr,
  ipVersion,
  parseCidr,
  v4InCidr,
  v4Netmask,
  v4NetworkAddress,
  v6NetworkAddress,
} from './ip.ts';

export const METADATA_IP = '169.254.169.254';

export interface DnsmasqFiles {
  hostsFile: string;
  optsFile: string;
  leaseFile: string;
  pidFile: string;
}

/**
 * What the DHCP namespace's dnsmasq does for an IPv6 subnet (Neutron's dnsmasq driver,
 * plus the RAs of a subnet that no router serves):
 * - DHCPv6 (`static` range, answers from the hosts file) when the address mode is
 *   dhcpv6-stateful or dhcpv6-stateless, or when neither mode is set (Neutron's
 *   backwards-compatible default); a stateless subnet's ports are not in the hosts
 *   file (they use SLAAC), so only options are handed out;
 * - router advertisements when the RA mode is set and no router interface is on the
 *   subnet (a router sends them from its qr- interface otherwise), with a router
 *   lifetime of 0: the DHCP namespace advertises the prefix, it does not route.
 */
export interface V6Service {
  dhcp: boolean;
  /** The stateful addresses of this subnet go into the hosts file. */
  stateful: boolean;
  ra: boolean;
  /** dnsmasq's dhcp-range mode. */
  mode: 'static' | 'ra-only' | 'ra-stateless';
}

export function v6Service(s: DhcpSubnet): V6Service | null {
  if (!s.enableDhcp || parseCidr(s.cidr).version !== 6) return null;
  const addr = s.ipv6AddressMode ?? null;
  const ra = s.ipv6RaMode ?? null;
  const dhcp = addr === 'dhcpv6-stateful' || addr === 'dhcpv6-stateless' || (!addr && !ra);
  const stateful = addr === 'dhcpv6-stateful' || (!addr && (ra === 'dhcpv6-stateful' || !ra));
  const sendRa = ra !== null && !s.routed;
  if (!dhcp && !sendRa) return null;
  let mode: V6Service['mode'] = 'static';
  if (sendRa && ra === 'slaac') mode = 'ra-only';
  if (sendRa && ra === 'dhcpv6-stateless') mode = 'ra-stateless';
  return { dhcp, stateful, ra: sendRa, mode };
}

/** Subnets dnsmasq serves: IPv4 with DHCP enabled, IPv6 when `v6Service` says so. */
export function servedSubnets(subnets: readonly DhcpSubnet[]): DhcpSubnet[] {
  return subnets.filter((s) => s.enableDhcp && (parseCidr(s.cidr).version === 4 || v6Service(s) !== null));
}

const tag = (subnetId: string) => `subnet-${subnetId}`;

/** A DNS label dnsmasq accepts; falls back to host-<ip> like Neutron. */
export function dhcpHostname(host: DhcpHost): string {
  const raw = (host.hostname ?? '')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return raw || `host-${host.ip.replace(/[.:]/g, '-')}`;
}

/**
 * One static lease per MAC: `mac,ipv4,[ipv6]…,hostname` (dnsmasq takes an IPv4 and
 * IPv6 addresses of one host on a single line; a MAC on several lines would let a
 * v6-only line answer a v4 request). IPv6 addresses only of stateful DHCPv6 subnets.
 * Sorted, so identical input gives identical bytes.
 */
export function renderHosts(hosts: readonly DhcpHost[], subnets: readonly DhcpSubnet[]): string {
  const served = servedSubnets(subnets);
  const byMac = new Map<string, { v4: string[]; v6: string[]; name: string }>();
  for (const h of hosts) {
    const v = ipVersion(h.ip);
    const ok =
      v === 4
        ? served.some((s) => v4InCidr(h.ip, s.cidr))
        : served.some((s) => v6Service(s)?.stateful && inCidr(h.ip, s.cidr));
    if (!ok) continue;
    const mac = checkMac(h.mac);
    const e = byMac.get(mac) ?? { v4: [], v6: [], name: '' };
    (v === 4 ? e.v4 : e.v6).push(h.ip);
    // The host name follows the IPv4 address when there is one.
    if (!e.name || (v === 4 && e.v4.length === 1)) e.name = dhcpHostname(h);
    byMac.set(mac, e);
  }
  const lines = [...byMac].map(([mac, e]) =>
    [mac, ...e.v4.slice(0, 1), ...[...e.v6].sort().map((ip) => `[${ip}]`), e.name].join(','),
  );
  return lines
    .sort()
    .map((l) => `${l}\n`)
    .join('');
}

/**
 * Per-subnet options. Clients that get option 121 ignore option 3, so the default
 * route goes into the classless list too; the metadata route points at the DHCP
 * port so metadata works on networks without a router.
 */
export function renderOpts(opts: {
  subnets: readonly DhcpSubnet[];
  dhcpIps: readonly string[];
  mtu?: number;
  domain?: string;
}): string {
  const out: string[] = [];
  for (const s of servedSubnets(opts.subnets)) {
    const t = `tag:${tag(s.id)}`;
    if (parseCidr(s.cidr).version === 6) {
      // DHCPv6 has no router or route options: those come with the RAs.
      const dns = (s.dnsNameservers ?? []).filter((d) => ipVersion(d) === 6);
      if (dns.length > 0) out.push(`${t},option6:dns-server,${dns.map((d) => `[${d}]`).join(',')}`);
      if (opts.domain) out.push(`${t},option6:domain-search,${opts.domain}`);
      continue;
    }
    const dhcpIp = opts.dhcpIps.find((ip) => v4InCidr(ip, s.cidr));
    const routes: string[] = [];
    if (dhcpIp) routes.push(`${METADATA_IP}/32,${dhcpIp}`);
    for (const r of s.hostRoutes ?? []) {
      if (parseCidr(r.destination).version === 4 && ipVersion(r.nexthop) === 4)
        routes.push(`${r.destination},${r.nexthop}`);
    }
    if (s.gatewayIp) routes.push(`0.0.0.0/0,${s.gatewayIp}`);
    // An empty router option tells clients there is no gateway.
    out.push(s.gatewayIp ? `${t},option:router,${s.gatewayIp}` : `${t},option:router`);
    if (routes.length > 0) {
      out.push(`${t},option:classless-static-route,${routes.join(',')}`);
      out.push(`${t},249,${routes.join(',')}`);
    }
    const dns = (s.dnsNameservers ?? []).filter((d) => ipVersion(d) === 4);
    if (dns.length > 0) out.push(`${t},option:dns-server,${dns.join(',')}`);
    if (opts.domain) out.push(`${t},option:domain-name,${opts.domain}`);
    if (opts.mtu) out.push(`${t},option:mtu,${opts.mtu}`);
  }
  return out.map((l) => `${l}\n`).join('');
}

/** dnsmasq command line; DHCP only (port 0), bound to the namespace's DHCP interface. */
export function dnsmasqArgs(opts: {
  iface: string;
  subnets: readonly DhcpSubnet[];
  files: DnsmasqFiles;
  leaseSeconds?: number;
  domain?: string;
}): string[] {
  const lease = opts.leaseSeconds ?? 86400;
  const args = [
    '--conf-file=/dev/null',
    '--no-hosts',
    '--no-resolv',
    '--port=0',
    `--interface=${opts.iface}`,
    '--except-interface=lo',
    '--bind-interfaces',
    '--dhcp-authoritative',
    '--user=root',
    '--group=root',
    `--pid-file=${opts.files.pidFile}`,
    `--dhcp-hostsfile=${opts.files.hostsFile}`,
    `--dhcp-optsfile=${opts.files.optsFile}`,
    `--dhcp-leasefile=${opts.files.leaseFile}`,
  ];
  let enableRa = false;
  let anyRa = false;
  for (const s of servedSubnets(opts.subnets)) {
    const c = parseCidr(s.cidr);
    const v6 = v6Service(s);
    if (!v6) {
      args.push(`--dhcp-range=set:${tag(s.id)},${v4NetworkAddress(s.cidr)},static,${v4Netmask(c.prefixLen)},${lease}s`);
      continue;
    }
    args.push(`--dhcp-range=set:${tag(s.id)},${v6NetworkAddress(s.cidr)},${v6.mode},${c.prefixLen},${lease}s`);
    anyRa ||= v6.ra;
    // A `static` range only advertises (with the M flag) under --enable-ra.
    if (v6.ra && v6.mode === 'static') enableRa = true;
  }
  if (enableRa) args.push('--enable-ra');
  // Prefixes only: a router lifetime of 0 keeps guests from routing through DHCP.
  if (anyRa) args.push(`--ra-param=${opts.iface},${RA_INTERVAL},0`);
  if (opts.domain) args.push(`--domain=${opts.domain}`);
  return args;
}

/** Seconds between unsolicited router advertisements (solicitations are answered at once). */
export const RA_INTERVAL = 30;

export interface RouterRaInterface {
  iface: string;
  cidr: string;
  raMode: string;
  dnsNameservers?: readonly string[];
}

/**
 * dnsmasq as the router's RA daemon (radvd's job in Neutron), one per qrouter
 * namespace: per qr- interface with an IPv6 subnet whose RA mode is set, the prefix
 * with the flags of the mode — slaac: A; dhcpv6-stateless: A and O; dhcpv6-stateful:
 * M and O, prefix on-link only. RDNSS carries the subnet's IPv6 DNS servers. DHCPv6 is
 * the DHCP namespace's job: the router namespace drops UDP 547, so the contexts that
 * set the M/O flags never answer.
 */
export function routerRaArgs(opts: {
  ifaces: readonly RouterRaInterface[];
  pidFile: string;
  leaseFile: string;
  optsFile: string;
}): string[] {
  const args = [
    '--conf-file=/dev/null',
    '--no-hosts',
    '--no-resolv',
    '--port=0',
    '--bind-interfaces',
    '--except-interface=lo',
    '--user=root',
    '--group=root',
    `--pid-file=${opts.pidFile}`,
    `--dhcp-leasefile=${opts.leaseFile}`,
    `--dhcp-optsfile=${opts.optsFile}`,
  ];
  let enableRa = false;
  for (const i of [...opts.ifaces].sort((a, b) => a.iface.localeCompare(b.iface))) {
    const c = parseCidr(i.cidr);
    if (c.version !== 6) continue;
    const mode = i.raMode === 'slaac' ? 'ra-only' : i.raMode === 'dhcpv6-stateless' ? 'ra-stateless' : 'static';
    if (mode === 'static') enableRa = true;
    args.push(`--interface=${i.iface}`);
    args.push(`--dhcp-range=set:${i.iface},${v6NetworkAddress(i.cidr)},${mode},${c.prefixLen},86400s`);
    args.push(`--ra-param=${i.iface},${RA_INTERVAL}`);
  }
  if (enableRa) args.push('--enable-ra');
  return args;
}

/** RDNSS of the router's advertisements (dnsmasq sends option6:dns-server as RDNSS). */
export function renderRouterRaOpts(ifaces: readonly RouterRaInterface[]): string {
  const out: string[] = [];
  for (const i of [...ifaces].sort((a, b) => a.iface.localeCompare(b.iface))) {
    const dns = (i.dnsNameservers ?? []).filter((d) => ipVersion(d) === 6);
    if (dns.length > 0) out.push(`tag:${i.iface},option6:dns-server,${dns.map((d) => `[${d}]`).join(',')}`);
  }
  return out.map((l) => `${l}\n`).join('');
}
