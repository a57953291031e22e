import { randomBytes, randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectNothingMarked,
  inNs,
  isRoot,
  leaseInNs,
  ping,
  plugNsGuest,
  sh,
  unplugNsGuest,
  writeUdhcpcScript,
} from '../../jobs/guest-test-support.ts';
import { LinuxNetworkDriver } from './linux.ts';
import { bridgeName, dhcpNamespace, routerNamespace, tableName } from './names.ts';
import type { EnsurePortInput, SecurityGroupRule } from './types.ts';

// Root only: creates bridges, veths and namespaces (all named from a random marker)
// and removes them in afterAll, even after a failure.
const hex = randomBytes(3).toString('hex');
const marker = `stest${hex}`;
const id = (label: string) => `t${randomBytes(4).toString('hex')}-${label}`;
const b = randomInt(100, 200);
const cidrA = `10.${b}.1.0/24`;
const cidrB = `10.${b}.2.0/24`;
const cidrExt = `10.${b}.3.0/24`;
const ipA = (n: number) => `10.${b}.1.${n}`;
const ipB = (n: number) => `10.${b}.2.${n}`;
const ipExt = (n: number) => `10.${b}.3.${n}`;
const mac = (n: number) => `fa:16:3e:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${n.toString(16).padStart(2, '0')}`;

const netA = id('neta');
const netB = id('netb');
const ext = id('ext');
const router = id('r1');
const dhcpA = { id: id('dhcpa'), mac: mac(1), ips: [ipA(2)] };
const dhcpB = { id: id('dhcpb'), mac: mac(2), ips: [ipB(2)] };
const rIfA = { portId: id('qra'), networkId: netA, ip: ipA(1), prefixLen: 24, mac: mac(3) };
const rGw = {
  portId: id('qg'),
  networkId: ext,
  ip: ipExt(10),
  prefixLen: 24,
  mac: mac(4),
  gatewayIp: ipExt(1),
  snat: true,
};

interface Guest {
  ns: string;
  port: EnsurePortInput;
  ip: string;
  net: string;
}
const guests: Guest[] = [];
const anyEgress: SecurityGroupRule[] = [
  { direction: 'egress', ethertype: 'IPv4' },
  { direction: 'egress', ethertype: 'IPv6' },
];
const sshOnly: SecurityGroupRule[] = [
  ...anyEgress,
  { direction: 'ingress', ethertype: 'IPv4', protocol: 'tcp', portRangeMin: 22, portRangeMax: 22 },
];
const withIcmp: SecurityGroupRule[] = [
  ...sshOnly,
  { direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp', remoteIpPrefix: '0.0.0.0/0' },
];

function guest(label: string, net: string, ip: string, n: number): Guest {
  const port: EnsurePortInput = {
    id: id(label),
    networkId: net,
    mac: mac(n),
    ips: [ip],
    portSecurityEnabled: true,
    securityGroups: sshOnly,
  };
  const g = { ns: `${marker}-${label}`, port, ip, net };
  guests.push(g);
  return g;
}
const g1 = guest('g1', netA, ipA(11), 11);
const g2 = guest('g2', netA, ipA(12), 12);
const g3 = guest('g3', netB, ipB(11), 13);

let dir = '';
let driver: LinuxNetworkDriver;
let stub: Server;
const seen: { url: string; xff: string; network: string; router: string }[] = [];
let udhcpcScript = '';

/** A stand-in VM: a namespace whose eth0's peer is named and bridged exactly like a VM tap. */
const plug = (g: Guest) => plugNsGuest({ ns: g.ns, portId: g.port.id, networkId: g.net, mac: g.port.mac });
const lease = (g: Guest) => leaseInNs(g.ns, udhcpcScript);

const figures: Record<string, string> = {};

describe.skipIf(!isRoot)('LinuxNetworkDriver on a real host', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stratus-net-'));
    udhcpcScript = writeUdhcpcScript(dir);
    const socket = join(dir, 'metadata.sock');
    stub = createServer((req, res) => {
      const h = (k: string) => String(req.headers[k] ?? '');
      seen.push({
        url: req.url ?? '',
        xff: h('x-forwarded-for'),
        network: h('x-stratus-network-id'),
        router: h('x-stratus-router-id'),
      });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ uuid: 'stub', hostname: `for-${h('x-forwarded-for')}` }));
    });
    await new Promise<void>((r) => stub.listen(socket, r));
    driver = new LinuxNetworkDriver({ stateDir: join(dir, 'state'), metadataSocket: socket, marker });
  });

  afterAll(async () => {
    console.log('figures', figures);
    await driver?.cleanup({}).catch((e: unknown) => console.error('cleanup', e));
    for (const g of guests) await unplugNsGuest({ ns: g.ns, portId: g.port.id });
    // Belt and braces: anything still carrying our marker.
    for (const ns of [dhcpNamespace(netA), dhcpNamespace(netB), routerNamespace(router)])
      await sh('ip', ['netns', 'del', ns]);
    for (const n of [netA, netB, ext]) await sh('ip', ['link', 'del', bridgeName(n)]);
    for (const fam of ['bridge', 'inet']) await sh('nft', ['delete', 'table', fam, tableName(marker)]);
    await new Promise<void>((r) => (stub ? stub.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
    await expectNothingMarked(marker);
  });

  it('serves static DHCP leases with the assigned IPs, idempotently', async () => {
    await driver.ensureNetwork({ id: netA, segmentation: { type: 'flat' } });
    await driver.ensureNetwork({ id: netB, segmentation: { type: 'vxlan', id: 1000 + randomInt(1000) } });
    await driver.ensureExternalNetwork({ id: ext, cidr: cidrExt, gatewayIp: ipExt(1) });
    for (const g of guests) await driver.ensurePort(g.port);
    const subA = {
      id: id('suba'),
      cidr: cidrA,
      gatewayIp: ipA(1),
      dnsNameservers: ['10.0.0.53'],
      hostRoutes: [],
      enableDhcp: true,
    };
    const t0 = performance.now();
    await driver.ensureDhcp({
      networkId: netA,
      dhcpPort: dhcpA,
      subnets: [subA],
      ports: [g1, g2].map((g) => ({ mac: g.port.mac, ip: g.ip, hostname: g.ns })),
      domain: 'openstacklocal',
    });
    figures.ensureDhcpNewNetworkMs = (performance.now() - t0).toFixed(0);
    const pidFile = join(dir, 'state', 'dhcp', netA, 'dnsmasq.pid');
    const pid1 = readFileSync(pidFile, 'utf8').trim();
    const t1 = performance.now();
    await driver.ensureDhcp({
      networkId: netA,
      dhcpPort: dhcpA,
      subnets: [subA],
      ports: [g1, g2].map((g) => ({ mac: g.port.mac, ip: g.ip, hostname: g.ns })),
      domain: 'openstacklocal',
    });
    figures.ensureDhcpUnchangedMs = (performance.now() - t1).toFixed(0);
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(pid1);
    await driver.ensureDhcp({
      networkId: netB,
      dhcpPort: dhcpB,
      subnets: [{ id: id('subb'), cidr: cidrB, gatewayIp: ipB(1), enableDhcp: true }],
      ports: [{ mac: g3.port.mac, ip: g3.ip }],
    });

    for (const g of guests) await plug(g);
    const l1 = await lease(g1);
    figures.leaseMs = l1.ms.toFixed(0);
    expect(l1.addr).toContain(`${g1.ip}/24`);
    expect(l1.routes).toContain(`default via ${ipA(1)}`);
    expect(l1.routes).toContain(`169.254.169.254 via ${ipA(2)}`);
    const l2 = await lease(g2);
    expect(l2.addr).toContain(`${g2.ip}/24`);
    expect((await lease(g3)).addr).toContain(`${g3.ip}/24`);

    // A port added later: hosts file rewritten + SIGHUP, same dnsmasq process.
    const late = { mac: mac(40), ip: ipA(40), hostname: 'late' };
    await driver.ensureDhcp({
      networkId: netA,
      dhcpPort: dhcpA,
      subnets: [subA],
      ports: [...[g1, g2].map((g) => ({ mac: g.port.mac, ip: g.ip, hostname: g.ns })), late],
      domain: 'openstacklocal',
    });
    expect(readFileSync(pidFile, 'utf8').trim()).toBe(pid1);
    expect(readFileSync(join(dir, 'state', 'dhcp', netA, 'hosts'), 'utf8')).toContain(`${late.mac},${late.ip},late`);
  });

  it('blocks ping without an ICMP ingress rule and allows it after the rule is added', async () => {
    expect(await ping(g1.ns, g2.ip)).toBe(false);
    const t0 = performance.now();
    for (const g of [g1, g2]) {
      g.port.securityGroups = withIcmp;
      await driver.ensurePort(g.port);
    }
    figures.ensurePortIcmpRuleMs = ((performance.now() - t0) / 2).toFixed(1);
    await driver.ensurePort(g2.port); // idempotent
    expect(await ping(g1.ns, g2.ip)).toBe(true);
    expect(await ping(g2.ns, g1.ip)).toBe(true);
  });

  it('isolates another tenant network', async () => {
    expect(await ping(g3.ns, g1.ip)).toBe(false);
    // Even with an address inside network A, g3 sits on another bridge.
    await inNs(g3.ns, 'ip', 'addr', 'add', `${ipA(99)}/24`, 'dev', 'eth0');
    expect(await ping(g3.ns, g1.ip)).toBe(false);
    await inNs(g3.ns, 'ip', 'addr', 'del', `${ipA(99)}/24`, 'dev', 'eth0');
  });

  it('drops traffic from a guest that changes its IP', async () => {
    await inNs(g1.ns, 'ip', 'addr', 'flush', 'dev', 'eth0');
    await inNs(g1.ns, 'ip', 'addr', 'add', `${ipA(50)}/24`, 'dev', 'eth0');
    expect(await ping(g1.ns, g2.ip)).toBe(false);
    await inNs(g1.ns, 'ip', 'addr', 'flush', 'dev', 'eth0');
    await lease(g1);
    expect(await ping(g1.ns, g2.ip)).toBe(true);
  });

  it('routes a floating IP to the host-only external network and SNATs the rest', async () => {
    const fip = ipExt(20);
    const input = {
      id: router,
      interfaces: [rIfA],
      gateway: rGw,
      floatingIps: [{ floatingIp: fip, fixedIp: g1.ip }],
      routes: [],
    };
    await driver.ensureRouter(input);
    await driver.ensureRouter(input); // idempotent
    // The only traffic from the host's own stack: to its own host-only bridge.
    expect(await ping(null, fip)).toBe(true);
    // g2 has no floating IP: it reaches the external gateway through SNAT (the host has no route back to network A).
    expect(await ping(g2.ns, ipExt(1))).toBe(true);
    expect(await ping(g1.ns, ipExt(1))).toBe(true);
  });

  it('answers metadata through the proxies with the guest address', async () => {
    const r = await inNs(
      g1.ns,
      'timeout',
      '5',
      'busybox',
      'wget',
      '-qO-',
      'http://169.254.169.254/openstack/latest/meta_data.json',
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ uuid: 'stub', hostname: `for-${g1.ip}` });
    expect(seen.at(-1)).toEqual({ url: '/openstack/latest/meta_data.json', xff: g1.ip, network: netA, router: '' });
    // The router's proxy, for networks whose guests route metadata to the router.
    await inNs(g2.ns, 'ip', 'route', 'replace', '169.254.169.254/32', 'via', ipA(1));
    const r2 = await inNs(g2.ns, 'timeout', '5', 'busybox', 'wget', '-qO-', 'http://169.254.169.254/latest/meta-data/');
    expect(r2.code).toBe(0);
    expect(seen.at(-1)).toEqual({ url: '/latest/meta-data/', xff: g2.ip, network: '', router });
  });

  it('applies large security groups quickly', async () => {
    const rules: SecurityGroupRule[] = [...withIcmp];
    for (let i = 0; i < 500; i++)
      rules.push({
        direction: 'ingress',
        ethertype: 'IPv4',
        protocol: i % 2 ? 'tcp' : 'udp',
        portRangeMin: 1000 + i,
        portRangeMax: 1000 + i,
        remoteIpPrefix: `10.${i % 250}.0.0/16`,
      });
    const ports: EnsurePortInput[] = [];
    for (let i = 0; i < 20; i++)
      ports.push({
        id: id(`bulk${i}`),
        networkId: netA,
        mac: mac(100 + i),
        ips: [ipA(100 + i)],
        portSecurityEnabled: true,
        securityGroups: rules,
      });
    const t0 = performance.now();
    for (const p of ports) await driver.ensurePort(p);
    const s = (performance.now() - t0) / 1000;
    const perPort = rules.length + 16;
    figures.bulkPorts = `${ports.length} ports x ~${perPort} rules in ${s.toFixed(2)} s = ${((ports.length * perPort) / s).toFixed(0)} rules/s, ${((s * 1000) / ports.length).toFixed(0)} ms/port`;
    const small: EnsurePortInput[] = [];
    for (let i = 0; i < 20; i++) small.push({ ...ports[0]!, id: id(`small${i}`), securityGroups: withIcmp });
    const t1 = performance.now();
    for (const p of small) await driver.ensurePort(p);
    figures.smallPortsMs = ((performance.now() - t1) / small.length).toFixed(1);
    for (const p of [...ports, ...small]) await driver.deletePort(p.id);
    expect((await driver.listManaged()).ports.sort()).toEqual(guests.map((g) => g.port.id).sort());
    expect(await ping(g1.ns, g2.ip)).toBe(true);
  });

  it('cleans up everything it created', async () => {
    const before = await driver.listManaged();
    expect(before.networks.sort()).toEqual([netA, netB, ext].sort());
    expect(before.routers).toEqual([router]);
    expect(before.pids.length).toBe(5); // 2 dnsmasq + 3 proxies
    // Keep network A and its DHCP only: the rest goes.
    await driver.cleanup({ networks: [netA], ports: [g1.port.id, g2.port.id], dhcp: [netA] });
    const mid = await driver.listManaged();
    expect(mid.networks).toEqual([netA]);
    expect(mid.routers).toEqual([]);
    expect(mid.ports.sort()).toEqual([g1.port.id, g2.port.id].sort());
    expect(await ping(g1.ns, g2.ip)).toBe(true);

    await driver.cleanup({});
    const after = await driver.listManaged();
    expect(after).toEqual({ networks: [], dhcp: [], routers: [], ports: [], links: [], namespaces: [], pids: [] });
    // Gone, or a zombie our own process has not reaped yet (the proxies are its children).
    const gone = (pid: number) => {
      try {
        return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
      } catch {
        return true;
      }
    };
    for (const pid of before.pids) expect(gone(pid)).toBe(true);
    const ns = (await sh('ip', ['netns', 'list'])).out;
    for (const n of [dhcpNamespace(netA), dhcpNamespace(netB), routerNamespace(router)]) expect(ns).not.toContain(n);
    const links = (await sh('ip', ['-o', 'link', 'show'])).out;
    expect(links).toContain(`link-netns ${marker}-g1`); // the stand-in guests are still there, removed in afterAll
    expect(links).not.toContain(`alias ${marker} `);
    for (const n of [netA, netB, ext]) expect(links).not.toContain(bridgeName(n));
    expect((await sh('nft', ['list', 'tables'])).out).not.toContain(tableName(marker));
  });
});
