import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ObjectPath } from './backend.ts';
import { DEVICE_MARKER, hashDir } from './node/diskfile.ts';
import { auditOnce, type AuditStats, replicateOnce, type ReplicationStats } from './node/replicator.ts';
import { startObjectServer } from './node/server.ts';
import { ReplicatedObjectBackend } from './replicated.ts';
import { emptyRing, rebalance, type RingDevice } from './ring/builder.ts';
import { Ring, type RingSource, staticRingSource } from './ring/ring.ts';

/*
 * A real replicated object store for tests, without PostgreSQL: one object server per device
 * (each its own "host" on a random loopback port) over device folders in a temp dir, a ring
 * built in memory, the proxy backend, and the replicator and auditor on demand.
 *
 *   const cluster = await startTestObjectCluster();          // 3 devices, 3 replicas
 *   const backend = cluster.backend;                          // an ObjectBackend
 *   ...
 *   await cluster.close();
 */

export interface TestDevice {
  ring: RingDevice;
  /** The device folder (holds .stratus-device, objects/, tmp/, quarantined/). */
  path: string;
  /** The folder its server serves (the device folder's parent). */
  root: string;
  /** pid is set when the server runs in its own process. */
  server?: { port: number; pid?: number; close(): Promise<void> };
}

/** An object server in a child process (node --import tsx node/server-main.ts). */
async function spawnServer(
  root: string,
  port: number,
): Promise<{ port: number; pid?: number; close(): Promise<void> }> {
  const script = fileURLToPath(new URL('./node/server-main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, root, String(port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (c: Buffer) => {
      buf += c.toString();
      const i = buf.indexOf('\n');
      if (i >= 0) resolve(buf.slice(0, i));
    });
    child.once('exit', (code) => reject(new Error(`object server exited with ${code}`)));
  });
  const parsed: unknown = JSON.parse(line);
  const got = typeof parsed === 'object' && parsed !== null && 'port' in parsed ? Number(parsed.port) : Number.NaN;
  if (!Number.isInteger(got)) throw new Error(`object server said ${line}`);
  return {
    port: got,
    ...(child.pid !== undefined ? { pid: child.pid } : {}),
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface TestObjectCluster {
  backend: ReplicatedObjectBackend;
  ring: RingSource & { set(r: Ring): void };
  root: string;
  devices: TestDevice[];
  /** Hash, partition, primaries and handoffs of an object. */
  locate(path: ObjectPath): { hash: string; partition: number; primaries: TestDevice[]; handoffs: TestDevice[] };
  /** The hash directory of an object on one device. */
  objectDir(dev: TestDevice, path: ObjectPath): string;
  /** File names in that directory ([] when absent). */
  objectFiles(dev: TestDevice, path: ObjectPath): Promise<string[]>;
  /** Removes / restores a device's mount marker (mount_check: it then answers 507). */
  unmount(dev: TestDevice): void;
  mount(dev: TestDevice): void;
  /** Stops / restarts a device's object server (same port). */
  stopServer(dev: TestDevice): Promise<void>;
  startServer(dev: TestDevice): Promise<void>;
  /**
   * One replicator pass over every device (each server's devices, as each host would).
   * `hashCacheMaxAgeMs` here applies to the replicators only (the servers keep theirs).
   */
  replicate(opts?: { reclaimAgeSeconds?: number; hashCacheMaxAgeMs?: number }): Promise<ReplicationStats>;
  /** One auditor pass over every device. */
  audit(): Promise<AuditStats>;
  close(): Promise<void>;
}

export async function startTestObjectCluster(
  opts: {
    devices?: number;
    replicas?: number;
    partPower?: number;
    zones?: number;
    /** Run each object server in its own process (to measure the proxy apart). */
    processes?: boolean;
    /** Suffix-hash cache maximum age for in-process servers and replicate() (0 = no cache). */
    hashCacheMaxAgeMs?: number;
  } = {},
): Promise<TestObjectCluster> {
  const serve = (root: string, port: number) =>
    opts.processes
      ? spawnServer(root, port)
      : startObjectServer({
          devicesRoot: root,
          port,
          ...(opts.hashCacheMaxAgeMs !== undefined ? { hashCacheMaxAgeMs: opts.hashCacheMaxAgeMs } : {}),
        });
  const n = opts.devices ?? 3;
  const root = mkdtempSync(join(tmpdir(), 'stratus-objects-'));
  const devices: TestDevice[] = [];
  for (let i = 0; i < n; i++) {
    const hostRoot = join(root, `node${i + 1}`);
    const name = `d${i + 1}`;
    const path = join(hostRoot, name);
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, DEVICE_MARKER), '');
    const server = await serve(hostRoot, 0);
    devices.push({
      ring: {
        id: i,
        host: '127.0.0.1',
        port: server.port,
        device: name,
        zone: 1 + (i % (opts.zones ?? 1)),
        weight: 100,
      },
      path,
      root: hostRoot,
      server,
    });
  }
  const data = rebalance({
    ...emptyRing({ partPower: opts.partPower ?? 6, replicas: opts.replicas ?? 3 }),
    devices: devices.map((d) => d.ring),
  }).ring;
  const ring = staticRingSource(
    new Ring(data, { prefix: randomBytes(8).toString('hex'), suffix: randomBytes(8).toString('hex') }, 1),
  );
  const backend = new ReplicatedObjectBackend({ ring, connectTimeoutMs: 2000, nodeTimeoutMs: 10_000 });
  const byId = (id: number) => devices.find((d) => d.ring.id === id);
  const cluster: TestObjectCluster = {
    backend,
    ring,
    root,
    devices,
    locate(path) {
      const r = ring.current();
      const { hash, partition } = r.locate(path);
      const pick = (ds: RingDevice[]) => ds.map((d) => byId(d.id)).filter((d): d is TestDevice => d !== undefined);
      return { hash, partition, primaries: pick(r.primaries(partition)), handoffs: pick(r.handoffs(partition)) };
    },
    objectDir(dev, path) {
      const { hash, partition } = ring.current().locate(path);
      return hashDir(dev.path, partition, hash);
    },
    async objectFiles(dev, path) {
      return (await readdir(cluster.objectDir(dev, path)).catch(() => [])).sort();
    },
    unmount(dev) {
      unlinkSync(join(dev.path, DEVICE_MARKER));
    },
    mount(dev) {
      writeFileSync(join(dev.path, DEVICE_MARKER), '');
    },
    async stopServer(dev) {
      await dev.server?.close();
      dev.server = undefined;
    },
    async startServer(dev) {
      if (!dev.server) dev.server = await serve(dev.root, dev.ring.port);
    },
    async replicate(extra = {}) {
      const total: ReplicationStats = {
        partitions: 0,
        suffixesSynced: 0,
        filesPushed: 0,
        handoffPartitionsRemoved: 0,
        handoffPushes: 0,
        failures: 0,
        hashCacheHits: 0,
        partitionsHashed: 0,
        suffixesRehashed: 0,
      };
      for (const d of devices) {
        if (!d.server) continue; // a stopped host runs no replicator either
        const s = await replicateOnce({
          ring,
          devicesRoot: d.root,
          isLocal: (x) => x.id === d.ring.id,
          timeoutMs: 10_000,
          ...(opts.hashCacheMaxAgeMs !== undefined ? { hashCacheMaxAgeMs: opts.hashCacheMaxAgeMs } : {}),
          ...extra,
        });
        for (const k of Object.keys(total) as Array<keyof ReplicationStats>) total[k] += s[k];
      }
      return total;
    },
    async audit() {
      const total: AuditStats = { checked: 0, bytes: 0, quarantined: [] };
      for (const d of devices) {
        const s = await auditOnce({ devicesRoot: d.root, devices: [d.ring.device] });
        total.checked += s.checked;
        total.bytes += s.bytes;
        total.quarantined.push(...s.quarantined);
      }
      return total;
    },
    async close() {
      backend.close();
      for (const d of devices) await d.server?.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return cluster;
}
