import { describe, expect, it } from 'vitest';
import { IPV6_MODE_OPTIONS, ipv6FormModeOf, ipv6ModeAttributes, ipv6ModeText } from './ipv6-modes';
import { emptySubnet, poolsApply, subnetInput, subnetPatch, type SubnetValues } from './subnet-values';

/* The subnet form's IPv6 address mode: what it sends to Neutron and how rows show it. */

const v6 = (over: Partial<SubnetValues> = {}): SubnetValues => ({
  ...emptySubnet(),
  ipVersion: '6',
  cidr: 'fd00:1::/64',
  ...over,
});

describe('subnet form IPv6 modes', () => {
  it('offers Horizon’s four choices and sets both attributes to the same value', () => {
    expect(IPV6_MODE_OPTIONS.map((o) => o.value)).toEqual(['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless', 'none']);
    expect(ipv6ModeAttributes('dhcpv6-stateful')).toEqual({
      ipv6_ra_mode: 'dhcpv6-stateful',
      ipv6_address_mode: 'dhcpv6-stateful',
    });
    expect(ipv6ModeAttributes('none')).toBeNull();
  });

  it('sends the modes only on IPv6, keeps DHCP on under a mode, drops pools where EUI-64 applies', () => {
    expect(subnetInput(v6({ pools: 'fd00:1::10,fd00:1::20', enableDhcp: false }))).toMatchObject({
      ip_version: 6,
      ipv6_ra_mode: 'slaac',
      ipv6_address_mode: 'slaac',
      enable_dhcp: true,
    });
    expect(subnetInput(v6({ pools: 'fd00:1::10,fd00:1::20' }))).not.toHaveProperty('allocation_pools');
    expect(subnetInput(v6({ ipv6Mode: 'dhcpv6-stateful', pools: 'fd00:1::10,fd00:1::20' }))).toMatchObject({
      ipv6_address_mode: 'dhcpv6-stateful',
      allocation_pools: [{ start: 'fd00:1::10', end: 'fd00:1::20' }],
    });
    const none = subnetInput(v6({ ipv6Mode: 'none', enableDhcp: false }));
    expect(none).not.toHaveProperty('ipv6_ra_mode');
    expect(none).not.toHaveProperty('ipv6_address_mode');
    expect(none.enable_dhcp).toBe(false);
    // The default mode stays in the values but means nothing on IPv4.
    const four = subnetInput({ ...emptySubnet(), cidr: '10.0.0.0/24' });
    expect(four).not.toHaveProperty('ipv6_ra_mode');
    expect(four.ip_version).toBe(4);
    expect(poolsApply({ ...emptySubnet(), cidr: '10.0.0.0/24' })).toBe(true);
    // Edits never send the (read-only) modes.
    expect(subnetPatch(v6({ ipv6Mode: 'dhcpv6-stateless' }))).not.toHaveProperty('ipv6_ra_mode');
    expect(subnetPatch(v6({ ipv6Mode: 'dhcpv6-stateless' }))).not.toHaveProperty('allocation_pools');
  });

  it('reads existing subnets’ modes and shows them in words', () => {
    expect(ipv6FormModeOf({ ipv6RaMode: 'slaac', ipv6AddressMode: null })).toBe('slaac');
    expect(ipv6FormModeOf({ ipv6RaMode: null, ipv6AddressMode: null })).toBe('none');
    const row = (ra: string | null, addr: string | null, ipVersion = 6) => ({
      ipVersion,
      ipv6RaMode: ra,
      ipv6AddressMode: addr,
    });
    expect(ipv6ModeText(row('slaac', 'slaac'))).toBe('SLAAC');
    expect(ipv6ModeText(row('dhcpv6-stateless', 'dhcpv6-stateless'))).toBe('DHCPv6 stateless');
    expect(ipv6ModeText(row('slaac', null))).toBe('RA: SLAAC, address: none');
    expect(ipv6ModeText(row(null, null))).toBeNull();
    expect(ipv6ModeText(row(null, null, 4))).toBeNull();
  });
});
