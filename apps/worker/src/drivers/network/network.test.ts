import { describe, expect, it } from 'vitest';
import { dnsmasqArgs, renderHosts, renderOpts } from './dnsmasq.ts';
import {
  parsePortComment,
  portComment,
  renderAntiSpoof,
  renderPort,
  renderRouterNat,
  renderSgRules,
} from './firewall.ts';
import { linkLocalFromMac, v4InCidr, v4Netmask, v4NetworkAddress } from './ip.ts';
import {
  bridgeName,
  dhcpNamespace,
  dhcpNsIf,
  gatewayIf,
  linkAlias,
  parseAlias,
  routerIf,
  routerNamespace,
  tableName,
  tapName,
} from './names.ts';
import type { DhcpSubnet, EnsurePortInput } from './types.ts';

const net = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
const port = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';

describe('names', () => {
  it('follows the Neutron Linux bridge agent and fits in 15 characters', () => {
    expect(bridgeName(net)).toBe('brq6f1c2a3b-4d');
    expect(tapName(port)).toBe('tapa1b2c3d4-e5');
    expect(dhcpNsIf(port)).toBe('ns-a1b2c3d4-e5');
    expect(routerIf(port)).toBe('qr-a1b2c3d4-e5');
    expect(gatewayIf(port)).toBe('qg-a1b2c3d4-e5');
    for (const n of [bridgeName(net), tapName(port), dhcpNsIf(port)]) expect(n.length).toBeLessThanOrEqual(15);
    expect(dhcpNamespace(net)).toBe(`qdhcp-${net}`);
    expect(routerNamespace(net)).toBe(`qrouter-${net}`);
  });
  it('refuses ids that could escape a path, an nft string or an argument', () => {
    for (const bad of ['../x', 'a b', 'a"b', '-rf', '', 'a;b']) expect(() => tapName(bad)).toThrow();
  });
  it('round-trips the ifalias marker and ignores other markers', () => {
    const a = linkAlias('stratus', 'dhcp', net);
    expect(parseAlias('stratus', a)).toEqual({ kind: 'dhcp', id: net });
    expect(parseAlias('other', a)).toBeNull();
    expect(parseAlias('stratus', 'stratus bogus x')).toBeNull();
    expect(tableName('stest-ab12')).toBe('stest_ab12');
  });
});

describe('ip helpers', () => {
  it('computes masks, networks and EUI-64 link-locals', () => {
    expect(v4Netmask(24)).toBe('255.255.255.0');
    expect(v4Netmask(0)).toBe('0.0.0.0');
    expect(v4NetworkAddress('10.1.2.77/26')).toBe('10.1.2.64');
    expect(v4InCidr('10.1.2.130', '10.1.2.0/25')).toBe(false);
    expect(linkLocalFromMac('fa:16:3e:00:00:01')).toBe('fe80::f816:3eff:fe00:1');
  });
});

describe('dnsmasq rendering', () => {
  const subnets: DhcpSubnet[] = [
    {
      id: 's1',
      cidr: '10.0.0.0/24',
      gatewayIp: '10.0.0.1',
      dnsNameservers: ['8.8.8.8', '2001:db8::1'],
      hostRoutes: [{ destination: '192.168.0.0/16', nexthop: '10.0.0.254' }],
      enableDhcp: true,
    },
    { id: 's2', cidr: '10.9.0.0/24', gatewayIp: null, enableDhcp: true },
    { id: 's3', cidr: '10.8.0.0/24', gatewayIp: '10.8.0.1', enableDhcp: false },
    { id: 's6', cidr: '2001:db8::/64', gatewayIp: '2001:db8::1', enableDhcp: true },
  ];
  it('renders sorted static leases for served subnets only', () => {
    const hosts = renderHosts(
      [
        { mac: 'FA:16:3E:00:00:02', ip: '10.0.0.12', hostname: 'Web 1!' },
        { mac: 'fa:16:3e:00:00:01', ip: '10.0.0.11' },
        { mac: 'fa:16:3e:00:00:03', ip: '10.8.0.5', hostname: 'no-dhcp' },
      ],
      subnets,
    );
    expect(hosts).toBe('fa:16:3e:00:00:01,10.0.0.11,host-10-0-0-11\nfa:16:3e:00:00:02,10.0.0.12,web-1\n');
  });
  it('puts the default and metadata routes into option 121', () => {
    const opts = renderOpts({ subnets, dhcpIps: ['10.0.0.2', '10.9.0.2'], mtu: 1450, domain: 'openstacklocal' });
    expect(opts).toContain('tag:subnet-s1,option:router,10.0.0.1\n');
    expect(opts).toContain(
      'tag:subnet-s1,option:classless-static-route,169.254.169.254/32,10.0.0.2,192.168.0.0/16,10.0.0.254,0.0.0.0/0,10.0.0.1\n',
    );
    expect(opts).toContain('tag:subnet-s1,option:dns-server,8.8.8.8\n');
    expect(opts).toContain('tag:subnet-s1,option:mtu,1450\n');
    // No gateway: an empty router option and only the metadata route.
    expect(opts).toContain('tag:subnet-s2,option:router\n');
    expect(opts).toContain('tag:subnet-s2,option:classless-static-route,169.254.169.254/32,10.9.0.2\n');
    expect(opts).not.toContain('subnet-s3');
    // IPv6 without modes: DHCPv6 (Neutron's default), options only, no IPv4 router option.
    expect(opts).toContain('tag:subnet-s6,option6:domain-search,openstacklocal\n');
    expect(opts).not.toContain('tag:subnet-s6,option:');
  });
  it('runs DHCP only, bound to the namespace interface', () => {
    const args = dnsmasqArgs({
      iface: 'ns-x',
      subnets,
      files: { hostsFile: '/h', optsFile: '/o', leaseFile: '/l', pidFile: '/p' },
    });
    expect(args).toContain('--port=0');
    expect(args).toContain('--interface=ns-x');
    expect(args).toContain('--bind-interfaces');
    expect(args).toContain('--dhcp-range=set:subnet-s1,10.0.0.0,static,255.255.255.0,86400s');
    expect(args).toContain('--dhcp-range=set:subnet-s6,2001:db8::,static,64,86400s');
    expect(args.filter((a) => a.startsWith('--dhcp-range'))).toHaveLength(3);
  });
});

describe('firewall rendering', () => {
  it('renders security-group rules by direction, protocol, ports and remote', () => {
    const rules = renderSgRules(
      [
        {
          direction: 'ingress',
          ethertype: 'IPv4',
          protocol: 'tcp',
          portRangeMin: 22,
          portRangeMax: 22,
          remoteIpPrefix: '0.0.0.0/0',
        },
        {
          direction: 'ingress',
          ethertype: 'IPv4',
          protocol: 'udp',
          portRangeMin: 1000,
          portRangeMax: 2000,
          remoteIps: ['10.0.0.8', '10.0.0.7', '10.0.0.7'],
        },
        { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', portRangeMin: 8, portRangeMax: 0 },
        { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp' },
        { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', remoteIps: [] },
        { direction: 'ingress', ethertype: 'IPv4', protocol: 47, remoteIpPrefix: '192.168.0.0/16' },
        { direction: 'egress', ethertype: 'IPv4' },
      ],
      'ingress',
    );
    expect(rules).toEqual([
      'meta nfproto ipv4 tcp dport 22 accept',
      'meta nfproto ipv4 ip saddr { 10.0.0.7, 10.0.0.8 } udp dport 1000-2000 accept',
      'meta nfproto ipv4 icmp type 8 icmp code 0 accept',
      'meta nfproto ipv6 meta l4proto ipv6-icmp accept',
      'meta nfproto ipv4 ip saddr 192.168.0.0/16 meta l4proto 47 accept',
    ]);
    expect(renderSgRules([{ direction: 'egress', ethertype: 'IPv4', remoteIpPrefix: '10.0.0.0/8' }], 'egress')).toEqual(
      ['meta nfproto ipv4 ip daddr 10.0.0.0/8 return'],
    );
    expect(() =>
      renderSgRules(
        [{ direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 90, portRangeMax: 80 }],
        'ingress',
      ),
    ).toThrow();
  });
  it('lets only the port MACs and IPs (and allowed pairs) leave the port', () => {
    const r = renderAntiSpoof({
      mac: 'fa:16:3e:00:00:01',
      ips: ['10.0.0.5'],
      allowedAddressPairs: [{ ipAddress: '10.0.0.100/30' }],
    });
    expect(r).toContain('ether saddr != fa:16:3e:00:00:01 drop');
    expect(r).toContain('ether type ip ip saddr != { 10.0.0.5, 10.0.0.100/30 } drop');
    expect(r).toContain('ether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 return');
    expect(r).toContain('ether type ip udp sport 67 udp dport 68 drop');
    expect(renderAntiSpoof({ mac: 'fa:16:3e:00:00:01', ips: [] })).toContain('ether type ip drop');
  });
  it('writes a port as one transaction with stateful, default-deny chains', () => {
    const p: EnsurePortInput = {
      id: port,
      networkId: net,
      mac: 'fa:16:3e:00:00:01',
      ips: ['10.0.0.5'],
      portSecurityEnabled: true,
      securityGroups: [],
    };
    const t = renderPort('stratus', 7, p, tapName(port));
    expect(t).toContain(`add element bridge stratus from_port { "${tapName(port)}" : jump s7 }`);
    expect(t).toContain('add element inet stratus sg_egress { 0x00000007 : jump e7 }');
    expect(t).toContain('add element inet stratus sg_ingress { 0x00070000 : jump i7 }');
    expect(t).toContain('add rule inet stratus i7 ct state established,related accept');
    expect(
      t
        .trim()
        .split('\n')
        .filter((l) => l.startsWith('add rule inet stratus i7'))
        .at(-1),
    ).toBe('add rule inet stratus i7 drop');
    const off = renderPort('stratus', 7, { ...p, portSecurityEnabled: false }, tapName(port));
    expect(off).toContain('delete element bridge stratus from_port');
    expect(off).not.toContain('add rule');
    expect(parsePortComment('s7', portComment(port, tapName(port)))).toEqual({
      idx: 7,
      portId: port,
      tap: tapName(port),
    });
  });
  it('renders the router NAT: floating IPs 1:1, SNAT for the rest, metadata redirect', () => {
    const nat = renderRouterNat({
      gatewayIf: 'qg-x',
      gatewayIp: '172.24.4.10',
      snat: true,
      internalCidrs: ['10.0.0.0/24'],
      floatingIps: [{ floatingIp: '172.24.4.20', fixedIp: '10.0.0.5' }],
      metadataPort: 9697,
    });
    expect(nat).toContain('ip daddr 172.24.4.20 dnat to 10.0.0.5');
    expect(nat).toContain('oifname "qg-x" ip saddr 10.0.0.5 snat to 172.24.4.20');
    expect(nat).toContain('oifname "qg-x" ip saddr 10.0.0.0/24 snat to 172.24.4.10');
    expect(nat).toContain('dnat to 169.254.169.254:9697');
    expect(nat.indexOf('snat to 172.24.4.20')).toBeLessThan(nat.indexOf('snat to 172.24.4.10'));
    const noSnat = renderRouterNat({
      gatewayIf: 'qg-x',
      gatewayIp: '172.24.4.10',
      snat: false,
      internalCidrs: ['10.0.0.0/24'],
      floatingIps: [],
      metadataPort: 9697,
    });
    expect(noSnat).not.toContain('snat to');
  });
});
