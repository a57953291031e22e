import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../test/helpers.ts';
import type { AuthContext } from '../identity/types.ts';
import {
  addRouterInterface,
  createNetwork,
  createPort,
  createRouter,
  createSubnet,
  desiredState,
  getSubnet,
  listPorts,
  listSubnets,
  updatePort,
  updateSubnet,
} from './index.ts';
import { eui64Address } from './ipam.ts';

// IPv6 subnets: Neutron's ipv6_ra_mode / ipv6_address_mode rules, EUI-64 addresses for
// SLAAC and DHCPv6-stateless subnets, pool allocation for stateful ones.
let admin: AuthContext;
let a: AuthContext;

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  admin = await adminContext();
  a = (await projectWithMember(admin)).auth.context;
});

let seq = 0;
/** A fresh ULA /48 per call, so subnets of different tests never overlap. */
const ula = () => `fd${(Math.floor(Math.random() * 0xff) + 0x100).toString(16).slice(1)}:${(++seq).toString(16)}`;
const bad = { status: 400 };

describe('IPv6 subnet modes (Neutron validation)', () => {
  it('refuses invalid combinations with 400 and writes nothing', async () => {
    const net = await createNetwork(a, { name: unique('v6-rules') });
    const p = ula();
    const v6 = (extra: Record<string, unknown>) =>
      createSubnet(a, { network_id: net.id, ip_version: 6, cidr: `${p}::/64`, ...extra });
    await expect(
      createSubnet(a, { network_id: net.id, ip_version: 4, cidr: '10.61.0.0/24', ipv6_ra_mode: 'slaac' }),
    ).rejects.toMatchObject({
      ...bad,
      message: expect.stringContaining('ipv6_ra_mode is not valid when ip_version is 4'),
    });
    await expect(
      createSubnet(a, { network_id: net.id, ip_version: 4, cidr: '10.61.0.0/24', ipv6_address_mode: 'slaac' }),
    ).rejects.toMatchObject(bad);
    await expect(v6({ ipv6_ra_mode: 'slaac', ipv6_address_mode: 'dhcpv6-stateful' })).rejects.toMatchObject({
      ...bad,
      message: expect.stringContaining('must be the same value'),
    });
    await expect(v6({ ipv6_ra_mode: 'stateful' })).rejects.toMatchObject({
      ...bad,
      message: expect.stringContaining("is not in ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless']"),
    });
    await expect(v6({ ipv6_address_mode: 'slaac', enable_dhcp: false })).rejects.toMatchObject({
      ...bad,
      message: expect.stringContaining('cannot be set when enable_dhcp is set to False'),
    });
    // EUI-64 needs a /64; stateful DHCPv6 does not.
    await expect(
      createSubnet(a, {
        network_id: net.id,
        ip_version: 6,
        cidr: `${p}:1::/80`,
        ipv6_ra_mode: 'dhcpv6-stateless',
      }),
    ).rejects.toMatchObject({ ...bad, message: expect.stringContaining('requires the prefix to be /64') });
    await expect(v6({ cidr: '10.62.0.0/24' })).rejects.toMatchObject(bad);
    expect(await listSubnets(a, { networkIds: [net.id] })).toEqual([]);
    expect(await listPorts(a, { networkIds: [net.id] })).toEqual([]);

    const stateful = await createSubnet(a, {
      network_id: net.id,
      ip_version: 6,
      cidr: `${p}:2::/80`,
      ipv6_ra_mode: 'dhcpv6-stateful',
      ipv6_address_mode: 'dhcpv6-stateful',
    });
    expect(stateful).toMatchObject({ ipv6RaMode: 'dhcpv6-stateful', ipv6AddressMode: 'dhcpv6-stateful' });
    expect(stateful.gatewayIp).toBe(`${p}:2::1`);
    // Either mode alone is valid.
    const raOnly = await v6({ ipv6_ra_mode: 'slaac' });
    expect(raOnly).toMatchObject({ ipv6RaMode: 'slaac', ipv6AddressMode: null });
    // Modes are fixed at creation; DHCP cannot be turned off under them.
    await expect(updateSubnet(a, raOnly.id, { ipv6_ra_mode: 'dhcpv6-stateless' })).rejects.toMatchObject(bad);
    await expect(updateSubnet(a, raOnly.id, { enable_dhcp: false })).rejects.toMatchObject({
      ...bad,
      message: expect.stringContaining('Cannot disable enable_dhcp with ipv6 attributes set'),
    });
    expect(await updateSubnet(a, raOnly.id, { ipv6_ra_mode: 'slaac', name: 'same' })).toMatchObject({ name: 'same' });
    expect((await getSubnet(a, raOnly.id)).enableDhcp).toBe(true);
  });
});

describe('IPv6 IPAM', () => {
  it('gives SLAAC ports the EUI-64 address of their MAC, as Neutron', async () => {
    expect(eui64Address('2001:db8:1:2::/64', 'fa:16:3e:00:00:01')).toBe('2001:db8:1:2:f816:3eff:fe00:1');
    expect(eui64Address('fd00::/64', '00:11:22:33:44:55')).toBe('fd00::211:22ff:fe33:4455');

    const net = await createNetwork(a, { name: unique('v6-slaac') });
    const p = ula();
    // A port that exists before the SLAAC subnet gets its address when the subnet comes.
    const v4 = await createSubnet(a, { network_id: net.id, ip_version: 4, cidr: `10.63.${seq}.0/24` });
    const early = await createPort(a, { network_id: net.id });
    const s = await createSubnet(a, {
      network_id: net.id,
      ip_version: 6,
      cidr: `${p}::/64`,
      ipv6_ra_mode: 'slaac',
      ipv6_address_mode: 'slaac',
    });
    const earlyNow = (await listPorts(a, { ids: [early.id] }))[0];
    expect(earlyNow?.fixedIps.map((f) => f.ip).sort()).toEqual(
      [early.fixedIps[0]?.ip, eui64Address(s.cidr, early.macAddress)].sort(),
    );

    const port = await createPort(a, { network_id: net.id, mac_address: 'fa:16:3e:12:34:56' });
    expect(port.fixedIps.find((f) => f.subnetId === s.id)?.ip).toBe(`${p}::f816:3eff:fe12:3456`);
    expect(port.fixedIps.some((f) => f.subnetId === v4.id)).toBe(true);
    // Fixed IPs on the IPv4 subnet only: the SLAAC address comes anyway (Neutron).
    const onlyV4 = await createPort(a, { network_id: net.id, fixed_ips: [{ subnet_id: v4.id }] });
    expect(onlyV4.fixedIps.find((f) => f.subnetId === s.id)?.ip).toBe(eui64Address(s.cidr, onlyV4.macAddress));
    // A SLAAC subnet named by id gets exactly one address.
    const bySubnet = await createPort(a, { network_id: net.id, fixed_ips: [{ subnet_id: s.id }] });
    expect(bySubnet.fixedIps).toEqual([
      expect.objectContaining({ subnetId: s.id, ip: eui64Address(s.cidr, bySubnet.macAddress) }),
    ]);
    // An explicit address on an automatic-address subnet is refused.
    await expect(
      createPort(a, { network_id: net.id, fixed_ips: [{ subnet_id: s.id, ip_address: `${p}::99` }] }),
    ).rejects.toMatchObject({ ...bad, message: expect.stringContaining('configured for automatic addresses') });
    // Updating the fixed IPs keeps the EUI-64 address (no duplicate, no loss).
    const updated = await updatePort(a, port.id, {
      fixed_ips: [{ ip_address: port.fixedIps.find((f) => f.subnetId === v4.id)?.ip ?? '' }],
    });
    expect(updated.fixedIps.map((f) => f.ip).sort()).toEqual(port.fixedIps.map((f) => f.ip).sort());
    // The DHCP port holds its EUI-64 address too (dnsmasq binds it).
    const dhcp = (await listPorts(admin, { networkIds: [net.id], deviceOwners: ['network:dhcp'] }))[0];
    expect(dhcp?.fixedIps.find((f) => f.subnetId === s.id)?.ip).toBe(eui64Address(s.cidr, dhcp?.macAddress ?? ''));

    // A router interface takes the gateway address, not an EUI-64 one.
    const router = await createRouter(a, { name: unique('v6-r') });
    const iface = await addRouterInterface(a, router.id, { subnet_id: s.id });
    const rport = (await listPorts(a, { ids: [iface.portId] }))[0];
    expect(rport?.fixedIps).toEqual([expect.objectContaining({ subnetId: s.id, ip: `${p}::1` })]);

    // The agent sees the modes: RAs from the router, so the DHCP namespace has no SLAAC work.
    const state = await desiredState('v6-test-host');
    const d = state.dhcp.find((x) => x.networkId === net.id);
    expect(d?.subnets.find((x) => x.id === s.id)).toMatchObject({
      ipv6RaMode: 'slaac',
      ipv6AddressMode: 'slaac',
      routed: true,
    });
    const r = state.routers.find((x) => x.id === router.id);
    expect(r?.interfaces).toEqual([
      expect.objectContaining({ ip: `${p}::1`, prefixLen: 64, ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }),
    ]);
  });

  it('DHCPv6-stateful subnets hand out distinct pool addresses under concurrent port creations', async () => {
    const net = await createNetwork(a, { name: unique('v6-stateful') });
    const p = ula();
    const s = await createSubnet(a, {
      network_id: net.id,
      ip_version: 6,
      cidr: `${p}::/64`,
      ipv6_ra_mode: 'dhcpv6-stateful',
      ipv6_address_mode: 'dhcpv6-stateful',
      allocation_pools: [{ start: `${p}::10`, end: `${p}::1f` }],
    });
    // 16 pool addresses, one taken by the DHCP port → 15 for ports.
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => createPort(a, { network_id: net.id })));
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.flatMap((r) =>
      r.status === 'rejected' ? [r.reason as { status?: number; details?: { type?: string } }] : [],
    );
    const ips = ok.map((x) => x.fixedIps[0]?.ip ?? '');
    expect(ok).toHaveLength(15);
    expect(new Set(ips).size).toBe(15);
    for (const ip of ips) expect(ip).toMatch(new RegExp(`^${p}::1[0-9a-f]$`));
    // Not EUI-64: the pool decides.
    for (const x of ok) expect(x.fixedIps[0]?.ip).not.toBe(eui64Address(s.cidr, x.macAddress));
    expect(failed).toHaveLength(5);
    for (const f of failed) expect(f).toMatchObject({ status: 409, details: { type: 'IpAddressGenerationFailure' } });
    // The DHCP port got its address from the same pool; the agent serves the stateful leases.
    const dhcp = (await listPorts(admin, { networkIds: [net.id], deviceOwners: ['network:dhcp'] }))[0];
    expect(dhcp?.fixedIps[0]?.ip).toMatch(new RegExp(`^${p}::1[0-9a-f]$`));
    const state = await desiredState('v6-test-host');
    const d = state.dhcp.find((x) => x.networkId === net.id);
    expect(d?.subnets[0]).toMatchObject({ ipv6AddressMode: 'dhcpv6-stateful', routed: false });
    expect(d?.ports.map((x) => x.ip).sort()).toEqual([...ips].sort());
  });
});
