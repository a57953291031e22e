import { randomUUID } from 'node:crypto';
import type { Runner } from 'graphile-worker';
import { afterEach, describe, expect, it } from 'vitest';
import { enqueue, getJob, listFailedJobs, startQueueWorker } from '../src/index.ts';
import { testDb, waitFor } from '../../../test/helpers.ts';

const runners: Runner[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});

async function worker(host: string, tasks: Parameters<typeof startQueueWorker>[0]['shared'], hostBound = {}) {
  const { url } = testDb();
  const r = await startQueueWorker({ connectionString: url, host, concurrency: 2, shared: tasks, hostBound });
  runners.push(r);
  return r;
}

describe('job queue on PostgreSQL', () => {
  it('runs a job enqueued while no worker runs exactly once when workers start', async () => {
    const { db } = testDb();
    const job = `test.once.${randomUUID()}`;
    const id = await db.$transaction((tx) => enqueue(tx, job, { n: 1 }));
    const runs: string[] = [];
    const task = async (payload: unknown) => {
      runs.push(JSON.stringify(payload));
    };
    // Two workers race for the same job.
    await Promise.all([worker('host-a', { [job]: task }), worker('host-b', { [job]: task })]);
    await waitFor(async () => (await getJob(db, id)) === undefined, { what: 'job completion' });
    expect(runs).toEqual(['{"n":1}']);
  });

  it('retries a failing job with backoff and ends failed after the configured attempts', async () => {
    const { db } = testDb();
    const job = `test.fail.${randomUUID()}`;
    const id = await db.$transaction((tx) => enqueue(tx, job, {}, { maxAttempts: 3 }));
    const attempts: number[] = [];
    await worker('host-a', {
      [job]: async () => {
        attempts.push(Date.now());
        throw new Error('boom');
      },
    });
    const failed = await waitFor(
      async () => {
        const j = await getJob(db, id);
        return j && j.attempts >= 3 && j.lockedAt === null ? j : undefined;
      },
      { timeoutMs: 60_000, what: 'three attempts' },
    );
    expect(attempts).toHaveLength(3);
    expect(failed.lastError).toContain('boom');
    // graphile-worker backs off exponentially: exp(1) s, then exp(2) s.
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(2000);
    expect(attempts[2]! - attempts[1]!).toBeGreaterThan(attempts[1]! - attempts[0]!);
    const listed = await listFailedJobs(db);
    expect(listed.map((j) => j.id)).toContain(id);
  });

  it('never leaves the job of a rolled-back state change behind', async () => {
    const { db } = testDb();
    const host = `rollback-${randomUUID()}`;
    const key = `rollback-${randomUUID()}`;
    await expect(
      db.$transaction(async (tx) => {
        await tx.service.create({ data: { binary: 'stratus-worker', host, roles: [] } });
        await enqueue(tx, 'test.rollback', { host }, { jobKey: key });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await db.service.findFirst({ where: { host } })).toBeNull();
    const rows = await db.$queryRaw<unknown[]>`SELECT 1 FROM graphile_worker.jobs WHERE key = ${key}`;
    expect(rows).toHaveLength(0);
  });

  it('routes a host-bound job only to that host', async () => {
    const { db } = testDb();
    const job = `test.routed.${randomUUID()}`;
    const ran: string[] = [];
    const make = (h: string) => ({ [job]: async () => void ran.push(h) });
    await worker('host-x', {}, make('host-x'));
    await worker('host-y', {}, make('host-y'));
    const ids = await db.$transaction(async (tx) => [
      await enqueue(tx, job, {}, { host: 'host-y' }),
      await enqueue(tx, job, {}, { host: 'host-y' }),
    ]);
    await waitFor(async () => (await Promise.all(ids.map((i) => getJob(db, i)))).every((j) => j === undefined), {
      what: 'routed jobs',
    });
    expect(ran).toEqual(['host-y', 'host-y']);
  });
  it('adds a keyed job even when a worker locks the pending one in the middle of add_job', async () => {
    const { db } = testDb();
    const job = `test.keyed.${randomUUID()}`;
    const key = `key-${randomUUID()}`;
    const first = await db.$transaction((tx) => enqueue(tx, job, { n: 1 }, { jobKey: key }));
    // A worker's lock, taken after add_job cleared the keys of locked jobs and before its
    // upsert: simulated by a trigger after that UPDATE statement locking the pending job.
    const fn = `lock_keyed_${randomUUID().replaceAll('-', '')}`;
    await db.$executeRawUnsafe(`CREATE FUNCTION graphile_worker.${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF pg_trigger_depth() = 1 THEN
          UPDATE graphile_worker._private_jobs SET locked_at = now(), locked_by = 'racing-worker'
            WHERE id = ${first} AND locked_at IS NULL;
        END IF;
        RETURN NULL;
      END $$`);
    await db.$executeRawUnsafe(
      `CREATE TRIGGER ${fn} AFTER UPDATE ON graphile_worker._private_jobs FOR EACH STATEMENT EXECUTE FUNCTION graphile_worker.${fn}()`,
    );
    try {
      const second = await db.$transaction((tx) => enqueue(tx, job, { n: 2 }, { jobKey: key }));
      expect(second).not.toBe(first);
      const j = await getJob(db, second);
      expect(j?.lockedAt ?? null).toBeNull();
      expect((await getJob(db, first))?.lockedAt).not.toBeNull();
    } finally {
      await db.$executeRawUnsafe(`DROP TRIGGER ${fn} ON graphile_worker._private_jobs`);
      await db.$executeRawUnsafe(`DROP FUNCTION graphile_worker.${fn}()`);
      await db.$executeRawUnsafe(`DELETE FROM graphile_worker._private_jobs WHERE locked_by = 'racing-worker'`);
    }
  });
});
