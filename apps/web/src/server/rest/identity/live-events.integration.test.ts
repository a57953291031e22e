import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  assignRole,
  createProject,
  listUserProjects,
  socketScopeForToken,
  stopRevocationListener,
  unassignRole,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { emitEvent, type StratusEvent } from '@stratus/db';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../../../test/helpers.ts';
import { attachLiveEvents } from '../../live.ts';
import { liveClient } from '../../live-test-support.ts';

/*
 * Identity events through the real web server pieces: core emits in its transaction,
 * live.ts routes by the scope core derives from each socket's token.
 */
describe('identity live events reach the right sockets only', () => {
  const http = createServer();
  let live: Awaited<ReturnType<typeof attachLiveEvents>>;
  let base = '';
  const sockets: Socket[] = [];
  beforeAll(async () => {
    const { url } = testDb();
    await setupIdentityTest(url);
    live = await attachLiveEvents({ http, databaseUrl: url, resolveScope: socketScopeForToken, onError: () => {} });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await live.listener.close();
    live.io.close();
    await stopRevocationListener();
  });

  const client = async (token: string) => (await liveClient(base, token, sockets)).events;
  /** A cloud-wide marker plus one per project room: once every socket has its marker, earlier events are in. */
  async function settle(lists: Array<{ events: StratusEvent[]; projectId: string }>): Promise<void> {
    const marker = unique('marker');
    await testDb().db.$transaction(async (tx) => {
      for (const l of lists)
        await emitEvent(tx, { type: 'test.marker', projectId: l.projectId, resourceId: marker, data: {} });
    });
    await waitFor(() => lists.every((l) => l.events.some((e) => e.resourceId === marker)), { what: 'markers' });
  }
  const identity = (events: StratusEvent[]) => events.filter((e) => e.type.startsWith('identity.'));

  it('admins see identity events; a member sees only those about their own roles', async () => {
    const admin = await adminContext();
    const a = await projectWithMember(admin);
    const b = await projectWithMember(admin);
    const adminEvents = await client(admin.tokenId);
    const aEvents = await client(a.auth.tokenId);
    const bEvents = await client(b.auth.tokenId);
    const all = [
      { events: adminEvents, projectId: admin.projectId ?? '' },
      { events: aEvents, projectId: a.project.id },
      { events: bEvents, projectId: b.project.id },
    ];

    // A project is created: the admin room only.
    const x = await createProject(admin, { name: unique('livex') });
    await waitFor(() => adminEvents.some((e) => e.type === 'identity.project.created' && e.resourceId === x.id), {
      what: 'admin sees project.created',
    });
    await settle(all);
    expect(identity(aEvents)).toEqual([]);
    expect(identity(bEvents)).toEqual([]);

    // B's user gets a role on X: B's socket hears of it (and nobody else's list of users), A does not.
    await assignRole(admin, { roleId: b.roleId, userId: b.user.id, projectId: x.id });
    await waitFor(() => bEvents.some((e) => e.type === 'identity.role_assignment.created'), {
      what: 'B hears of its new role',
    });
    const toB = bEvents.find((e) => e.type === 'identity.role_assignment.created');
    expect(toB?.data).toMatchObject({ projectId: x.id, userId: b.user.id });
    expect(toB?.data.userIds).toBeUndefined();
    await waitFor(
      () => adminEvents.some((e) => e.type === 'identity.role_assignment.created' && e.data.projectId === x.id),
      {
        what: 'admin sees the grant',
      },
    );
    await settle(all);
    expect(identity(aEvents)).toEqual([]);
    // What the event prompts the dashboard to re-read: B's project list now has X.
    expect((await listUserProjects(b.auth.context)).map((p) => p.id)).toContain(x.id);

    // And losing it.
    await unassignRole(admin, { roleId: b.roleId, userId: b.user.id, projectId: x.id });
    await waitFor(() => bEvents.some((e) => e.type === 'identity.role_assignment.deleted'), {
      what: 'B hears of the lost role',
    });
    await settle(all);
    expect(identity(aEvents)).toEqual([]);
    expect(bEvents.filter((e) => e.type.startsWith('identity.')).map((e) => e.type)).toEqual([
      'identity.role_assignment.created',
      'identity.role_assignment.deleted',
    ]);
  });
});
