import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { emitEvent, listenEvents, type StratusEvent } from '../src/index.ts';
import { testDb, waitFor } from '../../../test/helpers.ts';

describe('live events through NOTIFY', () => {
  it('delivers events of committed transactions only', async () => {
    const { db, url } = testDb();
    const seen: StratusEvent[] = [];
    const listener = await listenEvents(url, (e) => seen.push(e));
    try {
      const committed = randomUUID();
      const rolledBack = randomUUID();
      await expect(
        db.$transaction(async (tx) => {
          await emitEvent(tx, { type: 'test.event', projectId: 'p1', resourceId: rolledBack, data: {} });
          throw new Error('abort');
        }),
      ).rejects.toThrow('abort');
      await db.$transaction((tx) =>
        emitEvent(tx, { type: 'test.event', projectId: 'p1', resourceId: committed, data: { status: 'ACTIVE' } }),
      );
      const got = await waitFor(() => seen.find((e) => e.resourceId === committed), { what: 'event' });
      expect(got).toMatchObject({ type: 'test.event', projectId: 'p1', data: { status: 'ACTIVE' } });
      expect(got.at).toBeTruthy();
      expect(seen.some((e) => e.resourceId === rolledBack)).toBe(false);
    } finally {
      await listener.close();
    }
  });
});
