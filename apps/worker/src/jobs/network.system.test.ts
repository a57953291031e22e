import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addRouterInterface,
  bindPort,
  bridgeName,
  createFloatingIp,
  createNetwork,
  createPortForServer,
  createRouter,
  createSecurityGroupRule,
  createSubnet,
  deleteFloatingIp,
  deleteNetwork,
  deletePortsOfServer,
  deleteRouter,
  getPort,
  listSecurityGroups,
  removeRouterInterface,
  tapName,
  updateFloatingIp,
  updateRouter,
  type AuthContext,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../test/helpers.ts';
import { LinuxNetworkDriver } from '../drivers/network/linux.ts';
import {
  expectNothingMarked,
  inNs,
  isRoot,
  leaseInNs,
  plugNsGuest,
  sh,
  unplugNsGuest,
  writeUdhcpcScript,
} from './guest-test-support.ts';
import { syncHost, type NetworkDeps } from './network.ts';

// Root only. The agent job, against the real Linux driver, builds what the API
// describes; two netns "guests" stand in for VMs. Everything carries a random marker
// and is removed in afterAll; the external network is a random host-only 10.x range.
const hex = randomBytes(3).toString('hex');
const marker = `nsync${hex}`;
const b = randomInt(100, 200);
const HOST = `systest-${hex}`;
let dir = '';
let deps: NetworkDeps;
let admin: AuthContext;
let ctx: AuthContext;
const guests: { ns: string; serverId: string; portId: string; ip: string; mac: string }[] = [];
const ids: { ext?: string; net?: string; subnet?: string; router?: string; fip?: string } = {};

async function lease(ns: string, script: string): Promise<string> {
  return /inet (\S+)\//.exec((await leaseInNs(ns, script)).addr)?.[1] ?? '';
}

describe.skipIf(!isRoot)('network.sync against the Linux driver', () => {
  beforeAll(async () => {
    await setupIdentityTest(testDb().url);
    admin = await adminContext();
    ctx = (await projectWithMember(admin)).auth.context;
    dir = mkdtempSync(join(tmpdir(), 'stratus-nsync-'));
    deps = {
      host: HOST,
      driver: new LinuxNetworkDriver({
        stateDir: join(dir, 'state'),
        metadataSocket: join(dir, 'metadata.sock'),
        marker,
      }),
    };
  });

  afterAll(async () => {
    for (const g of guests) await unplugNsGuest(g);
    await deps?.driver.cleanup({}).catch((e: unknown) => console.error('cleanup', e));
    // Leave the shared test database as we found it for the next system test file.
    for (const g of guests) await deletePortsOfServer(g.serverId).catch(() => {});
    if (ids.fip) await deleteFloatingIp(ctx, ids.fip).catch(() => {});
    if (ids.router && ids.subnet)
      await removeRouterInterface(ctx, ids.router, { subnet_id: ids.subnet }).catch(() => {});
    if (ids.router) await updateRouter(ctx, ids.router, { external_gateway_info: null }).catch(() => {});
    if (ids.router) await deleteRouter(ctx, ids.router).catch(() => {});
    if (ids.net) await deleteNetwork(ctx, ids.net).catch(() => {});
    if (ids.ext) await deleteNetwork(admin, ids.ext).catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
    await expectNothingMarked(marker);
  });

  it('builds DHCP, a router and a floating IP; guests get their Neutron addresses', async () => {
    const ext = await createNetwork(admin, { name: unique('sys-ext'), 'router:external': true });
    ids.ext = ext.id;
    await createSubnet(admin, { network_id: ext.id, cidr: `10.${b}.3.0/24`, enable_dhcp: false });
    const net = await createNetwork(ctx, { name: unique('sys-net') });
    ids.net = net.id;
    const subnet = await createSubnet(ctx, { network_id: net.id, cidr: `10.${b}.1.0/24` });
    ids.subnet = subnet.id;
    const router = await createRouter(ctx, { name: unique('sys-r'), external_gateway_info: { network_id: ext.id } });
    ids.router = router.id;
    await addRouterInterface(ctx, router.id, { subnet_id: subnet.id });
    // Let the host ping the floating IP.
    const def = (await listSecurityGroups(ctx)).find((g) => g.name === 'default');
    await createSecurityGroupRule(ctx, {
      security_group_id: def?.id ?? '',
      direction: 'ingress',
      protocol: 'icmp',
      remote_ip_prefix: '0.0.0.0/0',
    });

    for (const label of ['g1', 'g2']) {
      const serverId = randomUUID();
      const port = await createPortForServer({ ctx, networkId: net.id, serverId });
      const bound = await bindPort({ portId: port.id, host: HOST, serverId });
      expect(bound.tap).toBe(tapName(port.id));
      expect(bound.bridge).toBe(bridgeName(net.id));
      guests.push({ ns: `${marker}-${label}`, serverId, portId: port.id, ip: bound.ips[0] ?? '', mac: bound.mac });
    }
    const g1 = guests[0];
    const g2 = guests[1];
    if (!g1 || !g2) throw new Error('no guests');
    const fip = await createFloatingIp(ctx, { floating_network_id: ext.id });
    ids.fip = fip.id;
    await updateFloatingIp(ctx, fip.id, { port_id: g1.portId });

    const t0 = performance.now();
    const state = await syncHost(deps);
    const firstMs = performance.now() - t0;
    expect(state.ports.map((p) => p.id).sort()).toEqual([g1.portId, g2.portId].sort());
    expect((await getPort(ctx, g1.portId)).status).toBe('ACTIVE');

    // Stand-in guests: a veth named like the VM's tap, in the network's bridge.
    const script = writeUdhcpcScript(dir);
    for (const g of guests) expect(await plugNsGuest({ ...g, networkId: net.id })).toBe(0);
    // The taps exist now: a second pass attaches their filters (idempotent for the rest).
    const t1 = performance.now();
    await syncHost(deps);
    const secondMs = performance.now() - t1;

    expect(await lease(g1.ns, script)).toBe(g1.ip);
    expect(await lease(g2.ns, script)).toBe(g2.ip);
    // Same default group: guests reach each other; the host reaches the floating IP.
    expect((await inNs(g1.ns, 'busybox', 'ping', '-c', '1', '-W', '2', g2.ip)).code).toBe(0);
    expect((await inNs(g1.ns, 'busybox', 'ping', '-c', '1', '-W', '2', `10.${b}.1.1`)).code).toBe(0);
    const ping = await sh('busybox', ['ping', '-c', '1', '-W', '3', fip.floatingIp]);
    expect(ping.code).toBe(0);
    console.log(
      `network.sync: first pass ${firstMs.toFixed(0)} ms, second ${secondMs.toFixed(0)} ms; fip ${fip.floatingIp} → ${g1.ip}`,
    );

    // Removing a guest's port and resyncing removes its filters; deleting everything
    // and resyncing leaves nothing of ours behind.
    await deletePortsOfServer(g2.serverId);
    const after = await syncHost(deps);
    expect(after.ports.map((p) => p.id)).toEqual([g1.portId]);
    const managed = await deps.driver.listManaged();
    expect(managed.ports).toEqual([g1.portId]);
    expect(managed.routers).toEqual([router.id]);
  });
});
