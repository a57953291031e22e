// TEMPORARY: an in-memory stand-in for packages/core/src/identity until it lands.
import { randomUUID } from 'node:crypto';
import { StratusError } from '@stratus/core';

export type AuthContext = {
  userId: string; userName: string; domainId: string; projectId: string | null; projectName: string | null;
  domainScopeId: string | null; system: boolean; roles: string[]; tokenId: string; auditId: string; expiresAt: Date; methods: string[];
};
type Scope = { projectId?: string; projectName?: string; projectDomain?: string; domainId?: string; system?: boolean };
export type AuthenticateOptions =
  | { method: 'password'; userName: string; userDomain?: string; password: string; scope?: Scope }
  | { method: 'token'; tokenId: string; scope?: Scope };

interface Page<T> { items: T[]; next: string | null }
const g = globalThis as unknown as { __fake?: Fake };
interface Fake {
  domains: Array<{ id: string; name: string; description: string; enabled: boolean }>;
  projects: Array<{ id: string; name: string; description: string; domainId: string; enabled: boolean }>;
  users: Array<{ id: string; name: string; domainId: string; enabled: boolean; email: string | null; description: string; password: string; defaultProjectId: string | null }>;
  groups: Array<{ id: string; name: string; description: string; domainId: string }>;
  roles: Array<{ id: string; name: string; description: string; domainId: string | null }>;
  assignments: Array<{ roleId: string; userId?: string; groupId?: string; projectId?: string; domainId?: string }>;
  members: Array<{ groupId: string; userId: string }>;
  tokens: Map<string, AuthContext>;
}
function fake(): Fake {
  if (g.__fake) return g.__fake;
  const admin = randomUUID(), p = randomUUID(), r = randomUUID();
  g.__fake = {
    domains: [{ id: 'default', name: 'Default', description: 'The default domain', enabled: true }],
    projects: [{ id: p, name: 'admin', description: 'Bootstrap project', domainId: 'default', enabled: true }],
    users: [{ id: admin, name: 'admin', domainId: 'default', enabled: true, email: null, description: '', password: 'adminpass', defaultProjectId: p }],
    groups: [],
    roles: [{ id: r, name: 'admin', description: '', domainId: null }, { id: randomUUID(), name: 'member', description: '', domainId: null }, { id: randomUUID(), name: 'reader', description: '', domainId: null }],
    assignments: [{ roleId: r, userId: admin, projectId: p }],
    members: [],
    tokens: new Map(),
  };
  return g.__fake;
}
function page<T extends { id: string; name: string }>(all: T[], o: { name?: string; marker?: string; limit?: number }): Page<T> {
  let xs = all.filter((x) => !o.name || x.name.includes(o.name)).sort((a, b) => a.id.localeCompare(b.id));
  if (o.marker) xs = xs.filter((x) => x.id > o.marker!);
  const limit = o.limit ?? 20;
  return { items: xs.slice(0, limit), next: xs.length > limit ? xs[limit - 1]!.id : null };
}
function issue(userId: string, projectId: string | null): { tokenId: string; context: AuthContext; body: unknown } {
  const f = fake();
  const u = f.users.find((x) => x.id === userId)!;
  const proj = projectId ? f.projects.find((x) => x.id === projectId) : undefined;
  const roles = f.assignments.filter((a) => a.userId === userId && a.projectId === projectId).map((a) => f.roles.find((r) => r.id === a.roleId)!.name);
  const ctx: AuthContext = { userId, userName: u.name, domainId: u.domainId, projectId: proj?.id ?? null, projectName: proj?.name ?? null, domainScopeId: null, system: false, roles, tokenId: randomUUID().replaceAll('-', ''), auditId: randomUUID(), expiresAt: new Date(Date.now() + 3600_000), methods: ['password'] };
  f.tokens.set(ctx.tokenId, ctx);
  return { tokenId: ctx.tokenId, context: ctx, body: {} };
}
export async function authenticate(o: AuthenticateOptions) {
  const f = fake();
  let userId: string;
  if (o.method === 'password') {
    const u = f.users.find((x) => x.name === o.userName && x.password === o.password && x.enabled);
    if (!u) throw new StratusError('Unauthorized', 'The request you have made requires authentication.');
    userId = u.id;
  } else {
    const c = f.tokens.get(o.tokenId);
    if (!c) throw new StratusError('Unauthorized', 'The request you have made requires authentication.');
    userId = c.userId;
  }
  let pid = o.scope?.projectId ?? null;
  if (!pid) pid = f.assignments.find((a) => a.userId === userId && a.projectId)?.projectId ?? null;
  if (pid && !f.assignments.some((a) => a.userId === userId && a.projectId === pid)) throw new StratusError('Unauthorized', 'You are not authorized for this project.');
  return issue(userId, pid);
}
export async function validateToken(tokenId: string): Promise<AuthContext> {
  const c = fake().tokens.get(tokenId);
  if (!c) throw new StratusError('NotFound', 'Could not find token.');
  return c;
}
export async function revokeToken(_ctx: AuthContext, tokenId: string) { fake().tokens.delete(tokenId); }
export async function listUserProjects(ctx: AuthContext) {
  const f = fake();
  const ids = new Set(f.assignments.filter((a) => a.userId === ctx.userId && a.projectId).map((a) => a.projectId));
  return f.projects.filter((p) => ids.has(p.id));
}
export function can(ctx: AuthContext, _action: string, _target?: unknown) { return ctx.roles.includes('admin'); }
export function enforce(ctx: AuthContext, action: string, target?: unknown) { if (!can(ctx, action, target)) throw new StratusError('Forbidden', `Policy does not allow ${action} to be performed.`); }

type L = { name?: string; marker?: string; limit?: number; domainId?: string; enabled?: boolean };
function crud<K extends 'domains' | 'projects' | 'groups' | 'roles'>(k: K, label: string) {
  type T = Fake[K][number];
  return {
    list: async (ctx: AuthContext, o: L) => { enforce(ctx, `identity:list_${k}`); return page<T>(fake()[k] as T[], o); },
    get: async (ctx: AuthContext, o: { id: string }) => { const x = (fake()[k] as T[]).find((y) => y.id === o.id); if (!x) throw new StratusError('NotFound', `Could not find ${label}: ${o.id}.`); return x; },
    create: async (ctx: AuthContext, o: Partial<T> & { name: string }) => {
      enforce(ctx, `identity:create_${label}`);
      if ((fake()[k] as T[]).some((y) => y.name === o.name)) throw new StratusError('Conflict', `Conflict occurred attempting to store ${label} - Duplicate entry found with name ${o.name}.`);
      const x = { id: randomUUID().replaceAll('-', ''), description: '', enabled: true, domainId: 'default', ...o } as unknown as T;
      (fake()[k] as T[]).push(x); return x;
    },
    update: async (ctx: AuthContext, o: Partial<T> & { id: string }) => { const x = (fake()[k] as T[]).find((y) => y.id === o.id); if (!x) throw new StratusError('NotFound', `Could not find ${label}: ${o.id}.`); Object.assign(x, o); return x; },
    delete: async (ctx: AuthContext, o: { id: string }) => { const arr = fake()[k] as T[]; const i = arr.findIndex((y) => y.id === o.id); if (i < 0) throw new StratusError('NotFound', `Could not find ${label}: ${o.id}.`); arr.splice(i, 1); },
  };
}
const P = crud('projects', 'project'), D = crud('domains', 'domain'), G = crud('groups', 'group'), R = crud('roles', 'role');
export const listProjects = P.list, getProject = P.get, createProject = P.create, updateProject = P.update, deleteProject = P.delete;
export const listDomains = D.list, getDomain = D.get, createDomain = D.create, updateDomain = D.update, deleteDomain = D.delete;
export const listGroups = G.list, getGroup = G.get, createGroup = G.create, updateGroup = G.update, deleteGroup = G.delete;
export const listRoles = R.list, getRole = R.get, createRole = R.create, updateRole = R.update, deleteRole = R.delete;
const strip = (u: Fake['users'][number]) => { const { password: _p, ...rest } = u; return rest; };
export async function listUsers(ctx: AuthContext, o: L) { enforce(ctx, 'identity:list_users'); const p = page(fake().users, o); return { items: p.items.map(strip), next: p.next }; }
export async function getUser(_ctx: AuthContext, o: { id: string }) { const u = fake().users.find((x) => x.id === o.id); if (!u) throw new StratusError('NotFound', 'Could not find user.'); return strip(u); }
export async function createUser(ctx: AuthContext, o: { name: string; password?: string; domainId?: string; email?: string | null; description?: string; enabled?: boolean; defaultProjectId?: string | null }) {
  enforce(ctx, 'identity:create_user');
  if (fake().users.some((y) => y.name === o.name)) throw new StratusError('Conflict', `Conflict occurred attempting to store user - Duplicate entry found with name ${o.name} at domain ID default.`);
  const u = { id: randomUUID().replaceAll('-', ''), domainId: 'default', enabled: true, email: null, description: '', defaultProjectId: null, ...o, password: o.password ?? '' };
  fake().users.push(u); return strip(u);
}
export async function updateUser(_ctx: AuthContext, o: { id: string; name?: string; enabled?: boolean; email?: string | null; description?: string; password?: string }) { const u = fake().users.find((x) => x.id === o.id); if (!u) throw new StratusError('NotFound', 'Could not find user.'); Object.assign(u, o); return strip(u); }
export async function deleteUser(_ctx: AuthContext, o: { id: string }) { const f = fake(); f.users = f.users.filter((x) => x.id !== o.id); }
export async function listGroupUsers(_ctx: AuthContext, o: { groupId: string }) { const f = fake(); const ids = new Set(f.members.filter((m) => m.groupId === o.groupId).map((m) => m.userId)); return { items: f.users.filter((u) => ids.has(u.id)).map(strip), next: null }; }
export async function addUserToGroup(_ctx: AuthContext, o: { groupId: string; userId: string }) { fake().members.push(o); }
export async function removeUserFromGroup(_ctx: AuthContext, o: { groupId: string; userId: string }) { const f = fake(); f.members = f.members.filter((m) => !(m.groupId === o.groupId && m.userId === o.userId)); }
export async function assignRole(_ctx: AuthContext, o: { roleId: string; userId?: string; groupId?: string; projectId?: string; domainId?: string }) { fake().assignments.push(o); }
export async function unassignRole(_ctx: AuthContext, o: { roleId: string; userId?: string; groupId?: string; projectId?: string; domainId?: string }) { const f = fake(); f.assignments = f.assignments.filter((a) => !(a.roleId === o.roleId && a.userId === o.userId && a.groupId === o.groupId && a.projectId === o.projectId && a.domainId === o.domainId)); }
export async function listRoleAssignments(_ctx: AuthContext, o: { userId?: string; projectId?: string; roleId?: string; groupId?: string; includeNames?: boolean }) {
  const f = fake();
  const items = f.assignments.filter((a) => (!o.userId || a.userId === o.userId) && (!o.projectId || a.projectId === o.projectId) && (!o.roleId || a.roleId === o.roleId)).map((a) => ({
    ...a,
    role: { id: a.roleId, name: f.roles.find((r) => r.id === a.roleId)?.name },
    user: a.userId ? { id: a.userId, name: f.users.find((u) => u.id === a.userId)?.name } : undefined,
    group: a.groupId ? { id: a.groupId, name: f.groups.find((u) => u.id === a.groupId)?.name } : undefined,
    project: a.projectId ? { id: a.projectId, name: f.projects.find((u) => u.id === a.projectId)?.name } : undefined,
    domain: a.domainId ? { id: a.domainId, name: f.domains.find((u) => u.id === a.domainId)?.name } : undefined,
  }));
  return { items, next: null };
}
