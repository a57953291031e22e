import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  addRouterInterface,
  bindPort,
  createNetwork,
  createPortForServer,
  createRouter,
  createSecurityGroup,
  createSecurityGroupRule,
  createSubnet,
  deleteNetwork,
  deletePortsOfServer,
  deleteRouter,
  deleteSecurityGroup,
  listSecurityGroups,
  removeRouterInterface,
  type AuthContext,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { LinuxNetworkDriver } from '../drivers/network/linux.ts';
import { routerNamespace } from '../drivers/network/names.ts';
import { expectNothingMarked, inNs, isRoot, plugNsGuest, unplugNsGuest } from './guest-test-support.ts';
import { syncHost, type NetworkDeps } from './network.ts';

// Root only. IPv6 end to end through the API, the agent and the Linux driver: a SLAAC
// subnet and a DHCPv6-stateful subnet on one router; namespace "guests" configure
// themselves from the router's advertisements (kernel SLAAC, accept_ra on) and from the
// DHCP namespace's dnsmasq (ISC dhclient -6). Random marker and ULA prefixes; all
// removed in afterAll.
const hex = randomBytes(3).toString('hex');
const marker = `nip6${hex}`;
const HOST = `v6test-${hex}`;
const ula = `fd${hex.slice(0, 2)}:${Number.parseInt(hex.slice(2, 6), 16).toString(16)}`;
const cidrA = `${ula}:a::/64`;
const cidrB = `${ula}:b::/64`;
let dir = '';
let deps: NetworkDeps;
let admin: AuthContext;
let ctx: AuthContext;
const dhclientPids: string[] = [];
interface Guest {
  ns: string;
  serverId: string;
  portId: string;
  mac: string;
  ip: string;
  networkId: string;
}
const guests: Guest[] = [];
const ids: { netA?: string; netB?: string; subA?: string; subB?: string; router?: string; sg?: string } = {};

/** Global IPv6 addresses of eth0 that finished DAD. */
async function globalAddrs(ns: string): Promise<string[]> {
  const out = (await inNs(ns, 'ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'global')).out;
  return out
    .split('\n')
    .filter((l) => l.trim() && !l.includes('tentative'))
    .map((l) => /inet6 (\S+)\//.exec(l)?.[1] ?? '')
    .filter(Boolean);
}

/** The link-local address is usable (DAD done): what RS and DHCPv6 are sent from. */
async function linkLocalReady(ns: string): Promise<boolean> {
  const out = (await inNs(ns, 'ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link')).out;
  return out.includes('fe80:') && !out.includes('tentative');
}

const ping6 = async (ns: string, ip: string) =>
  (await inNs(ns, 'busybox', 'ping', '-6', '-c', '1', '-W', '2', ip)).code === 0;

/** dhclient's script for stand-ins: only the address (never the host's resolv.conf). */
function writeDhclientScript(d: string): string {
  const path = join(d, 'dhclient6.sh');
  writeFileSync(
    path,
    `#!/bin/sh
case "$reason" in
  BOUND6|RENEW6|REBIND6)
    [ -n "$new_ip6_address" ] && ip -6 addr replace "$new_ip6_address/$new_ip6_prefixlen" dev "$interface" nodad
    ;;
esac
exit 0
`,
  );
  chmodSync(path, 0o755);
  return path;
}

describe.skipIf(!isRoot)('IPv6 subnets on the Linux dataplane', () => {
  beforeAll(async () => {
    await setupIdentityTest(testDb().url);
    admin = await adminContext();
    ctx = (await projectWithMember(admin)).auth.context;
    dir = mkdtempSync(join(tmpdir(), 'stratus-nip6-'));
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
    for (const pidFile of dhclientPids) {
      const pid = Number.parseInt(readFileSync(pidFile, 'utf8').trim(), 10);
      if (Number.isInteger(pid) && pid > 1) {
        try {
          process.kill(pid, 'SIGTERM');
        } catch {}
      }
    }
    for (const g of guests) await unplugNsGuest(g);
    await deps?.driver.cleanup({}).catch((e: unknown) => console.error('cleanup', e));
    for (const g of guests) await deletePortsOfServer(g.serverId).catch(() => {});
    for (const [r, s] of [
      [ids.router, ids.subA],
      [ids.router, ids.subB],
    ])
      if (r && s) await removeRouterInterface(ctx, r, { subnet_id: s }).catch(() => {});
    if (ids.router) await deleteRouter(ctx, ids.router).catch(() => {});
    for (const n of [ids.netA, ids.netB]) if (n) await deleteNetwork(ctx, n).catch(() => {});
    if (ids.sg) await deleteSecurityGroup(ctx, ids.sg).catch(() => {});
    if (dir) rmSync(dir, { recursive: true, force: true });
    await expectNothingMarked(marker);
  });

  it('SLAAC and DHCPv6 guests get their Neutron addresses, route through the router, and ICMPv6 follows the groups', async () => {
    const netA = await createNetwork(ctx, { name: unique('v6-a') });
    ids.netA = netA.id;
    const subA = await createSubnet(ctx, {
      network_id: netA.id,
      ip_version: 6,
      cidr: cidrA,
      ipv6_ra_mode: 'slaac',
      ipv6_address_mode: 'slaac',
    });
    ids.subA = subA.id;
    const netB = await createNetwork(ctx, { name: unique('v6-b') });
    ids.netB = netB.id;
    const subB = await createSubnet(ctx, {
      network_id: netB.id,
      ip_version: 6,
      cidr: cidrB,
      ipv6_ra_mode: 'dhcpv6-stateful',
      ipv6_address_mode: 'dhcpv6-stateful',
    });
    ids.subB = subB.id;
    const router = await createRouter(ctx, { name: unique('v6-r') });
    ids.router = router.id;
    await addRouterInterface(ctx, router.id, { subnet_id: subA.id });
    await addRouterInterface(ctx, router.id, { subnet_id: subB.id });

    // Default group (members reach each other) plus ICMPv6 from anywhere; B's guest
    // gets a group with egress only: no ICMPv6 ingress at all.
    const def = (await listSecurityGroups(ctx)).find((g) => g.name === 'default');
    await createSecurityGroupRule(ctx, {
      security_group_id: def?.id ?? '',
      direction: 'ingress',
      ethertype: 'IPv6',
      protocol: 'icmpv6',
      remote_ip_prefix: '::/0',
    });
    const noIcmp = await createSecurityGroup(ctx, { name: unique('v6-noicmp') });
    ids.sg = noIcmp.id;

    const add = async (label: string, networkId: string, securityGroupIds?: string[]) => {
      const serverId = randomUUID();
      const port = await createPortForServer({ ctx, networkId, serverId, securityGroupIds });
      const bound = await bindPort({ portId: port.id, host: HOST, serverId });
      const ip = bound.ips.find((i) => i.includes(':')) ?? '';
      const g = { ns: `${marker}-${label}`, serverId, portId: port.id, mac: bound.mac, ip, networkId };
      guests.push(g);
      return g;
    };
    const a1 = await add('a1', netA.id);
    const a2 = await add('a2', netA.id);
    const b1 = await add('b1', netB.id, [noIcmp.id]);
    // IPAM: SLAAC ports hold the EUI-64 address of their MAC; stateful ones a pool address.
    const eui = (mac: string) => {
      const b = mac.split(':').map((h) => Number.parseInt(h, 16));
      const g = (x: number, y: number) => ((x << 8) | y).toString(16);
      return `${ula}:a:0:${g((b[0] ?? 0) ^ 2, b[1] ?? 0)}:${g(b[2] ?? 0, 0xff)}:${g(0xfe, b[3] ?? 0)}:${g(b[4] ?? 0, b[5] ?? 0)}`;
    };
    expect(a1.ip).toBe(eui(a1.mac));
    expect(a2.ip).toBe(eui(a2.mac));
    expect(b1.ip.startsWith(`${ula}:b:`), `${b1.ip} in ${cidrB}`).toBe(true);

    await syncHost(deps);
    for (const g of guests) expect(await plugNsGuest(g)).toBe(0);
    // The taps exist now: a second pass attaches their filters.
    await syncHost(deps);

    // The router's RAs (A flag) give the SLAAC guests exactly the addresses IPAM chose.
    const t0 = performance.now();
    for (const g of [a1, a2])
      await waitFor(async () => (await globalAddrs(g.ns)).includes(g.ip), {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: `SLAAC address ${g.ip} in ${g.ns}`,
      });
    const slaacMs = performance.now() - t0;
    // …and a default route via the router's link-local address.
    expect((await inNs(a1.ns, 'ip', '-6', 'route', 'show', 'default')).out).toMatch(/via fe80::.* dev eth0/);
    expect(await ping6(a1.ns, a2.ip)).toBe(true);
    expect(await ping6(a1.ns, `${ula}:a::1`)).toBe(true);

    // DHCPv6 (stateful): dhclient gets the port's fixed IP from the DHCP namespace.
    await waitFor(() => linkLocalReady(b1.ns), { timeoutMs: 30_000, what: 'link-local address of b1' });
    const script = writeDhclientScript(dir);
    const pidFile = join(dir, 'b1-dhclient6.pid');
    dhclientPids.push(pidFile);
    const t1 = performance.now();
    const dh = await inNs(
      b1.ns,
      'timeout',
      '60',
      'dhclient',
      '-6',
      '-1',
      '-lf',
      join(dir, 'b1-dhclient6.leases'),
      '-pf',
      pidFile,
      '-sf',
      script,
      'eth0',
    );
    const dhcpMs = performance.now() - t1;
    expect(dh.code, dh.err).toBe(0);
    await waitFor(async () => (await globalAddrs(b1.ns)).includes(b1.ip), {
      timeoutMs: 30_000,
      what: `DHCPv6 address ${b1.ip} in ${b1.ns}`,
    });
    // The stateful RA (M flag, prefix on-link without A) still brings the default route.
    await waitFor(async () => /via fe80::/.test((await inNs(b1.ns, 'ip', '-6', 'route', 'show', 'default')).out), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'default route of b1 from the router advertisement',
    });
    expect((await globalAddrs(b1.ns)).some((ip) => ip.startsWith(`${ula}:b:`) && ip !== b1.ip)).toBe(false);

    // Routed across the router (no NAT): b1 → a1 is allowed by a1's ICMPv6 rule.
    expect(await ping6(b1.ns, a1.ip)).toBe(true);
    // b1's group has no ICMPv6 ingress: echo requests to it are dropped…
    expect(await ping6(a1.ns, b1.ip)).toBe(false);
    expect(await ping6(a2.ns, b1.ip)).toBe(false);
    // …but neighbour discovery still works: the router resolved b1 while forwarding,
    // and b1 reaches its gateway (its own requests' replies are established).
    const neigh = (await inNs(routerNamespace(router.id), 'ip', '-6', 'neigh', 'show', b1.ip)).out;
    expect(neigh).toContain(b1.mac);
    expect(neigh).not.toContain('FAILED');
    expect(await ping6(b1.ns, `${ula}:b::1`)).toBe(true);

    // A guest forging another source address gets nothing through.
    await inNs(a2.ns, 'ip', '-6', 'addr', 'add', `${ula}:a::dead/64`, 'dev', 'eth0', 'nodad');
    expect(
      (await inNs(a2.ns, 'busybox', 'ping', '-6', '-c', '1', '-W', '2', '-I', `${ula}:a::dead`, a1.ip)).code,
    ).not.toBe(0);

    console.log(`IPv6: SLAAC addresses after ${slaacMs.toFixed(0)} ms, DHCPv6 lease in ${dhcpMs.toFixed(0)} ms`);

    // The router's RA daemon runs; the routed SLAAC subnet needs nothing from DHCP.
    const routerPid = join(dir, 'state', 'router', router.id, 'dnsmasq.pid');
    const dhcpA = join(dir, 'state', 'dhcp', netA.id);
    expect(existsSync(routerPid)).toBe(true);
    expect(existsSync(join(dhcpA, 'dnsmasq.pid'))).toBe(false);
    // Unrouted, the DHCP namespace advertises the prefix itself and the router's RAs stop.
    await removeRouterInterface(ctx, router.id, { subnet_id: subA.id });
    await removeRouterInterface(ctx, router.id, { subnet_id: subB.id });
    await syncHost(deps);
    expect(existsSync(routerPid)).toBe(false);
    expect(existsSync(join(dhcpA, 'dnsmasq.pid'))).toBe(true);
    expect(readFileSync(join(dhcpA, 'dnsmasq.args'), 'utf8')).toContain(`${ula}:a::,ra-only,64`);
    // A fresh guest on A still gets its SLAAC address, now from the DHCP namespace.
    const a3 = await add('a3', netA.id);
    await syncHost(deps);
    expect(await plugNsGuest(a3)).toBe(0);
    await syncHost(deps);
    await waitFor(async () => (await globalAddrs(a3.ns)).includes(a3.ip), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `SLAAC address ${a3.ip} from the DHCP namespace`,
    });
    expect(await ping6(a3.ns, a1.ip)).toBe(true);
  });
});
