import type { AuthContext } from '@stratus/core/identity/index';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { ensureDefaultExternalNetwork } from '@stratus/core/network/index';
import { type EventListener, listenEvents, type StratusEvent } from '@stratus/db';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../../../test/helpers.ts';
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
