import { randomBytes } from 'node:crypto';
import type { PrismaClient, Tx } from '@stratus/db';
import { emitEvent, listenEvents } from '@stratus/db';
import { StratusError } from '../../platform/errors.ts';
import {
  decodeAssignment,
  decodeLastMoved,
  emptyRing,
  encodeAssignment,
  encodeLastMoved,
  MAX_DEVICE_ID,
  UNASSIGNED,
  type RebalanceResult,
  rebalance,
  type RingData,
  type RingDevice,
} from './builder.ts';
import { Ring, type RingSource } from './ring.ts';

/*
 * The ring in PostgreSQL: one ObjectRing row (shape, secret, assignment, version) and its
 * ObjectRingDevice rows. Every change runs in one transaction holding the ring row's lock,
 * bumps the version and emits `objectring.updated` (delivered on commit); every proxy and
 * replicator holds a watcher that reloads on that event, with a slow poll as a fallback.
 */

export const OBJECT_RING = 'object';
export const RING_EVENT = 'objectring.updated';

export interface RingShape {
  partPower: number;
  replicas: number;
  minPartHours: number;
}

type Db = PrismaClient | Tx;

function toBytes(b: Buffer): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(new ArrayBuffer(b.byteLength));
  out.set(b);
  return out;
}

async function readRing(db: Db, name: string): Promise<Ring | null> {
  const row = await db.objectRing.findUnique({ where: { name } });
  if (!row) return null;
  const devs = await db.objectRingDevice.findMany({ where: { ringName: name }, orderBy: { id: 'asc' } });
  const data: RingData = {
    partPower: row.partPower,
    replicas: row.replicas,
    minPartHours: row.minPartHours,
    devices: devs.map((d) => ({
      id: d.id,
      host: d.host,
      port: d.port,
      device: d.device,
      zone: d.zone,
      weight: d.weight,
    })),
    assignment: decodeAssignment(row.assignment, row.partPower, row.replicas),
    lastMoved: decodeLastMoved(row.lastMoved, row.partPower),
  };
  return new Ring(data, { prefix: row.hashPathPrefix, suffix: row.hashPathSuffix }, row.version);
}

export function loadRing(db: PrismaClient, name = OBJECT_RING): Promise<Ring | null> {
  return readRing(db, name);
}

/** Creates the ring (empty, with a new random hash secret) unless it exists. */
export async function ensureRing(db: PrismaClient, shape: RingShape, name = OBJECT_RING): Promise<void> {
  const empty = emptyRing(shape);
  await db.objectRing.createMany({
    data: [
      {
        name,
        partPower: shape.partPower,
        replicas: shape.replicas,
        minPartHours: shape.minPartHours,
        hashPathPrefix: randomBytes(16).toString('hex'),
        hashPathSuffix: randomBytes(16).toString('hex'),
        assignment: toBytes(encodeAssignment(empty)),
        lastMoved: toBytes(encodeLastMoved(empty)),
      },
    ],
    skipDuplicates: true,
  });
}

/** Runs `change` on the locked ring; when it returns devices, rebalances and saves a new version. */
async function changeRing(
  db: PrismaClient,
  name: string,
  change: (ring: Ring, tx: Tx) => Promise<RingDevice[] | null>,
): Promise<{ version: number; result?: RebalanceResult }> {
  return db.$transaction(async (tx) => {
    const locked = await tx.$queryRaw<
      Array<{ name: string }>
    >`SELECT name FROM "ObjectRing" WHERE name = ${name} FOR UPDATE`;
    if (!locked.length) throw new StratusError('NotFound', `object ring ${name} does not exist`);
    const ring = await readRing(tx, name);
    if (!ring) throw new StratusError('NotFound', `object ring ${name} does not exist`);
    const devices = await change(ring, tx);
    if (!devices) return { version: ring.version };
    const result = rebalance({ ...ring.data, devices }, Math.floor(Date.now() / 1000), ring.version);
    const same = JSON.stringify(devices) === JSON.stringify(ring.devices);
    // Nothing moved and no device changed: no new version for every node to load.
    if (same && result.moved === 0) return { version: ring.version, result };
    const version = ring.version + 1;
    await tx.objectRing.update({
      where: { name },
      data: {
        version,
        assignment: toBytes(encodeAssignment(result.ring)),
        lastMoved: toBytes(encodeLastMoved(result.ring)),
        balance: result.balance,
        rebalancedAt: new Date(),
      },
    });
    await emitEvent(tx, { type: RING_EVENT, projectId: null, data: { ring: name, version, moved: result.moved } });
    return { version, result };
  });
}

export interface DeviceRegistration {
  host: string;
  port: number;
  device: string;
  zone: number;
  weight: number;
  /** The Stratus host registering it. */
  server: string;
}

/**
 * Adds the devices the ring lacks (a worker's own devices at start) and rebalances once.
 * Devices already in the ring keep their weight and zone (operators change those).
 */
export async function registerRingDevices(
  db: PrismaClient,
  regs: DeviceRegistration[],
  name = OBJECT_RING,
): Promise<{ added: number; version: number; moved: number }> {
  let added = 0;
  const out = await changeRing(db, name, async (ring, tx) => {
    const key = (d: { host: string; port: number; device: string }) => `${d.host}:${d.port}/${d.device}`;
    const have = new Set(ring.devices.map(key));
    const missing = regs.filter((r) => !have.has(key(r)));
    const unassigned = ring.data.assignment.some((row) => row.includes(UNASSIGNED));
    if (!missing.length && !unassigned) return null;
    const devices = ring.devices.map((d) => ({ ...d }));
    let nextId = devices.reduce((m, d) => Math.max(m, d.id + 1), 0);
    for (const r of missing) {
      if (nextId > MAX_DEVICE_ID) throw new StratusError('Conflict', 'the ring has no device id left');
      await tx.objectRingDevice.create({
        data: {
          ringName: name,
          id: nextId,
          host: r.host,
          port: r.port,
          device: r.device,
          zone: r.zone,
          weight: r.weight,
          server: r.server,
        },
      });
      devices.push({ id: nextId, host: r.host, port: r.port, device: r.device, zone: r.zone, weight: r.weight });
      nextId++;
      added++;
    }
    if (!devices.some((d) => d.weight > 0)) return null;
    return devices;
  });
  return { added, version: out.version, moved: out.result?.moved ?? 0 };
}

/** Operator: a device's new weight (0 drains it), then a rebalance. */
export async function setRingDeviceWeight(
  db: PrismaClient,
  id: number,
  weight: number,
  name = OBJECT_RING,
): Promise<{ version: number; moved: number }> {
  if (!(weight >= 0) || !Number.isFinite(weight)) throw new StratusError('BadRequest', 'weight must be a number ≥ 0');
  const out = await changeRing(db, name, async (ring, tx) => {
    if (!ring.device(id)) throw new StratusError('NotFound', `no device ${id} in ring ${name}`);
    await tx.objectRingDevice.update({ where: { ringName_id: { ringName: name, id } }, data: { weight } });
    return ring.devices.map((d) => (d.id === id ? { ...d, weight } : { ...d }));
  });
  return { version: out.version, moved: out.result?.moved ?? 0 };
}

/** Operator: removes a device; its partitions go to the others (the replicator moves the data). */
export async function removeRingDevice(
  db: PrismaClient,
  id: number,
  name = OBJECT_RING,
): Promise<{ version: number; moved: number }> {
  const out = await changeRing(db, name, async (ring, tx) => {
    if (!ring.device(id)) throw new StratusError('NotFound', `no device ${id} in ring ${name}`);
    await tx.objectRingDevice.delete({ where: { ringName_id: { ringName: name, id } } });
    return ring.devices.filter((d) => d.id !== id).map((d) => ({ ...d }));
  });
  return { version: out.version, moved: out.result?.moved ?? 0 };
}

/** Operator: rebalance now (e.g. after minPartHours held some moves back). */
export async function rebalanceRing(
  db: PrismaClient,
  name = OBJECT_RING,
): Promise<{ version: number; moved: number; balance: number }> {
  const out = await changeRing(db, name, async (ring) => ring.devices.map((d) => ({ ...d })));
  return { version: out.version, moved: out.result?.moved ?? 0, balance: out.result?.balance ?? 0 };
}

/**
 * Rebalances when the last rebalance left devices off their share (moves held back by
 * minPartHours or by the one-replica-per-partition rule) and minPartHours has passed.
 * Workers call this now and then; a no-op ring is not saved.
 */
export async function rebalanceRingIfDue(
  db: PrismaClient,
  opts: { tolerancePercent?: number; name?: string } = {},
): Promise<{ version: number; moved: number } | null> {
  const name = opts.name ?? OBJECT_RING;
  const row = await db.objectRing.findUnique({
    where: { name },
    select: { balance: true, rebalancedAt: true, minPartHours: true },
  });
  if (!row || row.balance <= (opts.tolerancePercent ?? 1)) return null;
  if (Date.now() - row.rebalancedAt.getTime() < row.minPartHours * 3600 * 1000) return null;
  const out = await rebalanceRing(db, name);
  return { version: out.version, moved: out.moved };
}

export interface RingWatcher extends RingSource {
  /** The loaded version (0 before the ring exists). */
  readonly version: number;
  /** Loads the ring now (the event or poll does this on its own). */
  reload(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Keeps the ring of this process current: loads it, reloads on `objectring.updated`, and
 * polls its version every `pollSeconds` in case a notification was missed (lost connection).
 */
export async function watchRing(
  db: PrismaClient,
  databaseUrl: string,
  opts: { name?: string; pollSeconds?: number; onError?: (err: unknown) => void } = {},
): Promise<RingWatcher> {
  const name = opts.name ?? OBJECT_RING;
  let ring: Ring | null = null;
  let loading: Promise<void> | undefined;
  const reload = (): Promise<void> => {
    loading ??= readRing(db, name)
      .then((r) => {
        if (r && (!ring || r.version !== ring.version)) ring = r;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  };
  await reload();
  const listener = await listenEvents(
    databaseUrl,
    (e) => {
      if (e.type === RING_EVENT && e.data.ring === name) reload().catch(opts.onError);
    },
    opts.onError,
  );
  const poll = setInterval(
    () => {
      db.objectRing
        .findUnique({ where: { name }, select: { version: true } })
        .then((row) => (row && row.version !== ring?.version ? reload() : undefined))
        .catch(opts.onError);
    },
    (opts.pollSeconds ?? 30) * 1000,
  );
  poll.unref();
  return {
    get version() {
      return ring?.version ?? 0;
    },
    current() {
      if (!ring)
        throw new StratusError(
          'Unavailable',
          'Object storage is not ready: no object server has registered its devices yet.',
        );
      return ring;
    },
    reload,
    async close() {
      clearInterval(poll);
      await listener.close();
    },
  };
}
