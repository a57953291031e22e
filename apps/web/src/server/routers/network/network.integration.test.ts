import type { AuthContext } from '@stratus/core/identity/index';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { ensureDefaultExternalNetwork } from '@stratus/core/network/index';
import { type EventListener, listenEvents, type StratusEvent } from '@stratus/db';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../../../test/helpers.ts';
import { ipv6ModeAttributes, ipv6ModeText } from '../../../components/network/ipv6-modes';
import { emptySubnet, subnetInput, subnetPatch, subnetValuesOf } from '../../../components/network/subnet-values';
import { createCallerFactory } from '../../trpc/init';
import { sessionRouter } from '../identity/session';
import { networkRouter } from './index';

/*
 * The network router as the dashboard calls it: create a network with its first subnet
 * in one step (nothing left behind when the subnet is refused), paged lists, the
 * topology, project isolation, and the live events core now emits for every change.
 */
let admin: AuthContext;
let a: AuthContext;
let b: AuthContext;
let reader: AuthContext;
let externalId = '';
let listener: EventListener;
const events: StratusEvent[] = [];
const caller = (auth: AuthContext) => createCallerFactory(networkRouter)({ auth });
const session = (auth: AuthContext) => createCallerFactory(sessionRouter)({ auth });
const netPermissions = { actions: ['create_network', 'admin_required'] };

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(e)}`);
  return e.code;
}

/** The tRPC error's code and message (core's Neutron text, as the form shows it). */
async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(e)}`);
  return { code: e.code, message: e.message };
}

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  admin = await adminContext();
  const pa = await projectWithMember(admin);
  a = pa.auth.context;
  b = (await projectWithMember(admin)).auth.context;
  reader = (await projectWithMember(admin, 'reader')).auth.context;
  externalId = (await ensureDefaultExternalNetwork()).id;
  listener = await listenEvents(testDb().url, (e) => events.push(e));
});
afterAll(async () => {
  await listener.close();
});

describe('network router', () => {
  it('creates a network with its first subnet, or nothing when the subnet is refused', async () => {
    const m = caller(a);
    const name = unique('net');
    const r = await m.networks.create({
      network: { name },
      subnet: {
        name: `${name}-sub`,
        cidr: '10.61.0.0/24',
        ip_version: 4,
        dns_nameservers: ['10.61.0.53'],
        host_routes: [{ destination: '192.168.61.0/24', nexthop: '10.61.0.9' }],
        allocation_pools: [{ start: '10.61.0.10', end: '10.61.0.100' }],
      },
    });
    expect(r.subnet?.gatewayIp).toBe('10.61.0.1');
    expect(r.network.subnetIds).toEqual([r.subnet?.id]);
    const got = await m.networks.get({ id: r.network.id });
    expect(got.subnets[0]?.allocationPools).toEqual([{ start: '10.61.0.10', end: '10.61.0.100' }]);
    expect(got.subnets[0]?.hostRoutes).toEqual([{ destination: '192.168.61.0/24', nexthop: '10.61.0.9' }]);
    // The DHCP port the subnet brought is listed with the network.
    expect(got.ports.some((p) => p.deviceOwner === 'network:dhcp')).toBe(true);

    const bad = unique('bad');
    expect(
      await codeOf(
        m.networks.create({ network: { name: bad }, subnet: { cidr: '10.62.0.0/24', gateway_ip: '10.99.0.1' } }),
      ),
    ).toBe('BAD_REQUEST');
    expect(await codeOf(m.networks.create({ network: { name: bad }, subnet: { cidr: 'nonsense' } }))).toBe(
      'BAD_REQUEST',
    );
    expect((await m.networks.list({ name: bad })).items).toEqual([]);
  });

  it('creates IPv6 subnets with the form’s modes; Neutron’s rules refuse bad ones in its words', async () => {
    const m = caller(a);
    const name = unique('v6');
    const { network } = await m.networks.create({ network: { name }, subnet: null });
    // Exactly what the subnet form sends for IPv6 with its default mode (SLAAC sets both
    // attributes, as Horizon's address configuration mode does; pools typed before
    // choosing the mode are not sent, the field is hidden under SLAAC).
    const form = { ...emptySubnet(), ipVersion: '6' as const, name: `${name}-slaac`, cidr: 'fd00:61::/64' };
    const slaac = await m.subnets.create({
      ...subnetInput({ ...form, pools: '10.0.0.5,10.0.0.9' }),
      network_id: network.id,
    });
    expect(slaac).toMatchObject({ ipVersion: 6, ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac', enableDhcp: true });
    expect(slaac.gatewayIp).toBe('fd00:61::1');
    const got = await m.networks.get({ id: network.id });
    expect(got.subnets.map((s) => ipv6ModeText(s))).toEqual(['SLAAC']);
    // The DHCP port holds the EUI-64 address of its MAC on the SLAAC subnet.
    const dhcp = got.ports.find((p) => p.deviceOwner === 'network:dhcp');
    expect(dhcp?.fixedIps.find((f) => f.subnetId === slaac.id)?.ip).toMatch(/^fd00:61::[0-9a-f:]*ff:fe[0-9a-f:]+$/);
    const listed = (await m.networks.list({ name })).items[0]?.subnets;
    expect(listed).toEqual([
      expect.objectContaining({ cidr: 'fd00:61::/64', ipv6RaMode: 'slaac', ipv6AddressMode: 'slaac' }),
    ]);
    // What the edit form sends for a SLAAC subnet (no pools, DHCP kept on) is accepted; modes stay fixed.
    const row = (await m.networks.get({ id: network.id })).subnets[0];
    if (!row) throw new Error('no subnet row');
    const edited = await m.subnets.update({
      id: slaac.id,
      patch: subnetPatch({ ...subnetValuesOf(row), name: `${name}-renamed`, dns: 'fd00:61::53' }),
    });
    expect(edited).toMatchObject({ name: `${name}-renamed`, ipv6RaMode: 'slaac', dnsNameservers: ['fd00:61::53'] });
    expect(await errorOf(m.subnets.update({ id: slaac.id, patch: { ipv6_address_mode: 'dhcpv6-stateful' } }))).toEqual({
      code: 'BAD_REQUEST',
      message: 'Invalid input for operation: Cannot update read-only attribute ipv6_address_mode',
    });
    expect(await errorOf(m.subnets.update({ id: slaac.id, patch: { enable_dhcp: false } }))).toEqual({
      code: 'BAD_REQUEST',
      message: 'Invalid input for operation: Cannot disable enable_dhcp with ipv6 attributes set',
    });

    const base = { network_id: network.id, ip_version: 6 as const };
    expect(
      await errorOf(
        m.subnets.create({
          ...base,
          cidr: 'fd00:62::/64',
          ipv6_ra_mode: 'slaac',
          ipv6_address_mode: 'dhcpv6-stateful',
        }),
      ),
    ).toEqual({
      code: 'BAD_REQUEST',
      message:
        "Invalid input for operation: ipv6_ra_mode set to 'slaac' with ipv6_address_mode set to 'dhcpv6-stateful' is not valid. If both attributes are set, they must be the same value",
    });
    expect(
      await errorOf(m.subnets.create({ ...base, cidr: 'fd00:63::/80', ...ipv6ModeAttributes('dhcpv6-stateless') })),
    ).toEqual({
      code: 'BAD_REQUEST',
      message:
        'Invalid input for operation: Invalid CIDR fd00:63::/80 for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64',
    });
    expect(
      await errorOf(
        m.subnets.create({ ...base, cidr: 'fd00:64::/64', enable_dhcp: false, ...ipv6ModeAttributes('slaac') }),
      ),
    ).toEqual({
      code: 'BAD_REQUEST',
      message:
        'Invalid input for operation: ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False',
    });
    expect(
      await errorOf(m.subnets.create({ network_id: network.id, cidr: '10.64.0.0/24', ipv6_ra_mode: 'slaac' })),
    ).toEqual({
      code: 'BAD_REQUEST',
      message: 'Invalid input for operation: ipv6_ra_mode is not valid when ip_version is 4',
    });
    // A stateful subnet (pools apply) is fine next to the SLAAC one; nothing else was written.
    const stateful = await m.subnets.create({
      ...base,
      cidr: 'fd00:65::/64',
      allocation_pools: [{ start: 'fd00:65::10', end: 'fd00:65::ff' }],
      ...ipv6ModeAttributes('dhcpv6-stateful'),
    });
    expect(stateful.allocationPools).toEqual([{ start: 'fd00:65::10', end: 'fd00:65::ff' }]);
    expect((await m.networks.get({ id: network.id })).subnets.map((s) => [s.cidr, ipv6ModeText(s)])).toEqual([
      ['fd00:61::/64', 'SLAAC'],
      ['fd00:65::/64', 'DHCPv6 stateful'],
    ]);

    // The create-network form's first subnet takes the modes too; a refused one leaves no network.
    const first = await m.networks.create({
      network: { name: `${name}-first` },
      subnet: subnetInput({ ...form, cidr: 'fd00:66::/64', ipv6Mode: 'dhcpv6-stateless', enableDhcp: false }),
    });
    expect(first.subnet).toMatchObject({ ipv6RaMode: 'dhcpv6-stateless', ipv6AddressMode: 'dhcpv6-stateless' });
    expect(
      await errorOf(
        m.networks.create({
          network: { name: `${name}-refused` },
          subnet: { cidr: 'fd00:67::/64', ip_version: 6, ipv6_ra_mode: 'dhcpv6-stateless', ipv6_address_mode: 'slaac' },
        }),
      ),
    ).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('they must be the same value') });
    expect((await m.networks.list({ name: `${name}-refused` })).items).toEqual([]);
  });

  it('pages and filters the list; other projects see nothing of it', async () => {
    const m = caller(a);
    const tag = unique('page');
    for (const i of [1, 2, 3]) await m.networks.create({ network: { name: `${tag}-${i}` }, subnet: null });
    const first = await m.networks.list({ name: tag, limit: 2 });
    expect(first.items.map((n) => n.name)).toEqual([`${tag}-1`, `${tag}-2`]);
    expect(first.next).toBe(first.items[1]?.id);
    const second = await m.networks.list({ name: tag, limit: 2, marker: first.next ?? undefined });
    expect(second.items.map((n) => n.name)).toEqual([`${tag}-3`]);
    expect(second.next).toBeNull();
    expect((await m.networks.list({ name: tag.toUpperCase(), scope: 'project' })).items).toHaveLength(3);
    expect((await m.networks.list({ name: tag, scope: 'external' })).items).toHaveLength(0);
    // The external network is visible to every project, as in Horizon.
    expect((await m.networks.list({ scope: 'external' })).items.some((n) => n.id === externalId)).toBe(true);

    const other = caller(b);
    expect((await other.networks.list({ name: tag })).items).toEqual([]);
    expect(await codeOf(other.networks.get({ id: first.items[0]?.id ?? '' }))).toBe('NOT_FOUND');
    expect(await codeOf(other.networks.delete({ id: first.items[0]?.id ?? '' }))).toBe('NOT_FOUND');
    // Readers read but may not write; the dashboard's permission check says so.
    expect(await session(reader).can(netPermissions)).toEqual({ create_network: false, admin_required: false });
    expect(await session(a).can(netPermissions)).toEqual({ create_network: true, admin_required: false });
    expect(await codeOf(caller(reader).networks.create({ network: { name: 'x' }, subnet: null }))).toBe('FORBIDDEN');
  });

  it('builds a router and shows it in the topology, emitting live events for the project', async () => {
    const m = caller(a);
    const name = unique('topo');
    const { network, subnet } = await m.networks.create({ network: { name }, subnet: { cidr: '10.63.0.0/24' } });
    if (!subnet) throw new Error('no subnet');
    const since = events.length;
    const router = await m.routers.create({ name, external_gateway_info: { network_id: externalId } });
    expect(router.gateway?.networkId).toBe(externalId);
    await m.routers.addInterface({ id: router.id, subnetId: subnet.id });
    // Overlapping CIDRs on one router are refused in words.
    const twin = await m.networks.create({ network: { name: `${name}-twin` }, subnet: { cidr: '10.63.0.0/25' } });
    expect(await codeOf(m.routers.addInterface({ id: router.id, subnetId: twin.subnet?.id ?? '' }))).toBe(
      'BAD_REQUEST',
    );
    await m.routers.update({
      id: router.id,
      patch: { routes: [{ destination: '192.168.63.0/24', nexthop: '10.63.0.7' }] },
    });

    const t = await m.topology();
    const tr = t.routers.find((r) => r.id === router.id);
    expect(tr?.gateway?.externalFixedIps.length).toBe(1);
    expect(tr?.interfaces.map((i) => i.subnetId)).toEqual([subnet.id]);
    expect(tr?.routes).toEqual([{ destination: '192.168.63.0/24', nexthop: '10.63.0.7' }]);
    expect(t.networks.some((n) => n.id === network.id)).toBe(true);
    expect(t.networks.some((n) => n.id === externalId && n.external)).toBe(true);
    const iface = t.ports.find((p) => p.deviceId === router.id);
    expect(iface?.fixedIps).toEqual([{ subnetId: subnet.id, ip: '10.63.0.1' }]);
    // Project B's topology holds none of it.
    const tb = await caller(b).topology();
    expect(tb.routers.some((r) => r.id === router.id)).toBe(false);
    expect(tb.networks.some((n) => n.id === network.id)).toBe(false);

    const mine = (type: string, id: string) =>
      events.slice(since).some((e) => e.type === type && e.resourceId === id && e.projectId === a.projectId);
    await waitFor(() => mine('router.created', router.id) && mine('router.updated', router.id), {
      what: 'router events',
    });

    // A security-group rule from a preset, then its deletion, each an event.
    const groups = await m.securityGroups.list({});
    const def = groups.items.find((g) => g.isDefault);
    if (!def) throw new Error('no default group');
    const rule = await m.securityGroups.addRule({
      security_group_id: def.id,
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
    });
    expect((await m.securityGroups.get({ id: def.id })).rules.some((r) => r.id === rule.id)).toBe(true);
    expect(
      await codeOf(
        m.securityGroups.addRule({
          security_group_id: def.id,
          direction: 'ingress',
          protocol: 'tcp',
          port_range_min: 22,
          port_range_max: 22,
          remote_ip_prefix: '0.0.0.0/0',
        }),
      ),
    ).toBe('CONFLICT');
    await m.securityGroups.deleteRule({ id: rule.id });
    await waitFor(() => mine('security_group_rule.created', rule.id) && mine('security_group_rule.deleted', rule.id), {
      what: 'rule events',
    });

    // Floating IP from the external network, then released.
    const fip = await m.floatingIps.create({ floating_network_id: externalId });
    expect(fip.floatingIp.startsWith('172.')).toBe(true);
    expect((await m.floatingIps.list({})).items.some((f) => f.id === fip.id)).toBe(true);
    await m.floatingIps.delete({ id: fip.id });

    // Tear down in order; a router with interfaces cannot go first.
    expect(await codeOf(m.routers.delete({ id: router.id }))).toBe('CONFLICT');
    const ifacePort = (await m.routers.get({ id: router.id })).router.interfaces[0]?.portId ?? '';
    await m.routers.removeInterface({ id: router.id, portId: ifacePort });
    await m.routers.update({ id: router.id, patch: { external_gateway_info: null } });
    expect((await m.routers.get({ id: router.id })).router.gateway).toBeNull();
    await m.routers.delete({ id: router.id });
    await m.networks.delete({ id: network.id });
    await m.networks.delete({ id: twin.network.id });
    await waitFor(() => mine('network.deleted', network.id), { what: 'network.deleted' });
  });
});
