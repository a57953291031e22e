import { enqueue } from '@stratus/db';
import { beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../test/helpers.ts';
import { adminContext, projectWithMember, setupIdentityTest } from '../identity/test-support.ts';
import { listDeadJobs } from './tasks.ts';

describe('dead jobs for admins', () => {
  beforeAll(async () => {
    await setupIdentityTest(testDb().url);
  });

  it('lists jobs that used all their attempts to admins only', async () => {
    const { db } = testDb();
    const admin = await adminContext();
    const id = await db.$transaction((tx) => enqueue(tx, 'test.dead', {}, { maxAttempts: 1 }));
    // The state a worker leaves after the last failed attempt (the retry path itself is
    // tested in packages/db/test/queue.integration.test.ts).
    await db.$executeRaw`UPDATE graphile_worker._private_jobs SET attempts = max_attempts, last_error = 'boom' WHERE id = ${id}::bigint`;
    const rows = await listDeadJobs(admin);
    expect(rows.find((r) => r.id === id)).toMatchObject({ taskIdentifier: 'test.dead', lastError: 'boom' });
    const { auth } = await projectWithMember(admin);
    await expect(listDeadJobs(auth.context)).rejects.toMatchObject({ code: 'Forbidden' });
  });
});
