import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { enqueue, getJob, releaseHostLocks, startQueueWorker } from '../src/index.ts';
import { testDb, waitFor } from '../../../test/helpers.ts';

const fixture = fileURLToPath(new URL('./fixtures/hang-worker.ts', import.meta.url));

describe('a worker killed mid-job', () => {
  it('leaves a lock that the restarted worker of the same host releases, and the job then runs', async () => {
    const { db, url } = testDb();
    const host = `crash-${randomUUID().slice(0, 8)}`;
    const job = 'test.crash';
    const id = await db.$transaction((tx) => enqueue(tx, job, {}, { host }));
    const child = spawn(process.execPath, ['--import', 'tsx', fixture, url, host, job], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('started'), { timeoutMs: 60_000, what: 'job start in the child' });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect((await getJob(db, id))?.lockedAt).not.toBeNull();

    expect(await releaseHostLocks(db, host)).toBe(1);
    let ran = 0;
    const runner = await startQueueWorker({
      connectionString: url,
      host,
      shared: {},
      hostBound: { [job]: async () => void ran++ },
    });
    try {
      await waitFor(async () => (await getJob(db, id)) === undefined, { what: 'job re-run' });
      expect(ran).toBe(1);
    } finally {
      await runner.stop();
    }
  });
});
