import {
  ConfigError,
  heartbeat,
  initLogger,
  releaseLocksOfDownHosts,
  runtime,
  toTask,
  type JobDefinition,
} from '@stratus/core';
import { closePrisma, releaseHostLocks, startQueueWorker } from '@stratus/db';
import { jobs } from './jobs/index.ts';

function fail(msg: string): never {
  process.stderr.write(`stratus-worker: ${msg}\n`);
  process.exit(1);
}

let rt: ReturnType<typeof runtime>;
try {
  rt = runtime();
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  throw err;
}
const { config, db } = rt;
// Logs go to stdout as JSON lines; the start command appends them to <stateDir>/logs.
const log = initLogger({ name: 'stratus-worker', level: config.logLevel });

const svc = { binary: 'stratus-worker', host: config.host, roles: config.workerRoles };
try {
  await heartbeat(db, svc, { starting: true });
} catch (err) {
  fail(`cannot reach the database: ${(err as Error).message.split('\n')[0]}`);
}

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

const beat = setInterval(() => {
  heartbeat(db, svc)
    .then(() => releaseLocksOfDownHosts(db, config.serviceDownSeconds))
    .then((hosts) => {
      if (hosts.length) log.warn({ hosts }, 'released queue locks of hosts that are down');
    })
    .catch((err) => log.warn({ err }, 'heartbeat failed'));
}, config.heartbeatSeconds * 1000);

log.info({ host: config.host, roles: config.workerRoles, jobs: jobs.map((j) => j.name) }, 'worker started');
process.stdout.write(`stratus-worker ready on host ${config.host}\n`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'worker stopping');
  clearInterval(beat);
  await runner.stop().catch(() => {});
  await closePrisma();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
