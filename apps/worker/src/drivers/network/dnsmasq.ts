import type { DhcpHost, DhcpSubnet } from './types.ts';
import { checkMac, ipVersion, parseCidr, v4InCidr, v4Netmask, v4NetworkAddress } from './ip.ts';

export const METADATA_IP = '169.254.169.254';

export interface DnsmasqFiles {
  hostsFile: string;
  optsFile: string;
  leaseFile: string;
  pidFile: string;
}

/** Subnets dnsmasq serves: IPv4 with DHCP enabled (IPv6 is left to SLAAC for now). */
export function servedSubnets(subnets: readonly DhcpSubnet[]): DhcpSubnet[] {
  return subnets.filter((s) => s.enableDhcp && parseCidr(s.cidr).version === 4);
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

/** One static lease per line: `mac,ip,hostname`. Sorted, so identical input gives identical bytes. */
export function renderHosts(hosts: readonly DhcpHost[], subnets: readonly DhcpSubnet[]): string {
  const served = servedSubnets(subnets);
  const lines = hosts
    .filter((h) => ipVersion(h.ip) === 4 && served.some((s) => v4InCidr(h.ip, s.cidr)))
    .map((h) => `${checkMac(h.mac)},${h.ip},${dhcpHostname(h)}`);
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
  for (const s of servedSubnets(opts.subnets)) {
    const c = parseCidr(s.cidr);
    args.push(`--dhcp-range=set:${tag(s.id)},${v4NetworkAddress(s.cidr)},static,${v4Netmask(c.prefixLen)},${lease}s`);
  }
  if (opts.domain) args.push(`--domain=${opts.domain}`);
  return args;
}
