import { emitEvent, type EventListener, listenEvents, type StratusEvent } from '@stratus/db';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { loadConfig, setConfig } from '../platform/config.ts';
import { isStratusError } from '../platform/errors.ts';
import { assignRole, unassignRole } from './assignments.ts';
import { authenticate, getCatalog, renewSessionToken, revokeToken, validateToken } from './auth.ts';
import { createEndpoint, createService, deleteService } from './catalog.ts';
import { CATALOG_EVENT } from './events.ts';
import { addUserToGroup, createGroup, removeUserFromGroup } from './groups.ts';
import { createProject } from './projects.ts';
import { stopRevocationListener } from './revocation.ts';
import { db } from './store.ts';
import { adminContext, projectWithMember, setupIdentityTest, unique } from './test-support.ts';
import type { AuthContext } from './types.ts';
import { createUser, updateUser } from './users.ts';

let admin: AuthContext;
const HOUR = 3600_000;

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  admin = await adminContext();
});
afterAll(async () => {
  await stopRevocationListener();
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (isStratusError(err)) return err.code;
    throw err;
  }
}
async function message(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

describe('dashboard session renewal (renewSessionToken)', () => {
  // Only Date is faked (timers, and so the database driver, run for real): the clock jumps
  // forward hours without waiting.
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a renewed session keeps working past the first token’s expiry, until the maximum session lifetime', async () => {
    const m = await projectWithMember(admin);
    const t0 = Date.now();
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: t0 });
    const first = m.auth;
    expect(first.context.expiresAt.getTime()).toBeLessThanOrEqual(t0 + HOUR);
    const signIn = Date.parse(first.body.issued_at);
    expect(signIn).toBeGreaterThan(t0 - HOUR);

    vi.setSystemTime(t0 + 55 * 60_000);
    const second = await renewSessionToken(first.tokenId);
    expect(second.tokenId).not.toBe(first.tokenId);
    expect(second.context.expiresAt.getTime()).toBeGreaterThan(first.context.expiresAt.getTime() + 50 * 60_000);
    expect(second.context.projectId).toBe(m.project.id);
    expect(second.body.methods).toEqual(['token', 'password']);
    // Keystone's audit chain: the renewed token names the sign-in token.
    expect(second.body.audit_ids).toEqual([second.context.auditId, first.context.auditId]);

    vi.setSystemTime(t0 + 65 * 60_000);
    expect(await code(validateToken(first.tokenId))).toBe('Unauthorized');
    expect((await validateToken(second.tokenId)).userId).toBe(m.user.id);
    // An expired token cannot be renewed: sign in again.
    expect(await code(renewSessionToken(first.tokenId))).toBe('Unauthorized');

    // Renewing every 55 minutes: the session lasts sessionMaxLifetimeSeconds (12 h) after sign-in.
    let current = second;
    let at = t0 + 55 * 60_000;
    for (;;) {
      at += 55 * 60_000;
      vi.setSystemTime(at);
      const r = await renewSessionToken(current.tokenId).catch((err: unknown) =>
        err instanceof Error ? err : new Error(String(err)),
      );
      if (r instanceof Error) {
        // The last token ran out with the session: nothing valid is left to renew.
        expect(isStratusError(r) && r.code).toBe('Unauthorized');
        break;
      }
      expect(r.context.expiresAt.getTime()).toBeLessThanOrEqual(signIn + 12 * HOUR);
      current = r;
      expect(at - t0).toBeLessThan(13 * HOUR);
    }
    expect(at - t0).toBeGreaterThanOrEqual(12 * HOUR);
    // The last token ran exactly to the session's end, not beyond.
    expect(current.context.expiresAt.getTime()).toBe(signIn + 12 * HOUR);
    vi.setSystemTime(t0 + 12 * HOUR + 1000);
    expect(await code(validateToken(current.tokenId))).toBe('Unauthorized');
  });

  it('refuses a still-valid token once the maximum session lifetime has passed', async () => {
    const m = await projectWithMember(admin);
    const saved = loadConfig();
    setConfig({ ...saved, sessionMaxLifetimeSeconds: 300 });
    try {
      const t0 = Date.now();
      vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: t0 });
      const renewed = await renewSessionToken(m.auth.tokenId);
      // Capped by the session, not the token lifetime (an hour).
      expect(renewed.context.expiresAt.getTime()).toBe(Date.parse(m.auth.body.issued_at) + 300_000);
      vi.setSystemTime(t0 + 301_000);
      // The sign-in token is valid for most of an hour still, but the session is over.
      expect((await validateToken(m.auth.tokenId)).userId).toBe(m.user.id);
      expect(await message(renewSessionToken(m.auth.tokenId))).toMatch(/maximum lifetime; sign in again/);
      expect(await code(renewSessionToken(renewed.tokenId))).toBe('Unauthorized');
    } finally {
      setConfig(saved);
    }
  });

  it('refuses a revoked token, and revoking the sign-in token ends the renewed ones', async () => {
    const m = await projectWithMember(admin);
    const renewed = await renewSessionToken(m.auth.tokenId);
    await revokeToken(m.auth.context, m.auth.tokenId);
    expect(await code(renewSessionToken(m.auth.tokenId))).toBe('Unauthorized');
    expect(await code(validateToken(renewed.tokenId))).toBe('Unauthorized');

    const other = await projectWithMember(admin);
    await revokeToken(other.auth.context, other.auth.tokenId);
    expect(await message(renewSessionToken(other.auth.tokenId))).toMatch(/requires authentication/);
  });

  it('refuses when the user was disabled or lost the role on the project', async () => {
    const a = await projectWithMember(admin);
    await updateUser(admin, { userId: a.user.id, enabled: false });
    expect(await code(renewSessionToken(a.auth.tokenId))).toBe('Unauthorized');

    const b = await projectWithMember(admin);
    await unassignRole(admin, { roleId: b.roleId, userId: b.user.id, projectId: b.project.id });
    expect(await code(renewSessionToken(b.auth.tokenId))).toBe('Unauthorized');

    // The Keystone rescope (token method) still never extends a token.
    const c = await projectWithMember(admin);
    const rescoped = await authenticate({
      method: 'token',
      tokenId: c.auth.tokenId,
      scope: { projectId: c.project.id },
    });
    expect(rescoped.context.expiresAt.getTime()).toBe(c.auth.context.expiresAt.getTime());
  });
});

describe('identity live events', () => {
  let listener: EventListener;
  const events: StratusEvent[] = [];
  beforeAll(async () => {
    listener = await listenEvents(testDb().url, (e) => events.push(e));
  });
  afterAll(async () => {
    await listener.close();
  });
  const find = (type: string, pred: (e: StratusEvent) => boolean = () => true) =>
    events.find((e) => e.type === type && pred(e));
  /** Everything committed before this call has been delivered once its marker arrives. */
  async function settle(): Promise<void> {
    const marker = unique('marker');
    await testDb().db.$transaction((tx) =>
      emitEvent(tx, { type: 'test.marker', projectId: null, resourceId: marker, data: {} }),
    );
    await waitFor(() => find('test.marker', (e) => e.resourceId === marker), { what: 'marker event' });
  }

  it('projects, users, groups, roles and assignments emit events in their transaction; a rollback emits none', async () => {
    const name = unique('live');
    const project = await createProject(admin, { name });
    const created = await waitFor(() => find('identity.project.created', (e) => e.resourceId === project.id), {
      what: 'project.created',
    });
    // Cloud-wide (the admin room on the web server): no project room.
    expect(created.projectId).toBeNull();
    expect(created.data).toMatchObject({ name, domainId: 'default' });

    // A duplicate name fails inside the transaction: nothing is emitted.
    expect(await code(createProject(admin, { name }))).toBe('Conflict');
    await settle();
    expect(events.filter((e) => e.type === 'identity.project.created' && e.data.name === name)).toHaveLength(1);

    // Granting a role addresses the user, so their own project list follows.
    const user = await createUser(admin, { name: unique('liveuser'), password: 'pw-live-123456' });
    await waitFor(() => find('identity.user.created', (e) => e.resourceId === user.id), { what: 'user.created' });
    const member = await db().role.findUniqueOrThrow({ where: { name: 'member' } });
    await assignRole(admin, { roleId: member.id, userId: user.id, projectId: project.id });
    const granted = await waitFor(
      () => find('identity.role_assignment.created', (e) => e.data.projectId === project.id),
      { what: 'role_assignment.created' },
    );
    expect(granted.data).toMatchObject({ roleId: member.id, userId: user.id, userIds: [user.id] });
    // Granting it again changes nothing and emits nothing.
    await assignRole(admin, { roleId: member.id, userId: user.id, projectId: project.id });
    await settle();
    expect(
      events.filter((e) => e.type === 'identity.role_assignment.created' && e.data.projectId === project.id),
    ).toHaveLength(1);

    // Through a group: joining a group that holds roles addresses the new member too.
    const group = await createGroup(admin, { name: unique('livegroup') });
    await assignRole(admin, { roleId: member.id, groupId: group.id, projectId: project.id });
    const other = await createUser(admin, { name: unique('liveuser') });
    await addUserToGroup(admin, { groupId: group.id, userId: other.id });
    await waitFor(
      () =>
        find(
          'identity.role_assignment.created',
          (e) => e.data.groupId === group.id && JSON.stringify(e.data.userIds) === JSON.stringify([other.id]),
        ),
      { what: 'membership → role_assignment.created for the member' },
    );
    expect(find('identity.group.updated', (e) => e.resourceId === group.id && e.data.userId === other.id)).toBeTruthy();
    await removeUserFromGroup(admin, { groupId: group.id, userId: other.id });
    await waitFor(
      () =>
        find(
          'identity.role_assignment.deleted',
          (e) => e.data.groupId === group.id && JSON.stringify(e.data.userIds) === JSON.stringify([other.id]),
        ),
      { what: 'role_assignment.deleted for the former member' },
    );

    await unassignRole(admin, { roleId: member.id, userId: user.id, projectId: project.id });
    const lost = await waitFor(
      () =>
        find('identity.role_assignment.deleted', (e) => e.data.projectId === project.id && e.data.userId === user.id),
      { what: 'role_assignment.deleted' },
    );
    expect(lost.data.userIds).toEqual([user.id]);
  });

  it('a catalog change made by another process reaches this process’s cached catalog through NOTIFY', async () => {
    const p = await createProject(admin, { name: unique('cat') });
    const before = await getCatalog(p.id);
    expect(before.length).toBeGreaterThan(0);
    // Cached: the same array while nothing changed.
    expect(await getCatalog(p.id)).toBe(before);
    // "Another process": rows written directly, with the event core would emit.
    const svcId = unique('svc').replace(/-/g, '');
    await testDb().db.$transaction(async (tx) => {
      await tx.catalogService.create({ data: { id: svcId, type: `t-${svcId}`, name: 'live' } });
      await tx.endpoint.create({
        data: { id: `${svcId}e`, serviceId: svcId, interface: 'public', url: 'http://127.0.0.1:1/x', regionId: null },
      });
      await emitEvent(tx, { type: CATALOG_EVENT, projectId: null, data: {} });
    });
    await waitFor(async () => (await getCatalog(p.id)).some((s) => s.id === svcId), { what: 'catalog refreshed' });
    await testDb().db.catalogService.delete({ where: { id: svcId } });

    // Through core: the writer's own cache is dropped at once.
    const svc = await createService(admin, { type: `t2-${svcId}`, name: 'live2' });
    await createEndpoint(admin, { serviceId: svc.id, interface: 'public', url: 'http://127.0.0.1:1/y' });
    expect((await getCatalog(p.id)).some((s) => s.id === svc.id)).toBe(true);
    await deleteService(admin, { serviceId: svc.id });
    expect((await getCatalog(p.id)).some((s) => s.id === svc.id)).toBe(false);
  });
});
