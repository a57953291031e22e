import { run, type Runner, type Task, type TaskList } from 'graphile-worker';
import pg from 'pg';
import type { Tx } from './client.ts';
import { silentLoggerFactory } from './quiet.ts';

/*
 * Durable jobs on graphile-worker (docs/queue.md). A job is written by the SQL
 * function graphile_worker.add_job inside the caller's Prisma transaction, so the
 * state change and its job commit or roll back together.
 */

/** Task identifier of a job; host-routed jobs carry the host so only that worker runs them. */
export function taskName(job: string, host?: string): string {
  return host ? `${job}@${host}` : job;
}

export interface EnqueueOptions {
  /** Route to one host's worker (e.g. a build for host X). */
  host?: string;
  maxAttempts?: number;
  /** Deduplicates: a second job with the same key replaces the pending one. */
  jobKey?: string;
  runAt?: Date;
  /** Serialises jobs that share a queue name (e.g. all actions on one server). */
  queueName?: string;
}

export interface JobMeta {
  requestId?: string;
}

export async function enqueue(
  tx: Tx,
  job: string,
  payload: Record<string, unknown>,
  opts: EnqueueOptions = {},
): Promise<string> {
  // With a job key, add_job first clears the key of locked (running) jobs, then upserts on
  // the key only where the existing job is unlocked. A worker that locks the pending job in
  // between leaves the upsert with no row: the running job may not see this transaction's
  // change, so add again — the key of the now-locked job is cleared and a new job inserted.
  for (let attempt = 0; attempt < 3; attempt++) {
    const rows = await tx.$queryRaw<Array<{ id: string | null }>>`
      SELECT id::text AS id FROM graphile_worker.add_job(
        ${taskName(job, opts.host)},
        ${JSON.stringify(payload)}::json,
        queue_name => ${opts.queueName ?? null}::text,
        run_at => ${opts.runAt ?? null}::timestamptz,
        max_attempts => ${opts.maxAttempts ?? 5}::int,
        job_key => ${opts.jobKey ?? null}::text
      )`;
    const id = rows[0]?.id;
    if (id) return id;
    if (!opts.jobKey) break;
  }
  throw new Error(`enqueue ${job}: add_job returned no row`);
}

export interface QueueWorkerOptions {
  connectionString: string;
  host: string;
  concurrency?: number;
  /** Handlers for shared jobs (any worker) ... */
  shared: Record<string, Task>;
  /** ... and for jobs routed to this host. */
  hostBound: Record<string, Task>;
}

/**
 * Releases jobs locked by this host's previous worker processes (a worker killed with
 * SIGKILL keeps its locks for 4 hours otherwise). Call before starting the host's worker,
 * and for hosts declared down.
 */
export async function releaseHostLocks(db: Pick<Tx, '$queryRaw' | '$executeRaw'>, host: string): Promise<number> {
  const rows = await db.$queryRaw<Array<{ workerId: string }>>`
    SELECT "workerId" FROM "QueueWorker" WHERE host = ${host}`;
  if (rows.length === 0) return 0;
  const ids = rows.map((r) => r.workerId);
  const locked = await db.$queryRaw<Array<{ n: bigint }>>`
    SELECT count(*) AS n FROM graphile_worker.jobs WHERE locked_by = ANY(${ids}::text[])`;
  await db.$executeRaw`SELECT graphile_worker.force_unlock_workers(${ids}::text[])`;
  await db.$executeRaw`DELETE FROM "QueueWorker" WHERE "workerId" = ANY(${ids}::text[])`;
  return Number(locked[0]?.n ?? 0);
}

export async function startQueueWorker(opts: QueueWorkerOptions): Promise<Runner> {
  const pgPool = new pg.Pool({ connectionString: opts.connectionString, max: (opts.concurrency ?? 4) + 2 });
  // Record each worker id (once) before its first job runs: see releaseHostLocks.
  const known = new Set<string>();
  const track =
    (task: Task): Task =>
    async (payload, helpers) => {
      const id = helpers.job.locked_by;
      if (id && !known.has(id)) {
        await pgPool.query(
          'INSERT INTO "QueueWorker" ("workerId", host) VALUES ($1, $2) ON CONFLICT ("workerId") DO NOTHING',
          [id, opts.host],
        );
        known.add(id);
      }
      return task(payload, helpers);
    };
  const taskList: TaskList = {};
  for (const [name, task] of Object.entries(opts.shared)) taskList[name] = track(task);
  for (const [name, task] of Object.entries(opts.hostBound)) taskList[taskName(name, opts.host)] = track(task);
  // Idle-client errors (e.g. a restarted server) surface on the next query; do not crash.
  pgPool.on('error', () => {});
  pgPool.on('connect', (client) => client.on('error', () => {}));
  const runner = await run({
    pgPool,
    taskList,
    concurrency: opts.concurrency ?? 4,
    noHandleSignals: true,
    pollInterval: 1000,
    logger: silentLoggerFactory(),
  });
  runner.promise.finally(() => pgPool.end()).catch(() => {});
  return runner;
}

export interface JobRow {
  id: string;
  taskIdentifier: string;
  attempts: number;
  maxAttempts: number;
  lastError: string | null;
  runAt: Date;
  lockedAt: Date | null;
  createdAt: Date;
}

/** Jobs that used all their attempts: the "failed" list admins see. */
export async function listFailedJobs(db: Pick<Tx, '$queryRaw'>, limit = 50): Promise<JobRow[]> {
  return db.$queryRaw<JobRow[]>`
    SELECT id::text AS id, task_identifier AS "taskIdentifier", attempts, max_attempts AS "maxAttempts",
           last_error AS "lastError", run_at AS "runAt", locked_at AS "lockedAt", created_at AS "createdAt"
      FROM graphile_worker.jobs
     WHERE attempts >= max_attempts
     ORDER BY created_at DESC
     LIMIT ${limit}`;
}

export async function getJob(db: Pick<Tx, '$queryRaw'>, id: string): Promise<JobRow | undefined> {
  const rows = await db.$queryRaw<JobRow[]>`
    SELECT id::text AS id, task_identifier AS "taskIdentifier", attempts, max_attempts AS "maxAttempts",
           last_error AS "lastError", run_at AS "runAt", locked_at AS "lockedAt", created_at AS "createdAt"
      FROM graphile_worker.jobs WHERE id = ${id}::bigint`;
  return rows[0];
}
