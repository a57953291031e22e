import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, constants, existsSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReadStream } from 'node:tty';
import { fileURLToPath } from 'node:url';
import {
  type AuthContext,
  deleteServer,
  getConsoleOutput,
  getServer,
  hasAllocation,
  type JobDefinition,
  loadConfig,
  registerTestImage,
} from '@stratus/core';
import { adminContext, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import type { PrismaClient } from '@stratus/db';
import type { Runner } from 'graphile-worker';
import { expect } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { ImageCache } from '../drivers/compute/image-cache.ts';
import { LibvirtDriver, runTool } from '../drivers/compute/libvirt.ts';
import { LinuxNetworkDriver } from '../drivers/network/linux.ts';
import { bridgeName, tableName, tapName } from '../drivers/network/names.ts';
import { type ComputeDeps, computeJobs } from './compute.ts';
import { startMetadataServer } from './compute/host.ts';
import { keepAlive, registerHostUp, startJobsWorker, WORKER_ROLES } from './compute/test-support.ts';
import { type NetworkDeps, networkJobsWith, syncHostSerialized } from './network.ts';

/*
 * For system tests (root) with real guests — the project's test image under the real
 * libvirt — and with network-namespace stand-ins for guests: the stack and worker
 * set-up, waits for the boot marker and for lines on the serial console, typing on the
 * serial console, and the clean-up of domains, namespaces, links and files, with checks
 * that nothing carrying a test's prefix or marker remains. Every wait polls with a
 * generous limit (TCG on busy cores); nothing here sleeps a fixed time.
 */
export const isRoot = process.getuid?.() === 0;
export const BOOT_MARKER = 'STRATUS-BOOT-OK';
/** Default limit for a guest to become ACTIVE, or to boot to its marker once ACTIVE. */
export const GUEST_LIMIT_MS = 300_000;

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** Builds the test image (images/build-test-image.sh; cached after the first build) and returns its path. */
export function buildTestImage(): string {
  const out = execFileSync('bash', [join(root, 'images/build-test-image.sh')], {
    encoding: 'utf8',
    timeout: 15 * 60_000,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const path = out.trim().split('\n').at(-1) ?? '';
  expect(path).toMatch(/\.qcow2$/);
  expect(existsSync(path)).toBe(true);
  return path;
}

// ---------------------------------------------------------------------------------------
// A stack with real guests: identity, the test image in the image service, this host's
// libvirt driver, and an in-process queue worker running the real compute jobs.

export interface GuestStack {
  url: string;
  db: PrismaClient;
  stateDir: string;
  /** This host (the configured STRATUS_HOST). */
  host: string;
  admin: AuthContext;
  /** The test image, registered in the image service. */
  imageId: string;
  /** Domains are named `<prefix><server id>`; destroyGuests() removes them. */
  driver: LibvirtDriver;
  images: ImageCache;
}

/** Identity set up on the run's test database, the test image registered, a libvirt driver for `prefix`. */
export async function guestStack(prefix: string): Promise<GuestStack> {
  const imagePath = buildTestImage();
  const { url, db } = testDb();
  const { stateDir } = await setupIdentityTest(url);
  const admin = await adminContext();
  const imageId = (await registerTestImage({ path: imagePath, name: unique('stratus-test') })).id;
  return {
    url,
    db,
    stateDir,
    host: loadConfig().host,
    admin,
    imageId,
    driver: new LibvirtDriver({ stateDir, namePrefix: prefix }),
    images: new ImageCache({ stateDir }),
  };
}

export interface GuestWorkerOptions {
  /** The worker's roles in its heartbeat (default compute, scheduler, conductor). */
  roles?: string[];
  /** Heartbeat this often, for tests that outlive the service-down window. */
  keepAliveMs?: number;
  concurrency?: number;
  /** More compute dependencies: the network agent pass, boot volumes. */
  compute?: Pick<ComputeDeps, 'syncNetwork' | 'volumes'>;
  /** More jobs on the same worker (network, volume). */
  jobs?: JobDefinition[];
}

export interface GuestWorker {
  runner: Runner;
  /** Stops the heartbeats and the queue worker. */
  stop(): Promise<void>;
}

/** Registers this host (up, with its compute node) and starts a queue worker running the real compute jobs. */
export async function startGuestWorker(s: GuestStack, o: GuestWorkerOptions = {}): Promise<GuestWorker> {
  const roles = o.roles ?? WORKER_ROLES;
  await registerHostUp(s.db, s.host, s.driver, roles);
  const jobs: JobDefinition[] = [
    ...computeJobs(() => ({ db: s.db, host: s.host, driver: s.driver, images: s.images, ...o.compute })),
    ...(o.jobs ?? []),
  ];
  const runner = await startJobsWorker(s.url, s.host, jobs, o.concurrency ?? 2);
  const beat = o.keepAliveMs ? keepAlive(s.url, [s.host], o.keepAliveMs, roles) : undefined;
  return {
    runner,
    async stop() {
      clearInterval(beat);
      await runner.stop();
    },
  };
}

/** Destroys every domain (and its files) of the driver's prefix. */
export async function destroyGuests(driver: LibvirtDriver | undefined): Promise<void> {
  if (!driver) return;
  for (const d of await driver.listDomains().catch(() => [])) {
    if (d.domainName.startsWith(driver.namePrefix)) await driver.destroy(d.uuid).catch(() => {});
  }
}

/**
 * Leftovers of earlier runs of a test that makes its own state directories
 * (`<statePrefix>XXXXXX`): domains named `<prefix><uuid>` whose disk lives in one are
 * destroyed and the directory removed. With `orphans`, domains of the prefix whose disk
 * is elsewhere are destroyed too (only for a prefix no other test's prefix extends).
 */
export async function destroyLeftoverDomains(
  prefix: string,
  statePrefix: string,
  o: { orphans?: boolean } = {},
): Promise<void> {
  const virsh = (...args: string[]) => runTool('virsh', ['-c', 'qemu:///system', ...args]);
  const escaped = statePrefix.replace(/[.*+?^$|()[\]{}\\]/g, '\\$&');
  const inStateDir = new RegExp(`<source file='(${escaped}[^/']+)/`);
  const { stdout } = await virsh('list', '--all', '--name');
  for (const dom of stdout.split('\n').map((l) => l.trim())) {
    if (!dom.startsWith(prefix)) continue;
    const xml = (await virsh('dumpxml', '--inactive', dom).catch(() => ({ stdout: '' }))).stdout;
    const dir = inStateDir.exec(xml)?.[1];
    if (!dir && !o.orphans) continue;
    await new LibvirtDriver({ stateDir: dir ?? '/nonexistent', namePrefix: prefix }).destroy(dom.slice(prefix.length));
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** Asserts that no domain of the driver's prefix remains. */
export async function expectNoGuestsLeft(driver: LibvirtDriver): Promise<void> {
  const domains = await driver.listDomains();
  expect(domains.filter((d) => d.domainName.startsWith(driver.namePrefix))).toEqual([]);
}

// ---------------------------------------------------------------------------------------
// Servers through the API.

type ServerView = Awaited<ReturnType<typeof getServer>>;

export interface WaitServerOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Also fail on a fault recorded after this call while the server settles in another status. */
  failOnNewFault?: boolean;
  /** Return on the status alone, without waiting for the task state to clear. */
  anyTaskState?: boolean;
}

/** Polls until the server has `status` (and no task); fails at once on ERROR. */
export function waitForServer(
  ctx: AuthContext,
  id: string,
  status: string,
  o: WaitServerOptions = {},
): Promise<ServerView> {
  const since = new Date().toISOString();
  return waitFor(
    async () => {
      const s = await getServer(ctx, id);
      if (s.status === 'ERROR') throw new Error(`server ERROR: ${s.fault?.message} ${s.fault?.details}`);
      if (o.failOnNewFault && s.taskState === null && s.status !== status && s.fault && s.fault.created > since)
        throw new Error(`server ${s.status} with a new fault: ${s.fault.message} ${s.fault.details}`);
      return s.status === status && (o.anyTaskState || s.taskState === null) ? s : undefined;
    },
    { timeoutMs: o.timeoutMs ?? GUEST_LIMIT_MS, intervalMs: o.intervalMs ?? 250, what: `${id} ${status}` },
  );
}

/** Polls until the server's console log (read through the API) contains the boot marker; returns the log. */
export function waitForBoot(
  ctx: AuthContext,
  id: string,
  o: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<string> {
  return waitFor(
    async () => {
      const log = await getConsoleOutput(ctx, id);
      return log.includes(BOOT_MARKER) ? log : undefined;
    },
    { timeoutMs: o.timeoutMs ?? GUEST_LIMIT_MS, intervalMs: o.intervalMs ?? 500, what: `${BOOT_MARKER} on ${id}` },
  );
}

/**
 * A console line as the guest's program printed it: without a root shell prompt the
 * serial shell printed just before it, nor the terminal queries that follow the prompt
 * (`ESC[6n`; the API's console output has the ESC itself stripped already).
 */
export function consoleLine(line: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a terminal sequence starts with ESC
  const csi = /^(?:\x1b?\[[0-9;?]*[A-Za-z])+/;
  return line
    .trim()
    .replace(csi, '')
    .replace(/^[\w.-]+@[\w.-]+:[^#$\s]*[#$]\s*/, '')
    .replace(csi, '');
}

/**
 * Polls until the console log shows every one of `marks` at the start of a line (see
 * consoleLine), failing at once on a line starting with one of `never`; returns the log
 * (lines cleaned).
 */
export function consoleShows(
  ctx: AuthContext,
  id: string,
  marks: string[],
  never: string[] = [],
  o: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<string> {
  return waitFor(
    async () => {
      const lines = (await getConsoleOutput(ctx, id)).split('\n').map(consoleLine);
      const bad = lines.find((l) => never.some((m) => l.startsWith(m)));
      if (bad) throw new Error(`${id} reported ${bad}`);
      return marks.every((m) => lines.some((l) => l.startsWith(m))) ? lines.join('\n') : undefined;
    },
    {
      timeoutMs: o.timeoutMs ?? GUEST_LIMIT_MS,
      intervalMs: o.intervalMs ?? 1000,
      what: `${marks.join(', ')} on the console of ${id}`,
    },
  );
}

/** Polls until the server row is marked deleted. */
export function waitDeleted(db: PrismaClient, id: string, timeoutMs = 120_000): Promise<true> {
  return waitFor(async () => (await db.server.findUnique({ where: { id } }))?.deleted === true || undefined, {
    timeoutMs,
    what: `server ${id} deleted`,
  });
}

/** Deletes the server through the API and waits until it is gone. */
export async function deleteServerAndWait(ctx: AuthContext, db: PrismaClient, id: string, timeoutMs = 120_000) {
  await deleteServer(ctx, id);
  await waitDeleted(db, id, timeoutMs);
}

/** Clean-up: deletes every server and waits for each; failures are logged, not thrown. */
export async function deleteServersQuietly(
  db: PrismaClient,
  servers: { ctx: AuthContext; id: string }[],
  timeoutMs = 120_000,
): Promise<void> {
  for (const s of servers) await deleteServer(s.ctx, s.id).catch(() => {});
  for (const s of servers) await waitDeleted(db, s.id, timeoutMs).catch((e: unknown) => console.error(e));
}

/** The names of all libvirt domains on this host (running or not). */
export function virshNames(): string {
  return execFileSync('virsh', ['-c', 'qemu:///system', 'list', '--all', '--name'], { encoding: 'utf8' });
}

/** A deleted server left nothing: no domain, no instance directory, no placement allocation. */
export async function expectGuestGone(db: PrismaClient, id: string, instanceDir: string): Promise<void> {
  expect(virshNames()).not.toContain(id);
  expect(existsSync(instanceDir)).toBe(false);
  expect(await hasAllocation(db, id)).toBe(false);
}

// ---------------------------------------------------------------------------------------
// The serial console, below the API.

/** How many boot markers a console log holds. */
export const bootCount = (log: string) => log.split(BOOT_MARKER).length - 1;

/**
 * Resolves when the console shows one more boot marker than `seen`; returns the new count.
 * If the log was ever truncated (a new QEMU with append='off'), earlier markers are gone.
 */
export async function waitForNextBoot(
  consoleLog: () => Promise<string>,
  seen: number,
  limitMs = 180_000,
): Promise<number> {
  const deadline = Date.now() + limitMs;
  let lastLength = 0;
  for (;;) {
    const log = await consoleLog();
    if (log.length < lastLength) seen = 0;
    lastLength = log.length;
    const count = bootCount(log);
    if (count > seen) return count;
    if (Date.now() > deadline) {
      throw new Error(`no new ${BOOT_MARKER} within ${limitMs / 1000} s; console tail:\n${log.slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Types a line on the guest's serial console (a root shell on ttyS0) until `expected`
 * shows at the start of a console line. QEMU notices a pty reader only on its next
 * check (about once a second), so the line is typed again every 2 s until it takes
 * effect. The host end must be raw without echo, or the guest's output is echoed back
 * to it as input.
 */
export async function runOnSerial(
  pty: string | null,
  line: string,
  expected: string,
  consoleLog: () => Promise<string>,
  limitMs = 90_000,
): Promise<void> {
  if (!pty) throw new Error('no serial pty');
  const fd = openSync(pty, constants.O_RDWR | constants.O_NOCTTY);
  const tty = new ReadStream(fd);
  tty.setRawMode(true);
  tty.on('data', () => {}); // drain the guest's output so QEMU never blocks on it
  const seen = new RegExp(`^${expected}`, 'm');
  const deadline = Date.now() + limitMs;
  let nextType = 0;
  try {
    while (!seen.test(await consoleLog())) {
      if (Date.now() > deadline) throw new Error(`typed "${line}" but saw no ${expected} on the console`);
      if (Date.now() >= nextType) {
        writeSync(fd, `${line}\r`);
        nextType = Date.now() + 2000;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    tty.destroy();
  }
}

// ---------------------------------------------------------------------------------------
// Host commands, the dataplane, and namespace stand-ins for guests.

/** Runs a command; never throws (code 1 when it could not run or timed out). */
export function sh(
  cmd: string,
  args: string[],
  timeoutMs = 30_000,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, out, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out: out ?? '', err: stderr ?? '' });
    });
  });
}

export const inNs = (ns: string, ...args: string[]) => sh('ip', ['netns', 'exec', ns, ...args]);

/** One ICMP echo (2 s), from the host or from inside a namespace. */
export const ping = async (ns: string | null, ip: string) =>
  (
    await (ns
      ? inNs(ns, 'busybox', 'ping', '-c', '1', '-W', '2', ip)
      : sh('busybox', ['ping', '-c', '1', '-W', '2', ip]))
  ).code === 0;

/** A random marker for links, namespaces and nft tables: `<tag><6 hex>`. */
export const testMarker = (tag: string) => `${tag}${randomBytes(3).toString('hex')}`;

/** Asserts that no link, namespace or nft table carrying `marker` remains on the host. */
export async function expectNothingMarked(marker: string): Promise<void> {
  const links = (await sh('ip', ['-o', 'link', 'show'])).out.split('\n').filter((l) => l.includes(marker));
  expect(links).toEqual([]);
  const namespaces = (await sh('ip', ['netns', 'list'])).out.split('\n').filter((l) => l.includes(marker));
  expect(namespaces).toEqual([]);
  const tables = (await sh('nft', ['list', 'tables'])).out.split('\n').filter((l) => l.includes(tableName(marker)));
  expect(tables).toEqual([]);
}

export interface GuestNetwork {
  net: NetworkDeps;
  marker: string;
  /** Scratch directory (the network driver's state, the metadata socket). */
  dir: string;
  /** For startGuestWorker: the agent pass on build, and the network jobs. */
  worker: Pick<GuestWorkerOptions, 'compute' | 'jobs'>;
  /** Stops the metadata service, removes what the driver made and the directory; asserts nothing marked remains. */
  cleanup(): Promise<void>;
}

/** The real Linux network driver for this host, with the metadata service behind its proxies. */
export async function startGuestNetwork(host: string, tag: string): Promise<GuestNetwork> {
  const marker = testMarker(tag);
  const dir = mkdtempSync(join(tmpdir(), `stratus-${tag}-`));
  const socket = join(dir, 'metadata.sock');
  let metadata: HttpServer | undefined;
  const net: NetworkDeps = {
    host,
    driver: new LinuxNetworkDriver({ stateDir: join(dir, 'network'), metadataSocket: socket, marker }),
  };
  const cleanup = async () => {
    metadata?.close();
    await net.driver.cleanup({}).catch((e: unknown) => console.error('network cleanup', e));
    rmSync(dir, { recursive: true, force: true });
    await expectNothingMarked(marker);
  };
  try {
    metadata = await startMetadataServer(socket);
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    net,
    marker,
    dir,
    worker: {
      compute: {
        syncNetwork: async () => {
          await syncHostSerialized(net);
        },
      },
      jobs: networkJobsWith(() => net),
    },
    cleanup,
  };
}

/** udhcpc's script for stand-in guests: the leased address, then static routes or the default route. */
export function writeUdhcpcScript(dir: string): string {
  const path = join(dir, 'udhcpc.sh');
  writeFileSync(
    path,
    `#!/bin/sh
case "$1" in
  bound|renew)
    ip addr flush dev "$interface"
    ip addr add "$ip/$mask" dev "$interface"
    if [ -n "$staticroutes" ]; then
      set -- $staticroutes
      while [ $# -ge 2 ]; do ip route replace "$1" via "$2" dev "$interface"; shift 2; done
    elif [ -n "$router" ]; then
      ip route replace default via "\${router%% *}" dev "$interface"
    fi
    ;;
esac
exit 0
`,
  );
  chmodSync(path, 0o755);
  return path;
}

/** A stand-in guest: namespace `ns` whose eth0's peer is named and bridged exactly like a VM's tap. */
export interface NsGuest {
  ns: string;
  portId: string;
  networkId: string;
  mac: string;
}

/** Creates the stand-in's namespace and veth (tap side in the network's bridge); returns the `ip netns add` code. */
export async function plugNsGuest(g: NsGuest): Promise<number> {
  const tap = tapName(g.portId);
  const { code } = await sh('ip', ['netns', 'add', g.ns]);
  await sh('ip', ['link', 'add', tap, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', g.ns]);
  await sh('ip', ['link', 'set', tap, 'master', bridgeName(g.networkId), 'up']);
  await sh('ip', ['-n', g.ns, 'link', 'set', 'eth0', 'address', g.mac, 'up']);
  await sh('ip', ['-n', g.ns, 'link', 'set', 'lo', 'up']);
  return code;
}

/** Removes a stand-in guest (its tap goes with the namespace's veth peer; removed too in case). */
export async function unplugNsGuest(g: Pick<NsGuest, 'ns' | 'portId'>): Promise<void> {
  await sh('ip', ['link', 'del', tapName(g.portId)]);
  await sh('ip', ['netns', 'del', g.ns]);
}

/** Leases eth0 in the namespace over DHCP (busybox udhcpc, 10 tries); returns eth0's IPv4 `ip -o addr` and the routes. */
export async function leaseInNs(ns: string, script: string): Promise<{ ms: number; addr: string; routes: string }> {
  const t0 = performance.now();
  const r = await inNs(
    ns,
    'timeout',
    '20',
    'busybox',
    'udhcpc',
    '-i',
    'eth0',
    '-O',
    'staticroutes',
    '-q',
    '-n',
    '-t',
    '10',
    '-T',
    '1',
    '-s',
    script,
  );
  const ms = performance.now() - t0;
  if (r.code !== 0) throw new Error(`udhcpc in ${ns} failed: ${r.err}`);
  const addr = (await inNs(ns, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0')).out;
  return { ms, addr, routes: (await inNs(ns, 'ip', 'route')).out };
}
