import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../test/helpers.ts';
import type { AuthContext } from '../identity/types.ts';
import {
  addRouterInterface,
  bindPort,
  createFloatingIp,
  createNetwork,
  createPort,
  createPortForServer,
  createRouter,
  createSecurityGroupRule,
  createSubnet,
  deleteNetwork,
  deletePortsOfServer,
  desiredState,
  ensureDefaultExternalNetwork,
  getNetwork,
  getPort,
  listNetworks,
  listPorts,
  listSecurityGroups,
  listServerAddresses,
  updateFloatingIp,
  updateNetworkQuota,
  updateRouter,
} from './index.ts';

let admin: AuthContext;
let a: AuthContext;
let b: AuthContext;

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  admin = await adminContext();
  a = (await projectWithMember(admin)).auth.context;
  b = (await projectWithMember(admin)).auth.context;
});

const n3 = () => Math.floor(Math.random() * 200) + 20;

describe('IPAM', () => {
  it('hands out distinct addresses under many concurrent port creations', async () => {
    const net = await createNetwork(a, { name: unique('ipam') });
    await createSubnet(a, { network_id: net.id, cidr: `10.${n3()}.0.0/26`, ip_version: 4 });
    // /26: 61 pool addresses, one taken by the DHCP port → 60 for ports.
    const results = await Promise.allSettled(Array.from({ length: 70 }, () => createPort(a, { network_id: net.id })));
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = results.flatMap((r) =>
      r.status === 'rejected' ? [r.reason as { code?: string; details?: { type?: string } }] : [],
    );
    const ips = ok.map((p) => p.fixedIps[0]?.ip);
    expect(ok.length).toBe(60);
    expect(new Set(ips).size).toBe(60);
    expect(failed).toHaveLength(10);
    for (const f of failed) expect(f.details?.type).toBe('IpAddressGenerationFailure');
  });

  it('rejects addresses outside the subnet and already allocated ones', async () => {
    const net = await createNetwork(a, { name: unique('fixed') });
    const x = n3();
    const s = await createSubnet(a, { network_id: net.id, cidr: `10.${x}.1.0/24`, ip_version: 4 });
    const p1 = await createPort(a, { network_id: net.id, fixed_ips: [{ ip_address: `10.${x}.1.50` }] });
    expect(p1.fixedIps[0]?.ip).toBe(`10.${x}.1.50`);
    await expect(
      createPort(a, { network_id: net.id, fixed_ips: [{ ip_address: `10.${x}.1.50` }] }),
    ).rejects.toMatchObject({
      status: 409,
      details: { type: 'IpAddressAlreadyAllocated' },
    });
    await expect(
      createPort(a, { network_id: net.id, fixed_ips: [{ subnet_id: s.id, ip_address: `10.${x}.9.5` }] }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      createPort(a, { network_id: net.id, fixed_ips: [{ ip_address: `10.${x}.1.255` }] }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(
      createSubnet(a, { network_id: net.id, cidr: `10.${x}.1.128/25`, ip_version: 4 }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('allocates VXLAN segmentation ids without collision', async () => {
    const nets = await Promise.all(Array.from({ length: 10 }, () => createNetwork(a, { name: unique('seg') })));
    const ids = nets.map((n) => n.segmentationId);
    expect(new Set(ids).size).toBe(10);
    for (const id of ids) expect(id).toBeGreaterThan(0);
  });
});

describe('isolation and policy', () => {
  it('project B sees none of A private networks and ports', async () => {
    const net = await createNetwork(a, { name: unique('private') });
    await createSubnet(a, { network_id: net.id, cidr: `10.${n3()}.2.0/24` });
    const port = await createPort(a, { network_id: net.id });
    expect((await listNetworks(b)).map((n) => n.id)).not.toContain(net.id);
    expect((await listPorts(b)).map((p) => p.id)).not.toContain(port.id);
    await expect(getNetwork(b, net.id)).rejects.toMatchObject({ status: 404 });
    await expect(getPort(b, port.id)).rejects.toMatchObject({ status: 404 });
    await expect(createPort(b, { network_id: net.id })).rejects.toMatchObject({ status: 404 });
    expect((await listNetworks(admin)).map((n) => n.id)).toContain(net.id);
  });

  it('only admins create external or shared networks; shared networks are visible', async () => {
    await expect(createNetwork(a, { name: unique('ext'), 'router:external': true })).rejects.toMatchObject({
      status: 403,
    });
    await expect(createNetwork(a, { name: unique('sh'), shared: true })).rejects.toMatchObject({ status: 403 });
    const shared = await createNetwork(admin, { name: unique('sh'), shared: true });
    expect((await listNetworks(b)).map((n) => n.id)).toContain(shared.id);
  });

  it('creates the default security group on demand; unknown remote group is 404', async () => {
    const groups = await listSecurityGroups(b);
    const def = groups.find((g) => g.name === 'default');
    expect(def?.rules.filter((r) => r.direction === 'egress')).toHaveLength(2);
    expect(def?.rules.filter((r) => r.direction === 'ingress' && r.remoteGroupId === def.id)).toHaveLength(2);
    await expect(
      createSecurityGroupRule(b, {
        security_group_id: def?.id ?? '',
        direction: 'ingress',
        remote_group_id: '00000000-0000-4000-8000-000000000000',
      }),
    ).rejects.toMatchObject({ status: 404 });
    const r = await createSecurityGroupRule(b, {
      security_group_id: def?.id ?? '',
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
    });
    expect(r.protocol).toBe('tcp');
    await expect(
      createSecurityGroupRule(b, {
        security_group_id: def?.id ?? '',
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 22,
        port_range_max: 22,
        remote_ip_prefix: '0.0.0.0/0',
      }),
    ).rejects.toMatchObject({ status: 409 });
  });

  it('enforces quotas with 409 OverQuota', async () => {
    const p = await projectWithMember(admin);
    await updateNetworkQuota(admin, p.project.id, { network: 1 });
    await createNetwork(p.auth.context, { name: unique('q') });
    await expect(createNetwork(p.auth.context, { name: unique('q') })).rejects.toMatchObject({
      details: { type: 'OverQuota' },
    });
  });
});

describe('routers, floating IPs and compute ports', () => {
  it('wires a server port with a floating IP and reports Nova addresses', async () => {
    const ext = await ensureDefaultExternalNetwork();
    expect((await ensureDefaultExternalNetwork()).id).toBe(ext.id);
    const net = await createNetwork(a, { name: unique('app') });
    const x = n3();
    const s1 = await createSubnet(a, { network_id: net.id, cidr: `10.${x}.3.0/24` });
    const net2 = await createNetwork(a, { name: unique('app2') });
    const s2 = await createSubnet(a, { network_id: net2.id, cidr: `10.${x}.3.128/25` });
    const router = await createRouter(a, { name: unique('r') });
    await addRouterInterface(a, router.id, { subnet_id: s1.id });
    // Overlapping CIDRs on one router → 400.
    await expect(addRouterInterface(a, router.id, { subnet_id: s2.id })).rejects.toMatchObject({ status: 400 });
    const withGw = await updateRouter(a, router.id, { external_gateway_info: { network_id: ext.id } });
    expect(withGw.gateway?.externalFixedIps[0]?.ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    const serverId = crypto.randomUUID();
    const port = await createPortForServer({ ctx: a, networkId: net.id, serverId });
    const bound = await bindPort({ portId: port.id, host: 'test-host', serverId });
    expect(bound.tap).toBe(`tap${port.id.slice(0, 11)}`);
    expect(bound.bridge).toBe(`brq${net.id.slice(0, 11)}`);
    expect(bound.ips).toHaveLength(1);

    const fip = await createFloatingIp(a, { floating_network_id: ext.id });
    await updateFloatingIp(a, fip.id, { port_id: port.id });
    const addrs = (await listServerAddresses([serverId]))[serverId] ?? {};
    expect(addrs[net.name]?.map((x) => x['OS-EXT-IPS:type'])).toEqual(['fixed', 'floating']);
    expect(addrs[net.name]?.[0]?.['OS-EXT-IPS-MAC:mac_addr']).toBe(port.macAddress);

    const state = await desiredState('test-host');
    expect(state.ports.map((p) => p.id)).toContain(port.id);
    const r = state.routers.find((x) => x.id === router.id);
    expect(r?.floatingIps).toEqual([{ floatingIp: fip.floatingIp, fixedIp: bound.ips[0] }]);
    expect(state.dhcp.find((d) => d.networkId === net.id)?.ports.some((h) => h.mac === port.macAddress)).toBe(true);

    await expect(deleteNetwork(a, net.id)).rejects.toMatchObject({ status: 409 });
    expect(await deletePortsOfServer(serverId)).toEqual([port.id]);
    expect((await listServerAddresses([serverId]))[serverId]).toEqual({});
  });
});
