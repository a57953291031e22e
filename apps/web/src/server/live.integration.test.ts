import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { emitEvent } from '@stratus/db';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { attachLiveEvents } from './live.ts';
import { liveClient } from './live-test-support.ts';

describe('socket.io live events', () => {
  const http = createServer();
  let live: Awaited<ReturnType<typeof attachLiveEvents>>;
  let base = '';
  const sockets: Socket[] = [];
  beforeAll(async () => {
    const { url } = testDb();
    live = await attachLiveEvents({
      http,
      databaseUrl: url,
      resolveScope: async (token) =>
        ({
          'tok-a': { projectId: 'proj-a', isAdmin: false },
          'tok-b': { projectId: 'proj-b', isAdmin: false },
          'tok-admin': { projectId: 'proj-admin', isAdmin: true },
        })[token] ?? null,
      onError: () => {},
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await live.listener.close();
    live.io.close();
  });

  const client = (token: string) => liveClient(base, token, sockets);

  it('scopes events by project; admins see all; bad tokens are refused', async () => {
    const a = await client('tok-a');
    const b = await client('tok-b');
    const admin = await client('tok-admin');
    await expect(client('garbage')).rejects.toThrow(/unauthorized/);
    const { db } = testDb();
    await db.$transaction((tx) =>
      emitEvent(tx, { type: 'server.updated', projectId: 'proj-a', resourceId: 's1', data: {} }),
    );
    await db.$transaction((tx) => emitEvent(tx, { type: 'service.up', projectId: null, data: {} }));
    await waitFor(() => a.events.length === 1 && admin.events.length === 2, { what: 'events delivered' });
    expect(a.events[0]).toMatchObject({ type: 'server.updated', resourceId: 's1' });
    // B must not receive A's event (give it the same delivery window the others had).
    await db.$transaction((tx) =>
      emitEvent(tx, { type: 'server.updated', projectId: 'proj-b', resourceId: 's2', data: {} }),
    );
    await waitFor(() => b.events.length === 1, { what: 'B own event' });
    expect(b.events.map((e) => e.resourceId)).toEqual(['s2']);
    expect(a.events.map((e) => e.resourceId)).toEqual(['s1']);
  });
});
