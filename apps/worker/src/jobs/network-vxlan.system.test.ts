import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bindPort,
  bridgeName,
  createNetwork,
  createPortForServer,
  createSubnet,
  deleteNetwork,
  deletePortsOfServer,
  heartbeat,
  tapName,
  unbindPort,
  type AuthContext,
} from '@stratus/core';
import { adminContext, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { LinuxNetworkDriver } from '../drivers/network/linux.ts';
import { keepAlive } from './compute/test-support.ts';
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

/*
 * Root only. Two hosts on this machine, joined by VXLAN:
 * - host A is this process: a network node (DHCP) whose agent pass runs in-process
 *   against the real Linux driver in the root namespace, VTEP on one end of a veth;
 * - host B is a REAL worker (apps/worker/src/main.ts, compute role only) started with
 *   `ip netns exec` inside its own network namespace: its bridges, vxlan device and nft
 *   tables live there, its VTEP is the other end of the veth (a private 198.18.x.y/30),
 *   and it reaches the test database through a TCP relay on host A's underlay address,
 *   as a second machine would over the network.
 * A port bound on each host; namespace stand-in guests on each side. The guest on host
 * B leases its address from host A's dnsmasq over the tunnel and pings host A's guest.
 * Unbinding B's port re-syncs both hosts: B drops the network, A drops the peer.
 * Withdrawing A's endpoint removes its vxlan device; a restarted driver rebuilds it.
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const tag = randomBytes(3).toString('hex');
const hostA = `vxa-${tag}`;
const hostB = `vxb-${tag}`;
const markerA = `vxa${tag}`;
const markerB = `vxb${tag}`;
const nsB = `${markerB}-host`;
const underlayA = `vxu${tag}`;
const octet = randomInt(0, 256);
const block = randomInt(0, 64) * 4;
const ipA = `198.18.${octet}.${block + 1}`;
const ipB = `198.18.${octet}.${block + 2}`;
const vxPort = randomInt(20_000, 30_000);
const vni = randomInt(100_000, 16_000_000);
const vxDev = `vxlan-${vni}`;
const subnetCidr = `10.${randomInt(200, 250)}.${randomInt(0, 256)}.0/24`;

type FdbEntry = { mac: string; dst?: string };
async function fdb(ns: string | null, dev = vxDev): Promise<FdbEntry[]> {
  const args = ['-j', 'fdb', 'show', 'dev', dev];
  const r = ns ? await inNs(ns, 'bridge', ...args) : await sh('bridge', args);
  if (r.code !== 0 || !r.out.trim()) return [];
  return (JSON.parse(r.out) as FdbEntry[]).filter((f) => f.dst);
}
async function linkOf(ns: string | null, dev: string): Promise<{ master?: string } | null> {
  const r = await sh('ip', [...(ns ? ['-n', ns] : []), '-j', 'link', 'show', 'dev', dev]);
  if (r.code !== 0) return null;
  return (JSON.parse(r.out) as { master?: string }[])[0] ?? null;
}
const flood = (entries: FdbEntry[]) =>
  entries
    .filter((f) => f.mac === '00:00:00:00:00:00')
    .map((f) => f.dst)
    .sort();

describe.skipIf(!isRoot)('VXLAN between two hosts (host B in its own network namespace)', () => {
  let dir = '';
  let dirB = '';
  let admin: AuthContext;
  let depsA: NetworkDeps;
  let relay: Server | undefined;
  const relaySockets = new Set<Socket>();
  let workerB: ChildProcess | undefined;
  let logB = '';
  let beat: NodeJS.Timeout | undefined;
  const ids: { net?: string; serverA: string; serverB: string } = { serverA: randomUUID(), serverB: randomUUID() };
  const guestA = { ns: `${markerA}-ga`, portId: '', mac: '', ip: '' };
  const guestB = { ns: `${markerB}-gb`, portId: '', mac: '', ip: '' };
  const driverA = (tunnel: boolean) =>
    new LinuxNetworkDriver({
      stateDir: join(dir, 'a'),
      metadataSocket: join(dir, 'metadata.sock'),
      marker: markerA,
      ...(tunnel ? { vxlan: { localIp: ipA, port: vxPort } } : {}),
    });

  beforeAll(async () => {
    const { url, db } = testDb();
    await setupIdentityTest(url);
    admin = await adminContext();
    dir = mkdtempSync(join(tmpdir(), `stratus-vx-${tag}-`));
    dirB = mkdtempSync(join(tmpdir(), `stratus-vxb-${tag}-`));
    chmodSync(dirB, 0o711);

    // The underlay: a veth between the root namespace (host A) and host B's namespace.
    expect((await sh('ip', ['netns', 'add', nsB])).code).toBe(0);
    const steps: string[][] = [
      ['link', 'add', underlayA, 'type', 'veth', 'peer', 'name', 'uplink0', 'netns', nsB],
      ['addr', 'add', `${ipA}/30`, 'dev', underlayA],
      ['link', 'set', underlayA, 'up'],
      ['-n', nsB, 'addr', 'add', `${ipB}/30`, 'dev', 'uplink0'],
      ['-n', nsB, 'link', 'set', 'uplink0', 'up'],
      ['-n', nsB, 'link', 'set', 'lo', 'up'],
    ];
    for (const s of steps) {
      const r = await sh('ip', s);
      expect(r.code, `ip ${s.join(' ')}: ${r.err}`).toBe(0);
    }
    await waitFor(async () => (await inNs(nsB, 'busybox', 'ping', '-c', '1', '-W', '1', ipA)).code === 0, {
      timeoutMs: 30_000,
      what: 'underlay reachable',
    });

    // Host B reaches PostgreSQL the way another machine would: over the underlay.
    const pg = new URL(url);
    relay = createServer((c) => {
      const up = createConnection({ host: pg.hostname, port: Number(pg.port) });
      relaySockets.add(c);
      relaySockets.add(up);
      c.pipe(up).pipe(c);
      const close = () => {
        c.destroy();
        up.destroy();
        relaySockets.delete(c);
        relaySockets.delete(up);
      };
      c.on('error', close).on('close', close);
      up.on('error', close).on('close', close);
    });
    const r = relay;
    await new Promise<void>((resolve, reject) => {
      r.once('error', reject);
      r.listen(0, ipA, () => resolve());
    });
    const addr = r.address();
    if (!addr || typeof addr === 'string') throw new Error('relay has no port');
    const urlB = new URL(url);
    urlB.hostname = ipA;
    urlB.port = String(addr.port);

    // Host A: the network node (DHCP); registered and heartbeating as its worker would.
    await heartbeat(db, { binary: 'stratus-worker', host: hostA, roles: ['network', 'compute'] }, { starting: true });
    beat = keepAlive(url, [hostA], 2_000, ['network', 'compute']);
    depsA = { host: hostA, tunnelIp: ipA, driver: driverA(true) };

    // Host B: the product's worker, compute role only, inside its namespace.
    workerB = spawn('ip', ['netns', 'exec', nsB, process.execPath, '--import', 'tsx', 'apps/worker/src/main.ts'], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: urlB.toString(),
        STRATUS_STATE_DIR: dirB,
        STRATUS_HOST: hostB,
        STRATUS_WORKER_ROLES: 'compute',
        STRATUS_NETWORK_MARKER: markerB,
        STRATUS_NETWORK_TUNNEL_IP: ipB,
        STRATUS_NETWORK_TUNNEL_PORT: String(vxPort),
        STRATUS_HEARTBEAT_SECONDS: '2',
        STRATUS_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    workerB.stdout?.on('data', (d: Buffer) => {
      logB += d.toString();
    });
    workerB.stderr?.on('data', (d: Buffer) => {
      logB += d.toString();
    });
    await waitFor(() => logB.includes(`stratus-worker ready on host ${hostB}`), {
      timeoutMs: 180_000,
      intervalMs: 500,
      what: `worker ${hostB} ready (log: ${logB.slice(-800)})`,
    });
  }, 240_000);

  afterAll(async () => {
    if (beat) clearInterval(beat);
    const { db } = testDb();
    await db.service.updateMany({ where: { host: { in: [hostA, hostB] } }, data: { disabled: true } }).catch(() => {});
    const w = workerB;
    if (w && w.exitCode === null && w.signalCode === null) {
      await new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.kill('SIGTERM');
        setTimeout(() => w.kill('SIGKILL'), 20_000).unref();
      });
    }
    for (const s of relaySockets) s.destroy();
    relay?.close();
    await unplugNsGuest({ ns: guestA.ns, portId: guestA.portId || randomUUID() });
    await sh('ip', ['netns', 'del', guestB.ns]);
    await depsA?.driver.cleanup({}).catch((e: unknown) => console.error('cleanup A', e));
    await deletePortsOfServer(ids.serverA).catch(() => {});
    await deletePortsOfServer(ids.serverB).catch(() => {});
    if (ids.net) await deleteNetwork(admin, ids.net).catch(() => {});
    // Host B's bridges, vxlan device and nft tables go with its namespace.
    await sh('ip', ['netns', 'del', nsB]);
    await sh('ip', ['link', 'del', underlayA]);
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (dirB) rmSync(dirB, { recursive: true, force: true });
    await expectNothingMarked(markerA);
    await expectNothingMarked(markerB);
    expect((await sh('ip', ['link', 'show', 'dev', underlayA])).code).not.toBe(0);
    expect((await sh('ip', ['link', 'show', 'dev', vxDev])).code).not.toBe(0);
  }, 120_000);

  it('a guest on host B leases over the tunnel from host A and pings host A’s guest; unbinding removes the peer', async () => {
    const { db } = testDb();
    // Both endpoints are published: A by its first pass, B by its worker's start-up pass.
    await syncHost(depsA);
    await waitFor(
      async () => (await db.networkTunnelEndpoint.count({ where: { host: { in: [hostA, hostB] } } })) === 2,
      {
        timeoutMs: 60_000,
        what: 'both tunnel endpoints published',
      },
    );
    expect((await db.networkTunnelEndpoint.findUnique({ where: { host: hostB } }))?.ip).toBe(ipB);

    const net = await createNetwork(admin, {
      name: unique('vx-net'),
      'provider:network_type': 'vxlan',
      'provider:segmentation_id': vni,
    });
    ids.net = net.id;
    await createSubnet(admin, { network_id: net.id, cidr: subnetCidr });
    for (const [g, host, serverId] of [
      [guestA, hostA, ids.serverA],
      [guestB, hostB, ids.serverB],
    ] as const) {
      const port = await createPortForServer({ ctx: admin, networkId: net.id, serverId });
      const bound = await bindPort({ portId: port.id, host, serverId });
      g.portId = port.id;
      g.mac = bound.mac;
      g.ip = bound.ips[0] ?? '';
    }

    // Host A: bridge + vxlan device flooding to B, with B's port's MAC pinned to B (l2pop).
    const stateA = await syncHost(depsA);
    const netA = stateA.networks.find((n) => n.id === net.id);
    expect(netA?.peers).toEqual([ipB]);
    expect(stateA.dhcp.map((d) => d.networkId)).toContain(net.id);
    expect((await linkOf(null, vxDev))?.master).toBe(bridgeName(net.id));
    const fdbA = await fdb(null);
    expect(flood(fdbA)).toEqual([ipB]);
    expect(fdbA.find((f) => f.mac === guestB.mac)?.dst).toBe(ipB);

    // Host B's worker (woken by the binding) builds the same network in its namespace,
    // flooding to A (the DHCP port is there), and nothing else: no DHCP on a compute host.
    await waitFor(
      async () => {
        const l = await linkOf(nsB, vxDev);
        const f = await fdb(nsB);
        return l?.master === bridgeName(net.id) && flood(f).join() === ipA;
      },
      { timeoutMs: 90_000, intervalMs: 250, what: `host B's vxlan device (log: ${logB.slice(-800)})` },
    );
    expect(existsSync(join(dirB, 'network', 'dhcp', net.id)), 'no DHCP server on host B').toBe(false);
    const fdbB = await fdb(nsB);
    expect(fdbB.find((f) => f.mac === guestA.mac)?.dst).toBe(ipA);

    // Stand-in guests: A's in the root namespace's bridge; B's tap in host B's bridge.
    expect(await plugNsGuest({ ns: guestA.ns, portId: guestA.portId, networkId: net.id, mac: guestA.mac })).toBe(0);
    const tapB = tapName(guestB.portId);
    for (const s of [
      ['netns', 'add', guestB.ns],
      ['link', 'add', tapB, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', guestB.ns],
      ['link', 'set', tapB, 'netns', nsB],
      ['-n', nsB, 'link', 'set', tapB, 'master', bridgeName(net.id), 'up'],
      ['-n', guestB.ns, 'link', 'set', 'eth0', 'address', guestB.mac, 'up'],
      ['-n', guestB.ns, 'link', 'set', 'lo', 'up'],
    ]) {
      const r = await sh('ip', s);
      expect(r.code, `ip ${s.join(' ')}: ${r.err}`).toBe(0);
    }

    const script = writeUdhcpcScript(dir);
    const leaseB = await leaseInNs(guestB.ns, script);
    expect(/inet (\S+)\//.exec(leaseB.addr)?.[1]).toBe(guestB.ip);
    const leaseA = await leaseInNs(guestA.ns, script);
    expect(/inet (\S+)\//.exec(leaseA.addr)?.[1]).toBe(guestA.ip);
    expect((await inNs(guestB.ns, 'busybox', 'ping', '-c', '1', '-W', '2', guestA.ip)).code).toBe(0);
    expect((await inNs(guestA.ns, 'busybox', 'ping', '-c', '1', '-W', '2', guestB.ip)).code).toBe(0);
    // The frames really crossed the tunnel: host B's vxlan device sent and received.
    const stats = JSON.parse((await sh('ip', ['-n', nsB, '-s', '-j', 'link', 'show', 'dev', vxDev])).out) as {
      stats64?: { rx?: { packets?: number }; tx?: { packets?: number } };
    }[];
    expect(stats[0]?.stats64?.tx?.packets ?? 0).toBeGreaterThan(0);
    expect(stats[0]?.stats64?.rx?.packets ?? 0).toBeGreaterThan(0);
    console.log(`vxlan: host B's guest leased ${guestB.ip} over the tunnel in ${leaseB.ms.toFixed(0)} ms`);

    // Unbinding B's port asks both hosts to re-sync: B drops the network, A the peer.
    await unbindPort({ portId: guestB.portId });
    const queuedA = await db.$queryRaw<
      unknown[]
    >`SELECT 1 FROM graphile_worker.jobs WHERE key = ${`network.sync@${hostA}`}`;
    expect(queuedA.length, 'a network.sync for host A was queued by the unbinding').toBe(1);
    await waitFor(async () => (await linkOf(nsB, vxDev)) === null && (await linkOf(nsB, bridgeName(net.id))) === null, {
      timeoutMs: 90_000,
      intervalMs: 250,
      what: `host B removes the network (log: ${logB.slice(-800)})`,
    });
    const after = await syncHost(depsA);
    expect(after.networks.find((n) => n.id === net.id)?.peers).toEqual([]);
    expect(await fdb(null)).toEqual([]);
    expect((await inNs(guestA.ns, 'busybox', 'ping', '-c', '1', '-W', '1', guestB.ip)).code).not.toBe(0);

    // A restart without a tunnel address withdraws the endpoint and removes the device;
    // a restart with it rebuilds the device from the database.
    await syncHost({ host: hostA, driver: driverA(false) });
    expect(await db.networkTunnelEndpoint.findUnique({ where: { host: hostA } })).toBeNull();
    expect(await linkOf(null, vxDev)).toBeNull();
    expect(await linkOf(null, bridgeName(net.id))).not.toBeNull();
    depsA = { host: hostA, tunnelIp: ipA, driver: driverA(true) };
    await syncHost(depsA);
    expect((await linkOf(null, vxDev))?.master).toBe(bridgeName(net.id));
    expect((await db.networkTunnelEndpoint.findUnique({ where: { host: hostA } }))?.ip).toBe(ipA);
  }, 300_000);

  it('the driver keeps the vxlan device and its FDB exactly as asked, and rebuilds it when the endpoint changes', async () => {
    const marker = `vxc${tag}`;
    const netId = randomUUID();
    const vniC = vni === 16_000_000 ? vni - 1 : vni + 1;
    const dev = `vxlan-${vniC}`;
    const other = `198.18.${octet}.${block + 3}`;
    const mk = (port: number) =>
      new LinuxNetworkDriver({
        stateDir: join(dir, 'c'),
        metadataSocket: join(dir, 'metadata.sock'),
        marker,
        vxlan: { localIp: ipA, port },
      });
    let driver = mk(vxPort);
    const show = async () => {
      const r = await sh('ip', ['-j', '-d', 'link', 'show', 'dev', dev]);
      return r.code === 0
        ? ((
            JSON.parse(r.out) as { ifindex: number; linkinfo?: { info_data?: { port?: number; local?: string } } }[]
          )[0] ?? null)
        : null;
    };
    const entries = async () => (await fdb(null, dev)).map((f) => `${f.mac}>${f.dst}`).sort();
    const mac1 = 'fa:16:3e:0a:0b:01';
    const mac2 = 'fa:16:3e:0a:0b:02';
    try {
      const seg = { type: 'vxlan' as const, id: vniC };
      await driver.ensureNetwork({
        id: netId,
        segmentation: seg,
        peers: [ipB, other],
        remoteMacs: [
          { mac: mac1, dst: ipB },
          { mac: mac2, dst: other },
        ],
      });
      const first = await show();
      expect(first?.linkinfo?.info_data).toMatchObject({ port: vxPort, local: ipA });
      expect(await entries()).toEqual(
        [`00:00:00:00:00:00>${ipB}`, `00:00:00:00:00:00>${other}`, `${mac1}>${ipB}`, `${mac2}>${other}`].sort(),
      );
      // A peer leaves, a MAC moves: exactly the new set, same device.
      await driver.ensureNetwork({
        id: netId,
        segmentation: seg,
        peers: [other],
        remoteMacs: [{ mac: mac1, dst: other }],
      });
      expect(await entries()).toEqual([`00:00:00:00:00:00>${other}`, `${mac1}>${other}`].sort());
      expect((await show())?.ifindex).toBe(first?.ifindex);
      // Bad input never reaches a command line.
      await expect(driver.ensureNetwork({ id: netId, segmentation: seg, peers: ['1.2.3.4 dev lo'] })).rejects.toThrow(
        /invalid IP/,
      );
      // A changed endpoint (here the UDP port) replaces the device.
      driver = mk(vxPort + 1);
      await driver.ensureNetwork({ id: netId, segmentation: seg, peers: [other] });
      const second = await show();
      expect(second?.linkinfo?.info_data?.port).toBe(vxPort + 1);
      expect(second?.ifindex).not.toBe(first?.ifindex);
      expect(await entries()).toEqual([`00:00:00:00:00:00>${other}`]);
      // Cleanup removes the bridge and the vxlan device.
      await driver.cleanup({});
      expect(await show()).toBeNull();
    } finally {
      await driver.cleanup({}).catch(() => {});
      await expectNothingMarked(marker);
    }
  }, 120_000);
});
