import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  auditOnce,
  type AuditStats,
  type Config,
  DEVICE_MARKER,
  ensureRing,
  OBJECT_RING,
  rebalanceRingIfDue,
  registerRingDevices,
  replicateOnce,
  type ReplicationStats,
  type RingWatcher,
  type RunningObjectServer,
  startObjectServer,
  watchRing,
} from '@stratus/core';
import type { PrismaClient } from '@stratus/db';

/*
 * The object role of a worker (docs/object-storage.md, "Storage"): this host's device folders,
 * its object server, its devices registered in the ring (PostgreSQL), and the replicator and
 * auditor loops over its devices. The logic is in @stratus/core (objectstore/node); this file
 * wires it to the configuration and the worker's lifecycle.
 */

type Log = {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
};

export type ObjectStorageConfig = Pick<
  Config,
  | 'stateDir'
  | 'host'
  | 'objectServerListen'
  | 'objectServerPort'
  | 'objectServerAddress'
  | 'objectDevicesRoot'
  | 'objectDevices'
  | 'objectZone'
  | 'objectDeviceWeight'
  | 'objectPartPower'
  | 'objectReplicas'
  | 'objectMinPartHours'
  | 'objectReplicatorSeconds'
  | 'objectAuditorSeconds'
  | 'objectAuditorBytesPerSecond'
> &
  Partial<Pick<Config, 'objectHashCacheSeconds'>>;

/** The suffix-hash cache's age limit for the object server and the replicator (one setting). */
const hashCacheMaxAgeMs = (config: ObjectStorageConfig) => (config.objectHashCacheSeconds ?? 3600) * 1000;

export interface ObjectStorage {
  server: RunningObjectServer;
  ring: RingWatcher;
  devicesRoot: string;
  /** Address and port this host's devices are registered under. */
  address: string;
  port: number;
  /** Runs a replicator / auditor pass now (the loops also run them on their interval). */
  replicateNow(): Promise<ReplicationStats>;
  auditNow(): Promise<AuditStats>;
  close(): Promise<void>;
}

/**
 * Creates a device folder and its mount marker the first time. A folder that exists without
 * its marker stays as it is: it is an unmounted disk (mount_check), and writing into it would
 * fill the root file system instead.
 */
function prepareDevice(path: string, log: Log): void {
  if (!existsSync(path)) {
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, DEVICE_MARKER), '');
    return;
  }
  if (!existsSync(join(path, DEVICE_MARKER))) {
    if (readdirSync(path).length === 0) {
      log.warn(
        { device: path },
        `object device has no ${DEVICE_MARKER} marker: treated as unmounted (507) until it is created`,
      );
    } else log.warn({ device: path }, `object device is not mounted (no ${DEVICE_MARKER}): it answers 507`);
  }
}

/** A loop that runs `pass` every `seconds` (never two at once); `now()` runs one at once. */
function loop<T>(seconds: number, pass: () => Promise<T>, log: Log, what: string): { now(): Promise<T>; stop(): void } {
  let running: Promise<T> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const run = (): Promise<T> => {
    running ??= pass().finally(() => {
      running = undefined;
    });
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      run()
        .catch((err: unknown) => log.warn({ err }, `${what} pass failed`))
        .finally(schedule);
    }, seconds * 1000);
    timer.unref();
  };
  schedule();
  return {
    now: run,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

export async function startObjectStorage(opts: {
  config: ObjectStorageConfig;
  db: PrismaClient;
  databaseUrl: string;
  log: Log;
  /** Tests: another ring than the cloud's. */
  ringName?: string;
}): Promise<ObjectStorage> {
  const { config, db, log } = opts;
  const ringName = opts.ringName ?? OBJECT_RING;
  const devicesRoot = config.objectDevicesRoot ?? join(config.stateDir, 'objectstore');
  for (const name of config.objectDevices) prepareDevice(join(devicesRoot, name), log);

  const server = await startObjectServer({
    devicesRoot,
    listen: config.objectServerListen,
    port: config.objectServerPort,
    log,
    hashCacheMaxAgeMs: hashCacheMaxAgeMs(config),
  });
  const wildcard = config.objectServerListen === '0.0.0.0' || config.objectServerListen === '::';
  const address = config.objectServerAddress ?? (wildcard ? config.host : config.objectServerListen);
  const port = server.port;
  let ring: RingWatcher | undefined;
  try {
    await ensureRing(
      db,
      { partPower: config.objectPartPower, replicas: config.objectReplicas, minPartHours: config.objectMinPartHours },
      ringName,
    );
    const reg = await registerRingDevices(
      db,
      config.objectDevices.map((device) => ({
        host: address,
        port,
        device,
        zone: config.objectZone,
        weight: config.objectDeviceWeight,
        server: config.host,
      })),
      ringName,
    );
    if (reg.added > 0)
      log.info({ added: reg.added, version: reg.version, moved: reg.moved }, 'object devices joined the ring');
    ring = await watchRing(db, opts.databaseUrl, {
      name: ringName,
      onError: (err) => log.warn({ err }, 'object ring watch'),
    });
  } catch (err) {
    await server.close();
    throw err;
  }
  const watcher = ring;
  const isLocal = (d: { host: string; port: number }) => d.host === address && d.port === port;
  const replicator = loop(
    config.objectReplicatorSeconds,
    async () => {
      // A rebalance that minPartHours held back is finished once the hours have passed.
      const due = await rebalanceRingIfDue(db, { name: ringName }).catch(
        (err: unknown) => void log.warn({ err }, 'object ring rebalance failed'),
      );
      if (due && due.moved > 0) {
        log.info({ ...due }, 'object ring rebalanced');
        await watcher.reload();
      }
      const stats = await replicateOnce({
        ring: watcher,
        devicesRoot,
        isLocal,
        log,
        hashCacheMaxAgeMs: hashCacheMaxAgeMs(config),
      });
      if (stats.filesPushed || stats.handoffPartitionsRemoved || stats.failures)
        log.info({ ...stats }, 'object replicator pass');
      return stats;
    },
    log,
    'object replicator',
  );
  const auditor = loop(
    config.objectAuditorSeconds,
    async () => {
      const devices = watcher
        .current()
        .devices.filter(isLocal)
        .map((d) => d.device);
      const stats = await auditOnce({ devicesRoot, devices, bytesPerSecond: config.objectAuditorBytesPerSecond, log });
      if (stats.quarantined.length)
        log.warn({ checked: stats.checked, quarantined: stats.quarantined.length }, 'object auditor pass');
      return stats;
    },
    log,
    'object auditor',
  );
  log.info(
    { address, port, devicesRoot, devices: config.objectDevices, ringVersion: watcher.version },
    'object server started',
  );
  return {
    server,
    ring: watcher,
    devicesRoot,
    address,
    port,
    replicateNow: replicator.now,
    auditNow: auditor.now,
    async close() {
      replicator.stop();
      auditor.stop();
      await watcher.close();
      await server.close();
    },
  };
}
