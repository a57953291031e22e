import {
  heartbeat,
  initLogger,
  releaseLocksOfDownHosts,
  reportStaleServices,
  startRuntime,
  toTask,
  type JobDefinition,
} from '@stratus/core';
import { closePrisma, releaseHostLocks, startQueueWorker } from '@stratus/db';
import { join } from 'node:path';
import { computeDeps, jobs, startVolumeRole } from './jobs/index.ts';
import { requestStartupSync } from './jobs/network.ts';
import { registerThisHost, startMetadataServer, startPowerSync } from './jobs/compute/host.ts';
import { startConsoleProxy } from './console/index.ts';
import { startObjectStorage } from './objectstore/index.ts';

const rt = await startRuntime('stratus-worker');
const { config, db } = rt;
// Logs go to stdout as JSON lines; the start command appends them to <stateDir>/logs.
const log = initLogger({ name: 'stratus-worker', level: config.logLevel });

const svc = { binary: 'stratus-worker', host: config.host, roles: config.workerRoles };
await heartbeat(db, svc, { starting: true });

// Jobs our previous process held when it died (kill -9, power loss) become runnable again.
const released = await releaseHostLocks(db, config.host);
if (released > 0) log.warn({ released }, 'released jobs locked by a previous worker on this host');

const tasks = (filter: (j: JobDefinition) => boolean) =>
  Object.fromEntries(jobs.filter(filter).map((j) => [j.name, toTask(j)]));
const runner = await startQueueWorker({
  connectionString: rt.databaseUrl,
  host: config.host,
  concurrency: config.workerConcurrency,
  shared: tasks((j) => !j.hostBound),
  hostBound: tasks((j) => j.hostBound),
});

// Namespaces and dnsmasq do not survive a reboot, and objects of resources deleted while
// we were down must go: every start rebuilds this host's dataplane from the database.
if (config.workerRoles.includes('network') || config.workerRoles.includes('compute')) {
  await requestStartupSync(config.host).catch((err: unknown) => log.warn({ err }, 'startup network sync not queued'));
}

const beat = setInterval(() => {
  heartbeat(db, svc)
    .then(() => reportStaleServices(db, config.serviceDownSeconds))
    .then(() => releaseLocksOfDownHosts(db, config.serviceDownSeconds))
    .then((hosts) => {
      if (hosts.length) log.warn({ hosts }, 'released queue locks of hosts that are down');
    })
    .catch((err) => log.warn({ err }, 'heartbeat failed'));
}, config.heartbeatSeconds * 1000);

// Compute role: this host's hypervisor as a compute node, the power-state sync, metadata.
let stopPowerSync = () => {};
let metadataServer: Awaited<ReturnType<typeof startMetadataServer>> | undefined;
if (config.workerRoles.includes('compute')) {
  const { driver } = computeDeps();
  try {
    await registerThisHost(db, config.host, driver);
    stopPowerSync = startPowerSync(db, config.host, driver, config.powerSyncSeconds);
  } catch (err) {
    log.error({ err }, 'compute: cannot register this host (is libvirtd running?); no builds will be scheduled here');
  }
  metadataServer = await startMetadataServer(
    config.metadataSocket ?? join(config.stateDir, 'run', 'metadata.sock'),
  ).catch((err: unknown) => {
    log.error({ err }, 'metadata service did not start');
    return undefined;
  });
}

// Volume role: this host's volume backend registered (and its capacity refreshed) for the volume scheduler.
const stopVolumeRole = config.workerRoles.includes('volume') ? startVolumeRole() : () => {};

// Console role: the websocket proxy to this host's VNC servers and serial ptys (docs/consoles.md).
const consoleProxy = config.workerRoles.includes('console')
  ? await startConsoleProxy({
      host: config.host,
      listen: config.consoleProxyListen,
      port: config.consoleProxyPort,
      targets: computeDeps().driver,
    }).catch((err: unknown) => void log.error({ err }, 'console proxy did not start'))
  : undefined;

// Object role: this host's object server and devices in the ring, replicator and auditor (docs/object-storage.md).
const objectStorage = config.workerRoles.includes('object')
  ? await startObjectStorage({ config, db, databaseUrl: rt.databaseUrl, log }).catch(
      (err: unknown) => void log.error({ err }, 'object server did not start'),
    )
  : undefined;

log.info({ host: config.host, roles: config.workerRoles, jobs: jobs.map((j) => j.name) }, 'worker started');
process.stdout.write(`stratus-worker ready on host ${config.host}\n`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'worker stopping');
  clearInterval(beat);
  stopPowerSync();
  stopVolumeRole();
  metadataServer?.close();
  await consoleProxy?.close();
  await objectStorage?.close().catch(() => {});
  await runner.stop().catch(() => {});
  await closePrisma();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
