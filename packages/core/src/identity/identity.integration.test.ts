import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emitEvent, type PrismaClient } from '@stratus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { loadConfig } from '../platform/config.ts';
import { StratusError } from '../platform/errors.ts';
import { can } from '../policy/index.ts';
import { createApplicationCredential, deleteApplicationCredential } from './appcreds.ts';
import { assignRole, listRoleAssignments, unassignRole } from './assignments.ts';
import {
  authenticate,
  clearTokenCache,
  listUserProjects,
  revokeToken,
  socketScopeForToken,
  validateSubjectToken,
  validateToken,
} from './auth.ts';
import { bootstrapIdentity, writeCloudsYaml } from './bootstrap.ts';
import { addUserToGroup, createGroup, removeUserFromGroup } from './groups.ts';
import { createProject, deleteProject, getProject, listProjects, updateProject } from './projects.ts';
import { stopRevocationListener } from './revocation.ts';
import { adminContext, projectWithMember, setupIdentityTest, TEST_ADMIN_PASSWORD, unique } from './test-support.ts';
import type { AuthContext } from './types.ts';
import { changePassword, createUser, getUser, listUsers, updateUser } from './users.ts';

let admin: AuthContext;
let stateDir: string;
let db: PrismaClient;

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    if (err instanceof StratusError) return err.code;
    throw err;
  }
}

beforeAll(async () => {
  ({ stateDir, db } = await setupIdentityTest(testDb().url));
  admin = await adminContext();
});
afterAll(async () => {
  await stopRevocationListener();
});

describe('bootstrap', () => {
  it('seeds admin, demo, roles, RegionOne and a full catalog, idempotently', async () => {
    const seededTypes = [
      'identity',
      'compute',
      'placement',
      'network',
      'image',
      'volumev3',
      'block-storage',
      'object-store',
      'orchestration',
    ];
    const countOf = () => db.catalogService.count({ where: { type: { in: seededTypes } } });
    const before = await countOf();
    const again = await bootstrapIdentity({ db, config: loadConfig() });
    expect(again.admin.password).toBe(TEST_ADMIN_PASSWORD);
    expect(await countOf()).toBe(before);
    expect(await db.role.count({ where: { name: { in: ['admin', 'member', 'reader'] } } })).toBe(3);
    for (const t of seededTypes) {
      const svc = await db.catalogService.findFirstOrThrow({
        where: { type: t },
        orderBy: { createdAt: 'asc' },
        include: { endpoints: true },
      });
      const mine = svc.endpoints.filter((e) => e.regionId === 'RegionOne');
      expect(mine.map((e) => e.interface).sort(), t).toEqual(['admin', 'internal', 'public']);
      expect(mine.every((e) => e.url.startsWith('http://127.0.0.1:3000/'))).toBe(true);
    }
    const cred = join(stateDir, 'credentials.txt');
    expect(statSync(cred).mode & 0o777).toBe(0o600);
    expect(readFileSync(cred, 'utf8')).toContain(`admin password: ${TEST_ADMIN_PASSWORD}`);
    const yamlPath = loadConfig().cloudsYamlPath;
    expect(statSync(yamlPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(yamlPath, 'utf8')).toMatch(
      /stratus-admin:[\s\S]*auth_url: "http:\/\/127.0.0.1:3000\/identity\/v3"/,
    );
    // Never overwrites a clouds.yaml someone else wrote.
    const foreign = join(stateDir, 'foreign-clouds.yaml');
    writeFileSync(foreign, 'clouds: {}\n');
    expect(
      writeCloudsYaml(foreign, 'http://x/identity/v3', [{ name: 'c', user: 'u', password: 'p', project: 'p' }]).written,
    ).toBe(false);
    expect(readFileSync(foreign, 'utf8')).toBe('clouds: {}\n');
  });
});

describe('tokens', () => {
  it('issues a project-scoped token with roles (implied included) and a catalog', async () => {
    const r = await authenticate({
      method: 'password',
      userName: 'admin',
      userDomain: 'Default',
      password: TEST_ADMIN_PASSWORD,
      scope: { projectName: 'admin', projectDomain: 'Default' },
    });
    expect(r.context.roles.sort()).toEqual(['admin', 'member', 'reader']);
    expect(r.body.project?.name).toBe('admin');
    expect(r.body.expires_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(new Date(r.body.expires_at).getTime() - new Date(r.body.issued_at).getTime()).toBe(3600_000);
    const compute = r.body.catalog?.find((s) => s.type === 'volumev3');
    expect(compute?.endpoints.map((e) => e.interface).sort()).toEqual(['admin', 'internal', 'public']);
    expect(compute?.endpoints[0]?.url).toBe(`http://127.0.0.1:3000/volume/v3/${r.context.projectId}`);
    expect(compute?.endpoints[0]).toMatchObject({ region_id: 'RegionOne', region: 'RegionOne' });
    expect((await validateToken(r.tokenId)).userName).toBe('admin');
  });

  it('unscoped, domain- and system-scoped tokens', async () => {
    const m = await projectWithMember(admin);
    const unscoped = await authenticate({ method: 'password', userId: m.user.id, password: m.password, scope: {} });
    // No scope asked: Keystone scopes to the default project.
    expect(unscoped.context.projectId).toBe(m.project.id);
    const d = await authenticate({
      method: 'password',
      userName: 'admin',
      password: TEST_ADMIN_PASSWORD,
      scope: { domainId: 'default' },
    });
    expect(d.context.domainScopeId).toBe('default');
    expect(d.body.domain?.name).toBe('Default');
    const s = await authenticate({
      method: 'password',
      userName: 'admin',
      password: TEST_ADMIN_PASSWORD,
      scope: { system: true },
    });
    expect(s.context.system).toBe(true);
    expect(s.body.system).toEqual({ all: true });
    expect(
      await code(
        authenticate({ method: 'password', userId: m.user.id, password: m.password, scope: { system: true } }),
      ),
    ).toBe('Unauthorized');
  });

  it('rescoping with the token method chains audit ids; revoking the parent revokes the child', async () => {
    const m = await projectWithMember(admin);
    const second = await createProject(admin, { name: unique('p2') });
    await assignRole(admin, { roleId: m.roleId, userId: m.user.id, projectId: second.id });
    const child = await authenticate({ method: 'token', tokenId: m.auth.tokenId, scope: { projectId: second.id } });
    expect(child.body.audit_ids).toEqual([child.context.auditId, m.auth.context.auditId]);
    expect(child.body.methods).toEqual(['token', 'password']);
    expect(child.context.expiresAt.getTime()).toBe(m.auth.context.expiresAt.getTime());
    await revokeToken(m.auth.context, m.auth.tokenId);
    expect(await code(validateToken(m.auth.tokenId))).toBe('Unauthorized');
    expect(await code(validateToken(child.tokenId))).toBe('Unauthorized');
  });

  it('a revocation written by another process is seen without restarting (NOTIFY)', async () => {
    const m = await projectWithMember(admin);
    expect((await validateToken(m.auth.tokenId)).userId).toBe(m.user.id);
    // What another web node does: insert the event and notify, in one transaction.
    await db.$transaction(async (tx) => {
      await tx.revocationEvent.create({
        data: { auditId: m.auth.context.auditId, issuedBefore: new Date(), expiresAt: new Date(Date.now() + 7200_000) },
      });
      await emitEvent(tx, { type: 'identity.revocation', projectId: null, data: {} });
    });
    await waitFor(async () => (await code(validateToken(m.auth.tokenId))) === 'Unauthorized', {
      timeoutMs: 5000,
      what: 'revocation to arrive',
    });
  });

  it('disabling the user, disabling the project or removing the role invalidates tokens at once', async () => {
    const a = await projectWithMember(admin);
    await updateUser(admin, { userId: a.user.id, enabled: false });
    expect(await code(validateToken(a.auth.tokenId))).toBe('Unauthorized');
    expect(await code(authenticate({ method: 'password', userId: a.user.id, password: a.password }))).toBe(
      'Unauthorized',
    );

    const b = await projectWithMember(admin);
    await updateProject(admin, { projectId: b.project.id, enabled: false });
    expect(await code(validateToken(b.auth.tokenId))).toBe('Unauthorized');

    const c = await projectWithMember(admin);
    await unassignRole(admin, { roleId: c.roleId, userId: c.user.id, projectId: c.project.id });
    expect(await code(validateToken(c.auth.tokenId))).toBe('Unauthorized');
    expect(
      await code(
        authenticate({
          method: 'password',
          userId: c.user.id,
          password: c.password,
          scope: { projectId: c.project.id },
        }),
      ),
    ).toBe('Unauthorized');
  });

  it('wrong passwords and unknown users fail alike; the account locks after N failures', async () => {
    const m = await projectWithMember(admin);
    const wrong = await authenticate({ method: 'password', userId: m.user.id, password: 'nope' }).catch(
      (e: unknown) => e,
    );
    const unknown = await authenticate({ method: 'password', userName: 'no-such-user', password: 'nope' }).catch(
      (e: unknown) => e,
    );
    expect(wrong).toBeInstanceOf(StratusError);
    expect((wrong as StratusError).message).toBe((unknown as StratusError).message);
    for (let i = 1; i < loadConfig().lockoutAttempts; i++) {
      expect(await code(authenticate({ method: 'password', userId: m.user.id, password: 'nope' }))).toBe(
        'Unauthorized',
      );
    }
    // Locked now: the right password is refused, with the same message.
    const locked = await authenticate({ method: 'password', userId: m.user.id, password: m.password }).catch(
      (e: unknown) => e,
    );
    expect((locked as StratusError).message).toBe((unknown as StratusError).message);
    await db.user.update({ where: { id: m.user.id }, data: { lockedUntil: new Date(Date.now() - 1000) } });
    expect(await code(authenticate({ method: 'password', userId: m.user.id, password: m.password }))).toBe('ok');
  });

  it('changing the password revokes the old tokens; the new password works', async () => {
    const m = await projectWithMember(admin);
    expect(
      await code(
        changePassword(m.auth.context, { userId: m.user.id, originalPassword: 'bad', password: 'new-password-1' }),
      ),
    ).toBe('Unauthorized');
    await changePassword(m.auth.context, {
      userId: m.user.id,
      originalPassword: m.password,
      password: 'new-password-1',
    });
    expect(await code(validateToken(m.auth.tokenId))).toBe('Unauthorized');
    expect(await code(authenticate({ method: 'password', userId: m.user.id, password: m.password }))).toBe(
      'Unauthorized',
    );
    expect(await code(authenticate({ method: 'password', userId: m.user.id, password: 'new-password-1' }))).toBe('ok');
  });

  it('application credentials authenticate with their roles; deleting one revokes its tokens', async () => {
    const m = await projectWithMember(admin);
    const ac = await createApplicationCredential(m.auth.context, {
      userId: m.user.id,
      name: unique('ac'),
      roles: [{ name: 'reader' }],
    });
    expect(ac.secret).toBeTruthy();
    const t = await authenticate({ method: 'application_credential', id: ac.id, secret: ac.secret ?? '' });
    expect(t.context.projectId).toBe(m.project.id);
    expect(t.context.roles).toEqual(['reader']);
    expect(t.body.application_credential).toMatchObject({ id: ac.id, restricted: true });
    expect(await code(authenticate({ method: 'application_credential', id: ac.id, secret: 'wrong' }))).toBe(
      'Unauthorized',
    );
    const byName = await authenticate({
      method: 'application_credential',
      name: ac.name,
      userId: m.user.id,
      secret: ac.secret ?? '',
    });
    expect(byName.context.userId).toBe(m.user.id);
    expect(await code(authenticate({ method: 'token', tokenId: t.tokenId, scope: { projectId: m.project.id } }))).toBe(
      'Forbidden',
    );
    await deleteApplicationCredential(m.auth.context, { userId: m.user.id, applicationCredentialId: ac.id });
    expect(await code(validateToken(t.tokenId))).toBe('Unauthorized');
  });

  it('validation survives a cold cache (decrypt + lookup) and subject validation follows policy', async () => {
    const m = await projectWithMember(admin);
    clearTokenCache();
    expect((await validateToken(m.auth.tokenId)).projectId).toBe(m.project.id);
    const other = await projectWithMember(admin);
    expect(await code(validateSubjectToken(m.auth.context, other.auth.tokenId))).toBe('Forbidden');
    expect((await validateSubjectToken(admin, other.auth.tokenId)).context.userId).toBe(other.user.id);
    expect(await code(validateSubjectToken(admin, 'garbage-token-garbage-token-garbage-token-garbage'))).toBe(
      'NotFound',
    );
  });
});

describe('groups and assignments', () => {
  it('a group assignment grants access; effective listing expands it; removal from the group revokes', async () => {
    const project = await createProject(admin, { name: unique('gp') });
    const user = await createUser(admin, { name: unique('gu'), password: 'group-user-pw' });
    const group = await createGroup(admin, { name: unique('g') });
    const member = await db.role.findUniqueOrThrow({ where: { name: 'member' } });
    await assignRole(admin, { roleId: member.id, groupId: group.id, projectId: project.id });
    expect(
      await code(
        authenticate({
          method: 'password',
          userId: user.id,
          password: 'group-user-pw',
          scope: { projectId: project.id },
        }),
      ),
    ).toBe('Unauthorized');
    await addUserToGroup(admin, { groupId: group.id, userId: user.id });
    const t = await authenticate({
      method: 'password',
      userId: user.id,
      password: 'group-user-pw',
      scope: { projectId: project.id },
    });
    expect(t.context.roles).toContain('member');
    const eff = await listRoleAssignments(admin, { userId: user.id, effective: true, includeNames: true });
    expect(eff).toHaveLength(1);
    expect(eff[0]).toMatchObject({
      role: { name: 'member' },
      user: { id: user.id, name: user.name },
      viaGroupId: group.id,
      scope: { project: { id: project.id, name: project.name } },
    });
    expect(await listRoleAssignments(admin, { userId: user.id })).toHaveLength(0);
    expect((await listUserProjects(t.context)).map((p) => p.id)).toEqual([project.id]);
    await removeUserFromGroup(admin, { groupId: group.id, userId: user.id });
    expect(await code(validateToken(t.tokenId))).toBe('Unauthorized');
  });

  it('duplicate names conflict; paging with marker/limit', async () => {
    const name = unique('dup');
    await createProject(admin, { name });
    expect(await code(createProject(admin, { name }))).toBe('Conflict');
    const first = await listProjects(admin, { limit: 1 });
    expect(first.items).toHaveLength(1);
    expect(first.next).toBe(first.items[0]?.id);
    const second = await listProjects(admin, { limit: 1, marker: first.next ?? '' });
    expect(second.items[0]?.id).not.toBe(first.items[0]?.id);
  });
});

describe('isolation between projects (the functions the dashboard calls)', () => {
  it('a member of project A cannot see or change anything of project B', async () => {
    const a = await projectWithMember(admin);
    const b = await projectWithMember(admin);
    const ctx = a.auth.context;
    expect((await getProject(ctx, { projectId: a.project.id })).id).toBe(a.project.id);
    expect(await code(getProject(ctx, { projectId: b.project.id }))).toBe('Forbidden');
    expect(await code(getProject(ctx, { projectId: 'does-not-exist' }))).toBe('Forbidden');
    expect(await code(updateProject(ctx, { projectId: b.project.id, name: 'pwned' }))).toBe('Forbidden');
    expect(await code(deleteProject(ctx, { projectId: b.project.id }))).toBe('Forbidden');
    expect(await code(listProjects(ctx, {}))).toBe('Forbidden');
    expect(await code(listUsers(ctx, {}))).toBe('Forbidden');
    expect(await code(getUser(ctx, { userId: b.user.id }))).toBe('Forbidden');
    expect(await code(updateUser(ctx, { userId: b.user.id, enabled: false }))).toBe('Forbidden');
    expect(
      await code(changePassword(ctx, { userId: b.user.id, originalPassword: b.password, password: 'x-new-pass' })),
    ).toBe('Forbidden');
    expect(await code(assignRole(ctx, { roleId: a.roleId, userId: a.user.id, projectId: b.project.id }))).toBe(
      'Forbidden',
    );
    expect(await code(listRoleAssignments(ctx, { projectId: b.project.id }))).toBe('Forbidden');
    expect(await code(listRoleAssignments(ctx, {}))).toBe('Forbidden');
    expect(
      (await listRoleAssignments(ctx, { projectId: a.project.id })).every((x) => x.scope.project?.id === a.project.id),
    ).toBe(true);
    expect(await code(revokeToken(ctx, b.auth.tokenId))).toBe('Forbidden');
    expect(await code(validateSubjectToken(ctx, b.auth.tokenId))).toBe('Forbidden');
    expect((await listUserProjects(ctx)).map((p) => p.id)).toEqual([a.project.id]);
    expect(can(ctx, 'stratus:cloud_admin')).toBe(false);
    // Live events: the socket joins A's room only, never the admin room.
    expect(await socketScopeForToken(a.auth.tokenId)).toEqual({
      projectId: a.project.id,
      isAdmin: false,
      userId: a.user.id,
    });
    expect(await socketScopeForToken(admin.tokenId)).toEqual({
      projectId: admin.projectId,
      isAdmin: true,
      userId: admin.userId,
    });
    expect(await socketScopeForToken('garbage')).toBeNull();
    expect((await validateToken(b.auth.tokenId)).projectId).toBe(b.project.id);
  });
});
