import { describe, expect, it } from 'vitest';
import { dnsmasqArgs, renderHosts, renderOpts, renderRouterRaOpts, routerRaArgs, v6Service } from './dnsmasq.ts';
import { renderAntiSpoof, renderPort, renderRouterV6 } from './firewall.ts';
import { inCidr, v6NetworkAddress } from './ip.ts';
import type { DhcpSubnet } from './types.ts';

const files = { hostsFile: '/h', optsFile: '/o', leaseFile: '/l', pidFile: '/p' };
const v6 = (id: string, over: Partial<DhcpSubnet>): DhcpSubnet => ({
  id,
  cidr: `fd00:${id}::/64`,
  gatewayIp: `fd00:${id}::1`,
  enableDhcp: true,
  ...over,
});

describe('IPv6 address helpers', () => {
  it('finds prefixes and membership', () => {
    expect(v6NetworkAddress('fd00:1:2:3:4::7/64')).toBe('fd00:1:2:3::');
    expect(v6NetworkAddress('2001:db8::ffff/120')).toBe('2001:db8::ff00');
    expect(inCidr('fd00:1::f816:3eff:fe00:1', 'fd00:1::/64')).toBe(true);
    expect(inCidr('fd00:2::1', 'fd00:1::/64')).toBe(false);
    expect(inCidr('10.0.0.1', 'fd00:1::/64')).toBe(false);
  });
});

describe('dnsmasq for IPv6 subnets (Neutron modes)', () => {
  it('chooses DHCPv6 and RAs by mode and by whether a router serves the subnet', () => {
    expect(v6Service(v6('a', { ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }))).toEqual({
      dhcp: false,
      stateful: false,
      ra: true,
      mode: 'ra-only',
    });
    // A router sends the RAs of a routed SLAAC subnet: nothing left for DHCP.
    expect(v6Service(v6('a', { ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac', routed: true }))).toBeNull();
    expect(v6Service(v6('b', { ipv6RaMode: 'dhcpv6-stateless', ipv6AddressMode: 'dhcpv6-stateless' }))).toEqual({
      dhcp: true,
      stateful: false,
      ra: true,
      mode: 'ra-stateless',
    });
    expect(
      v6Service(v6('c', { ipv6RaMode: 'dhcpv6-stateful', ipv6AddressMode: 'dhcpv6-stateful', routed: true })),
    ).toEqual({ dhcp: true, stateful: true, ra: false, mode: 'static' });
    // Address mode alone (an external router advertises): DHCPv6 only.
    expect(v6Service(v6('d', { ipv6AddressMode: 'dhcpv6-stateless' }))).toMatchObject({ dhcp: true, ra: false });
    expect(v6Service(v6('e', { ipv6AddressMode: 'slaac' }))).toBeNull();
    expect(v6Service(v6('f', { enableDhcp: false }))).toBeNull();
  });

  it('renders ranges, --enable-ra only for advertised stateful ranges, and a zero router lifetime', () => {
    const subnets = [
      v6('a', { ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }),
      v6('c', { ipv6RaMode: 'dhcpv6-stateful', ipv6AddressMode: 'dhcpv6-stateful' }),
    ];
    const args = dnsmasqArgs({ iface: 'ns-x', subnets, files });
    expect(args).toContain('--dhcp-range=set:subnet-a,fd00:a::,ra-only,64,86400s');
    expect(args).toContain('--dhcp-range=set:subnet-c,fd00:c::,static,64,86400s');
    expect(args).toContain('--enable-ra');
    expect(args).toContain('--ra-param=ns-x,30,0');
    const routed = dnsmasqArgs({ iface: 'ns-x', subnets: subnets.map((s) => ({ ...s, routed: true })), files });
    expect(routed.filter((a) => a.startsWith('--dhcp-range'))).toEqual([
      '--dhcp-range=set:subnet-c,fd00:c::,static,64,86400s',
    ]);
    expect(routed.some((a) => a === '--enable-ra' || a.startsWith('--ra-param'))).toBe(false);
  });

  it('puts stateful IPv6 addresses on the MAC line of the IPv4 lease, SLAAC ones nowhere', () => {
    const subnets: DhcpSubnet[] = [
      { id: 's4', cidr: '10.0.0.0/24', gatewayIp: '10.0.0.1', enableDhcp: true },
      v6('c', { ipv6RaMode: 'dhcpv6-stateful', ipv6AddressMode: 'dhcpv6-stateful' }),
      v6('a', { ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }),
    ];
    const hosts = renderHosts(
      [
        { mac: 'fa:16:3e:00:00:01', ip: 'fd00:c::5', hostname: 'host-fd00-c--5' },
        { mac: 'fa:16:3e:00:00:01', ip: '10.0.0.5', hostname: 'host-10-0-0-5' },
        { mac: 'fa:16:3e:00:00:01', ip: 'fd00:a::f816:3eff:fe00:1' },
        { mac: 'fa:16:3e:00:00:02', ip: 'fd00:c::6', hostname: 'host-fd00-c--6' },
      ],
      subnets,
    );
    expect(hosts).toBe(
      'fa:16:3e:00:00:01,10.0.0.5,[fd00:c::5],host-10-0-0-5\nfa:16:3e:00:00:02,[fd00:c::6],host-fd00-c--6\n',
    );
    const opts = renderOpts({
      subnets: [v6('c', { ipv6AddressMode: 'dhcpv6-stateful', dnsNameservers: ['fd00:c::53', '8.8.8.8'] })],
      dhcpIps: [],
      domain: 'openstacklocal',
    });
    expect(opts).toBe(
      'tag:subnet-c,option6:dns-server,[fd00:c::53]\ntag:subnet-c,option6:domain-search,openstacklocal\n',
    );
  });

  it("runs the router's RAs with the mode's flags and its DNS servers as RDNSS", () => {
    const ifaces = [
      { iface: 'qr-b', cidr: 'fd00:b::/64', raMode: 'dhcpv6-stateful' },
      { iface: 'qr-a', cidr: 'fd00:a::/64', raMode: 'slaac', dnsNameservers: ['fd00:a::53'] },
    ];
    const args = routerRaArgs({ ifaces, pidFile: '/p', leaseFile: '/l', optsFile: '/o' });
    expect(args).toContain('--port=0');
    expect(args).toContain('--interface=qr-a');
    expect(args).toContain('--dhcp-range=set:qr-a,fd00:a::,ra-only,64,86400s');
    expect(args).toContain('--dhcp-range=set:qr-b,fd00:b::,static,64,86400s');
    expect(args).toContain('--enable-ra');
    expect(renderRouterRaOpts(ifaces)).toBe('tag:qr-a,option6:dns-server,[fd00:a::53]\n');
    // DHCPv6 stays the DHCP namespace's: the router drops it.
    expect(renderRouterV6()).toContain('udp dport 547 drop');
  });
});

describe('security groups and IPv6 autoconfiguration', () => {
  it('lets a port solicit routers, resolve neighbours and ask DHCPv6 whatever its groups', () => {
    const nft = renderPort(
      't',
      3,
      {
        id: 'p',
        networkId: 'n',
        mac: 'fa:16:3e:00:00:01',
        ips: ['fd00:a::f816:3eff:fe00:1'],
        portSecurityEnabled: true,
        securityGroups: [],
      },
      'tapx',
    );
    expect(nft).toMatch(/add rule inet t e3 icmpv6 type \{ nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert/);
    expect(nft).toContain('add rule inet t e3 meta nfproto ipv6 udp sport 546 udp dport 547 return');
    expect(nft).toMatch(/add rule inet t i3 icmpv6 type \{ nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert/);
    // Anti-spoofing allows the SLAAC address, the link-local and DAD's ::.
    const spoof = renderAntiSpoof({ mac: 'fa:16:3e:00:00:01', ips: ['fd00:a::f816:3eff:fe00:1'] });
    expect(spoof).toContain(
      'ether type ip6 ip6 saddr != { ::, fe80::f816:3eff:fe00:1, fd00:a::f816:3eff:fe00:1 } drop',
    );
  });
});
