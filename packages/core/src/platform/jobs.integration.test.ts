import { randomUUID } from 'node:crypto';
import { startQueueWorker } from '@stratus/db';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { defineJob, enqueueJob, toTask } from './jobs.ts';
import { newRequestId, withRequestContext } from './log.ts';

describe('job definitions', () => {
  it('carry the request id from the request into the worker, and validate payloads', async () => {
    const { db, url } = testDb();
    const seen: Array<{ requestId: string; payload: unknown }> = [];
    const def = defineJob({
      name: `test.reqid.${randomUUID()}`,
      payload: z.object({ serverId: z.string().uuid() }),
      hostBound: false,
      handler: async (payload, ctx) => {
        seen.push({ requestId: ctx.requestId, payload });
      },
    });
    const requestId = newRequestId();
    const serverId = randomUUID();
    await withRequestContext({ requestId }, () => db.$transaction((tx) => enqueueJob(tx, def, { serverId })));
    await expect(db.$transaction((tx) => enqueueJob(tx, def, { serverId: 'nope' }))).rejects.toThrow();
    const runner = await startQueueWorker({ connectionString: url, host: 'h', shared: { [def.name]: toTask(def) }, hostBound: {} });
    try {
      await waitFor(() => seen.length > 0, { what: 'job run' });
      expect(seen).toEqual([{ requestId, payload: { serverId } }]);
    } finally {
      await runner.stop();
    }
  });

  it('refuses a host-bound job without a host', async () => {
    const { db } = testDb();
    const def = defineJob({ name: 'test.bound', payload: z.object({}), hostBound: true, handler: async () => {} });
    await expect(db.$transaction((tx) => enqueueJob(tx, def, {}))).rejects.toThrow(/needs a host/);
  });
});
