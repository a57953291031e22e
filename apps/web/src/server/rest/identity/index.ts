import * as id from '@stratus/core';
import { type AuthContext, badRequest, keystoneTime, loadConfig, type Scope, unauthorized } from '@stratus/core';
import { z } from 'zod';
import type { RestMount } from '../../http.ts';
import {
  createRouter,
  header,
  keystoneError,
  parseInput,
  queryBool,
  queryFlag,
  readJson,
  requestBase,
  requireAuth,
  type RouteContext,
  send,
  sendText,
} from '../common.ts';
import { registerEc2Routes } from './ec2.ts';
import {
  appCredJson,
  assignmentJson,
  collection,
  domainJson,
  endpointJson,
  groupJson,
  projectJson,
  regionJson,
  roleJson,
  serviceJson,
  userJson,
} from './shapes.ts';

/*
 * Keystone v3 under /identity: a thin adapter. Each route parses its input, calls one
 * core function (which enforces policy) and shapes the answer as Keystone does.
 */
const PREFIX = '/identity';
const router = createRouter({ prefix: PREFIX, render: keystoneError });
const route = router.add;

const root = (c: RouteContext) => requestBase(c.req, loadConfig().publicUrl) + PREFIX;
const v3 = (c: RouteContext) => `${root(c)}/v3`;
const q = (c: RouteContext, name: string) => c.url.searchParams.get(name) ?? undefined;
const p = (c: RouteContext, name: string) => c.params[name] ?? '';
function listOpts(c: RouteContext): { marker?: string; limit?: number } {
  const limit = q(c, 'limit');
  const n = limit !== undefined ? Number(limit) : undefined;
  if (n !== undefined && (!Number.isInteger(n) || n < 1)) throw badRequest('limit must be a positive integer.');
  return { marker: q(c, 'marker'), limit: n === undefined ? undefined : Math.min(n, 1000) };
}
/** `name` and Keystone's comparison filters (`name__icontains=web`) of a list request. */
function nameOpts(c: RouteContext): { name?: string; nameFilters?: id.NameFilter[] } {
  const filters: id.NameFilter[] = [];
  for (const op of id.NAME_FILTER_OPS) {
    const v = q(c, `name__${op}`);
    if (v !== undefined) filters.push({ op, value: v });
  }
  return { name: q(c, 'name'), ...(filters.length ? { nameFilters: filters } : {}) };
}
async function body<S extends z.ZodType>(c: RouteContext, key: string, schema: S): Promise<z.output<S>> {
  const raw = await readJson(c.req);
  if (!(key in raw)) throw badRequest(`Expecting to find ${key} in request body.`);
  return parseInput(schema, raw[key]);
}

// ---------------------------------------------------------------- discovery

const MEDIA = [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }];
const versionDoc = (c: RouteContext) => ({
  id: 'v3.14',
  status: 'stable',
  updated: '2020-04-07T00:00:00Z',
  links: [{ rel: 'self', href: `${v3(c)}/` }],
  'media-types': MEDIA,
});
route('GET', '/', async (c) => send(c.res, 300, { versions: { values: [versionDoc(c)] } }));
route('GET', '/v3', async (c) => send(c.res, 200, { version: versionDoc(c) }));

// ---------------------------------------------------------------- auth

const Named = z.object({ id: z.string().min(1).optional(), name: z.string().min(1).optional() });
const AuthBody = z.object({
  auth: z.object({
    identity: z.object({
      methods: z.array(z.string()).min(1),
      password: z
        .object({
          user: z.object({
            id: z.string().optional(),
            name: z.string().optional(),
            domain: Named.optional(),
            password: z.string(),
          }),
        })
        .optional(),
      token: z.object({ id: z.string().min(1) }).optional(),
      application_credential: z
        .object({
          id: z.string().optional(),
          name: z.string().optional(),
          secret: z.string(),
          user: z
            .object({ id: z.string().optional(), name: z.string().optional(), domain: Named.optional() })
            .optional(),
        })
        .optional(),
    }),
    scope: z
      .union([
        z.literal('unscoped'),
        z.object({
          project: z
            .object({ id: z.string().optional(), name: z.string().optional(), domain: Named.optional() })
            .optional(),
          domain: Named.optional(),
          system: z.object({ all: z.boolean() }).optional(),
        }),
      ])
      .optional(),
  }),
});

function toScope(s: z.output<typeof AuthBody>['auth']['scope']): Scope | undefined {
  if (!s || s === 'unscoped') return undefined;
  if (s.project) {
    if (!s.project.id && !s.project.name) throw badRequest('Expecting to find project id or name in scope.');
    return {
      ...(s.project.id ? { projectId: s.project.id } : {}),
      ...(s.project.name ? { projectName: s.project.name } : {}),
      ...((s.project.domain?.id ?? s.project.domain?.name)
        ? { projectDomain: s.project.domain.id ?? s.project.domain.name }
        : {}),
    };
  }
  if (s.domain)
    return s.domain.id ? { domainId: s.domain.id } : s.domain.name ? { domainName: s.domain.name } : undefined;
  if (s.system?.all) return { system: true };
  return undefined;
}

route('POST', '/v3/auth/tokens', async (c) => {
  const raw = await readJson(c.req);
  const { auth } = parseInput(AuthBody, raw);
  const scope = toScope(auth.scope);
  const noCatalog = queryFlag(c.url, 'nocatalog');
  const methods = auth.identity.methods;
  let result: id.AuthResult;
  if (methods.includes('password')) {
    const u = auth.identity.password?.user;
    if (!u) throw badRequest('Expecting to find password in identity.');
    if (!u.id && !u.name) throw badRequest('Expecting to find user id or name in password.');
    result = await id.authenticate({
      method: 'password',
      ...(u.id ? { userId: u.id } : {}),
      ...(u.name ? { userName: u.name } : {}),
      ...(u.domain?.id || u.domain?.name ? { userDomain: u.domain.id ?? u.domain.name } : {}),
      password: u.password,
      scope,
      noCatalog,
    });
  } else if (methods.includes('token')) {
    const t = auth.identity.token;
    if (!t) throw badRequest('Expecting to find token in identity.');
    result = await id.authenticate({ method: 'token', tokenId: t.id, scope, noCatalog });
  } else if (methods.includes('application_credential')) {
    const a = auth.identity.application_credential;
    if (!a) throw badRequest('Expecting to find application_credential in identity.');
    result = await id.authenticate({
      method: 'application_credential',
      ...(a.id ? { id: a.id } : {}),
      ...(a.name ? { name: a.name } : {}),
      ...(a.user?.id ? { userId: a.user.id } : {}),
      ...(a.user?.name ? { userName: a.user.name } : {}),
      ...(a.user?.domain?.id || a.user?.domain?.name ? { userDomain: a.user.domain.id ?? a.user.domain.name } : {}),
      secret: a.secret,
      noCatalog,
    });
  } else {
    throw unauthorized(`Attempted to authenticate with an unsupported method: ${methods.join(', ')}.`);
  }
  send(c.res, 201, { token: result.body }, { 'x-subject-token': result.tokenId });
});

// Validation is the hot path: core hands back the same body object while nothing
// changed, so its JSON is serialized once.
const serialized = new WeakMap<object, string>();
function tokenJson(body: id.KeystoneTokenBody): string {
  let text = serialized.get(body);
  if (text === undefined) {
    text = JSON.stringify({ token: body });
    serialized.set(body, text);
  }
  return text;
}

function subject(c: RouteContext): string {
  const t = header(c.req, 'x-subject-token');
  if (!t) throw badRequest('X-Subject-Token header is required.');
  return t;
}

route('GET', '/v3/auth/tokens', async (c) => {
  const ctx = await requireAuth(c.req);
  const token = subject(c);
  const { body } = await id.validateSubjectToken(ctx, token, { noCatalog: queryFlag(c.url, 'nocatalog') });
  if (c.req.method === 'HEAD') send(c.res, 200, undefined, { 'x-subject-token': token });
  else sendText(c.res, 200, tokenJson(body), { 'x-subject-token': token });
});
route('HEAD', '/v3/auth/tokens', async (c) => {
  const ctx = await requireAuth(c.req);
  const token = subject(c);
  await id.validateSubjectToken(ctx, token, { noCatalog: true });
  send(c.res, 200, undefined, { 'x-subject-token': token });
});
route('DELETE', '/v3/auth/tokens', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.revokeToken(ctx, subject(c));
  send(c.res, 204);
});

route('GET', '/v3/auth/catalog', async (c) => {
  const ctx = await requireAuth(c.req);
  const catalog = ctx.projectId || ctx.domainScopeId || ctx.system ? await id.getCatalog(ctx.projectId) : [];
  send(c.res, 200, { catalog, links: { self: `${v3(c)}/auth/catalog`, previous: null, next: null } });
});
route('GET', '/v3/auth/projects', async (c) => {
  const ctx = await requireAuth(c.req);
  const items = await id.listUserProjects(ctx);
  send(
    c.res,
    200,
    collection(
      'projects',
      v3(c),
      '/auth/projects',
      items.map((x) => projectJson(v3(c), x)),
      null,
      c.url,
    ),
  );
});
route('GET', '/v3/auth/domains', async (c) => {
  const ctx = await requireAuth(c.req);
  const items = await id.listUserDomains(ctx);
  send(
    c.res,
    200,
    collection(
      'domains',
      v3(c),
      '/auth/domains',
      items.map((x) => domainJson(v3(c), x)),
      null,
      c.url,
    ),
  );
});
route('GET', '/v3/auth/system', async (c) => {
  const ctx = await requireAuth(c.req);
  const system = (await id.hasSystemAccess(ctx)) ? [{ all: true }] : [];
  send(c.res, 200, { system, links: { self: `${v3(c)}/auth/system`, previous: null, next: null } });
});

// ---------------------------------------------------------------- projects

const ProjectBody = z.object({
  name: z.string(),
  domain_id: z.string().nullish(),
  parent_id: z.string().nullish(),
  description: z.string().nullish(),
  enabled: z.boolean().optional(),
  tags: z.array(z.string()).optional(),
  is_domain: z.literal(false).optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});

route('GET', '/v3/projects', async (c) => {
  const ctx = await requireAuth(c.req);
  const page = await id.listProjects(ctx, {
    ...listOpts(c),
    ...nameOpts(c),
    domainId: q(c, 'domain_id'),
    parentId: q(c, 'parent_id'),
    enabled: queryBool(c.url.searchParams.get('enabled')),
  });
  send(
    c.res,
    200,
    collection(
      'projects',
      v3(c),
      '/projects',
      page.items.map((x) => projectJson(v3(c), x)),
      page.next,
      c.url,
    ),
  );
});
route('POST', '/v3/projects', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'project', ProjectBody);
  // A parent_id equal to the domain means "top level", as Keystone clients send it.
  const parentId = b.parent_id && b.parent_id !== (b.domain_id ?? 'default') ? b.parent_id : null;
  const project = await id.createProject(ctx, {
    name: b.name,
    ...(b.domain_id ? { domainId: b.domain_id } : {}),
    parentId,
    description: b.description,
    enabled: b.enabled,
    tags: b.tags,
  });
  send(c.res, 201, { project: projectJson(v3(c), project) });
});
route('GET', '/v3/projects/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  send(c.res, 200, { project: projectJson(v3(c), await id.getProject(ctx, { projectId: p(c, 'id') })) });
});
route('PATCH', '/v3/projects/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'project', ProjectBody.partial());
  const project = await id.updateProject(ctx, {
    projectId: p(c, 'id'),
    name: b.name,
    description: b.description,
    enabled: b.enabled,
    tags: b.tags,
  });
  send(c.res, 200, { project: projectJson(v3(c), project) });
});
route('DELETE', '/v3/projects/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.deleteProject(ctx, { projectId: p(c, 'id') });
  send(c.res, 204);
});

// ---------------------------------------------------------------- users

const UserBody = z.object({
  name: z.string(),
  domain_id: z.string().nullish(),
  password: z.string().nullish(),
  default_project_id: z.string().nullish(),
  email: z.string().nullish(),
  description: z.string().nullish(),
  enabled: z.boolean().optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});
route('GET', '/v3/users', async (c) => {
  const ctx = await requireAuth(c.req);
  const page = await id.listUsers(ctx, {
    ...listOpts(c),
    ...nameOpts(c),
    domainId: q(c, 'domain_id'),
    enabled: queryBool(c.url.searchParams.get('enabled')),
  });
  send(
    c.res,
    200,
    collection(
      'users',
      v3(c),
      '/users',
      page.items.map((x) => userJson(v3(c), x)),
      page.next,
      c.url,
    ),
  );
});
route('POST', '/v3/users', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'user', UserBody);
  const user = await id.createUser(ctx, {
    name: b.name,
    ...(b.domain_id ? { domainId: b.domain_id } : {}),
    password: b.password,
    defaultProjectId: b.default_project_id,
    email: b.email,
    description: b.description,
    enabled: b.enabled,
  });
  send(c.res, 201, { user: userJson(v3(c), user) });
});
route('GET', '/v3/users/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  send(c.res, 200, { user: userJson(v3(c), await id.getUser(ctx, { userId: p(c, 'id') })) });
});
route('PATCH', '/v3/users/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'user', UserBody.partial());
  const user = await id.updateUser(ctx, {
    userId: p(c, 'id'),
    name: b.name,
    password: b.password,
    defaultProjectId: b.default_project_id,
    email: b.email,
    description: b.description,
    enabled: b.enabled,
  });
  send(c.res, 200, { user: userJson(v3(c), user) });
});
route('DELETE', '/v3/users/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.deleteUser(ctx, { userId: p(c, 'id') });
  send(c.res, 204);
});
route('POST', '/v3/users/:id/password', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'user', z.object({ password: z.string().min(1), original_password: z.string() }));
  await id.changePassword(ctx, { userId: p(c, 'id'), originalPassword: b.original_password, password: b.password });
  send(c.res, 204);
});
route('GET', '/v3/users/:id/projects', async (c) => {
  const ctx = await requireAuth(c.req);
  const items = await id.listProjectsForUser(ctx, { userId: p(c, 'id') });
  send(
    c.res,
    200,
    collection(
      'projects',
      v3(c),
      `/users/${p(c, 'id')}/projects`,
      items.map((x) => projectJson(v3(c), x)),
      null,
      c.url,
    ),
  );
});
route('GET', '/v3/users/:id/groups', async (c) => {
  const ctx = await requireAuth(c.req);
  const items = await id.listGroupsForUser(ctx, { userId: p(c, 'id') });
  send(
    c.res,
    200,
    collection(
      'groups',
      v3(c),
      `/users/${p(c, 'id')}/groups`,
      items.map((x) => groupJson(v3(c), x)),
      null,
      c.url,
    ),
  );
});

// application credentials
const AppCredBody = z.object({
  name: z.string(),
  description: z.string().nullish(),
  secret: z.string().nullish(),
  expires_at: z.string().nullish(),
  roles: z.array(z.object({ id: z.string().optional(), name: z.string().optional() })).optional(),
  unrestricted: z.boolean().optional(),
  access_rules: z
    .array(
      z.object({
        id: z.string().optional(),
        service: z.string(),
        method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
        path: z.string(),
      }),
    )
    .nullish(),
});
route('GET', '/v3/users/:id/application_credentials', async (c) => {
  const ctx = await requireAuth(c.req);
  const items = await id.listApplicationCredentials(ctx, { userId: p(c, 'id'), name: q(c, 'name') });
  send(
    c.res,
    200,
    collection(
      'application_credentials',
      v3(c),
      `/users/${p(c, 'id')}/application_credentials`,
      items.map((x) => appCredJson(v3(c), x)),
      null,
      c.url,
    ),
  );
});
route('POST', '/v3/users/:id/application_credentials', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'application_credential', AppCredBody);
  let expiresAt: Date | null = null;
  if (b.expires_at) {
    expiresAt = new Date(
      b.expires_at.endsWith('Z') || /[+-]\d\d:?\d\d$/.test(b.expires_at) ? b.expires_at : `${b.expires_at}Z`,
    );
    if (Number.isNaN(expiresAt.getTime())) throw badRequest('expires_at is not a valid timestamp.');
  }
  const ac = await id.createApplicationCredential(ctx, {
    userId: p(c, 'id'),
    name: b.name,
    description: b.description,
    secret: b.secret,
    expiresAt,
    roles: b.roles,
    unrestricted: b.unrestricted,
    accessRules: b.access_rules,
  });
  send(c.res, 201, { application_credential: appCredJson(v3(c), ac) });
});
route('GET', '/v3/users/:id/application_credentials/:ac', async (c) => {
  const ctx = await requireAuth(c.req);
  const ac = await id.getApplicationCredential(ctx, { userId: p(c, 'id'), applicationCredentialId: p(c, 'ac') });
  send(c.res, 200, { application_credential: appCredJson(v3(c), ac) });
});
route('DELETE', '/v3/users/:id/application_credentials/:ac', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.deleteApplicationCredential(ctx, { userId: p(c, 'id'), applicationCredentialId: p(c, 'ac') });
  send(c.res, 204);
});

// ---------------------------------------------------------------- groups

const GroupBody = z.object({ name: z.string(), domain_id: z.string().nullish(), description: z.string().nullish() });
route('GET', '/v3/groups', async (c) => {
  const ctx = await requireAuth(c.req);
  const page = await id.listGroups(ctx, { ...listOpts(c), ...nameOpts(c), domainId: q(c, 'domain_id') });
  send(
    c.res,
    200,
    collection(
      'groups',
      v3(c),
      '/groups',
      page.items.map((x) => groupJson(v3(c), x)),
      page.next,
      c.url,
    ),
  );
});
route('POST', '/v3/groups', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'group', GroupBody);
  const g = await id.createGroup(ctx, {
    name: b.name,
    ...(b.domain_id ? { domainId: b.domain_id } : {}),
    description: b.description,
  });
  send(c.res, 201, { group: groupJson(v3(c), g) });
});
route('GET', '/v3/groups/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  send(c.res, 200, { group: groupJson(v3(c), await id.getGroup(ctx, { groupId: p(c, 'id') })) });
});
route('PATCH', '/v3/groups/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'group', GroupBody.partial());
  send(c.res, 200, {
    group: groupJson(
      v3(c),
      await id.updateGroup(ctx, { groupId: p(c, 'id'), name: b.name, description: b.description }),
    ),
  });
});
route('DELETE', '/v3/groups/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.deleteGroup(ctx, { groupId: p(c, 'id') });
  send(c.res, 204);
});
route('GET', '/v3/groups/:id/users', async (c) => {
  const ctx = await requireAuth(c.req);
  const items = await id.listGroupUsers(ctx, { groupId: p(c, 'id') });
  send(
    c.res,
    200,
    collection(
      'users',
      v3(c),
      `/groups/${p(c, 'id')}/users`,
      items.map((x) => userJson(v3(c), x)),
      null,
      c.url,
    ),
  );
});
route('PUT', '/v3/groups/:id/users/:user', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.addUserToGroup(ctx, { groupId: p(c, 'id'), userId: p(c, 'user') });
  send(c.res, 204);
});
route('HEAD', '/v3/groups/:id/users/:user', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.checkUserInGroup(ctx, { groupId: p(c, 'id'), userId: p(c, 'user') });
  send(c.res, 204);
});
route('GET', '/v3/groups/:id/users/:user', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.checkUserInGroup(ctx, { groupId: p(c, 'id'), userId: p(c, 'user') });
  send(c.res, 204);
});
route('DELETE', '/v3/groups/:id/users/:user', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.removeUserFromGroup(ctx, { groupId: p(c, 'id'), userId: p(c, 'user') });
  send(c.res, 204);
});

// ---------------------------------------------------------------- roles

const RoleBody = z.object({
  name: z.string(),
  description: z.string().nullish(),
  domain_id: z.null().optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});
route('GET', '/v3/roles', async (c) => {
  const ctx = await requireAuth(c.req);
  const page = await id.listRoles(ctx, { ...listOpts(c), ...nameOpts(c), domainId: q(c, 'domain_id') });
  send(
    c.res,
    200,
    collection(
      'roles',
      v3(c),
      '/roles',
      page.items.map((x) => roleJson(v3(c), x)),
      page.next,
      c.url,
    ),
  );
});
route('POST', '/v3/roles', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'role', RoleBody);
  send(c.res, 201, { role: roleJson(v3(c), await id.createRole(ctx, { name: b.name, description: b.description })) });
});
route('GET', '/v3/roles/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  send(c.res, 200, { role: roleJson(v3(c), await id.getRole(ctx, { roleId: p(c, 'id') })) });
});
route('PATCH', '/v3/roles/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'role', RoleBody.partial());
  send(c.res, 200, {
    role: roleJson(v3(c), await id.updateRole(ctx, { roleId: p(c, 'id'), name: b.name, description: b.description })),
  });
});
route('DELETE', '/v3/roles/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.deleteRole(ctx, { roleId: p(c, 'id') });
  send(c.res, 204);
});

// ---------------------------------------------------------------- grants

type GrantTarget = { projectId?: string; domainId?: string; system?: boolean };
function grantRoutes(base: string, target: (c: RouteContext) => GrantTarget) {
  for (const actor of ['users', 'groups'] as const) {
    const actorOf = (c: RouteContext) => (actor === 'users' ? { userId: p(c, 'actor') } : { groupId: p(c, 'actor') });
    route('GET', `${base}/${actor}/:actor/roles`, async (c) => {
      const ctx = await requireAuth(c.req);
      const t = target(c);
      const list = await id.listRoleAssignments(ctx, { ...actorOf(c), ...t, includeNames: true });
      const roles = list
        .filter((a) => (actor === 'users' ? a.user : a.group))
        .map((a) => ({ id: a.role.id, name: a.role.name ?? '', domainId: null, description: '' }));
      send(
        c.res,
        200,
        collection(
          'roles',
          v3(c),
          c.path.replace(/^\/v3/, ''),
          roles.map((r) => roleJson(v3(c), r)),
          null,
          c.url,
        ),
      );
    });
    route('PUT', `${base}/${actor}/:actor/roles/:role`, async (c) => {
      const ctx = await requireAuth(c.req);
      await id.assignRole(ctx, { roleId: p(c, 'role'), ...actorOf(c), ...target(c) });
      send(c.res, 204);
    });
    route('GET', `${base}/${actor}/:actor/roles/:role`, async (c) => {
      const ctx = await requireAuth(c.req);
      await id.checkRoleAssignment(ctx, { roleId: p(c, 'role'), ...actorOf(c), ...target(c) });
      send(c.res, 204);
    });
    route('DELETE', `${base}/${actor}/:actor/roles/:role`, async (c) => {
      const ctx = await requireAuth(c.req);
      await id.unassignRole(ctx, { roleId: p(c, 'role'), ...actorOf(c), ...target(c) });
      send(c.res, 204);
    });
  }
}
grantRoutes('/v3/projects/:target', (c) => ({ projectId: p(c, 'target') }));
grantRoutes('/v3/domains/:target', (c) => ({ domainId: p(c, 'target') }));
grantRoutes('/v3/system', () => ({ system: true }));

route('GET', '/v3/role_assignments', async (c) => {
  const ctx = await requireAuth(c.req);
  const list = await id.listRoleAssignments(ctx, {
    userId: q(c, 'user.id'),
    groupId: q(c, 'group.id'),
    projectId: q(c, 'scope.project.id'),
    domainId: q(c, 'scope.domain.id'),
    system: q(c, 'scope.system') !== undefined ? true : undefined,
    roleId: q(c, 'role.id'),
    effective: queryFlag(c.url, 'effective'),
    includeNames: queryFlag(c.url, 'include_names'),
  });
  send(
    c.res,
    200,
    collection(
      'role_assignments',
      v3(c),
      '/role_assignments',
      list.map((a) => assignmentJson(v3(c), a)),
      null,
      c.url,
    ),
  );
});

// ---------------------------------------------------------------- domains

const DomainBody = z.object({
  name: z.string(),
  description: z.string().nullish(),
  enabled: z.boolean().optional(),
  tags: z.array(z.string()).optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});
route('GET', '/v3/domains', async (c) => {
  const ctx = await requireAuth(c.req);
  const page = await id.listDomains(ctx, {
    ...listOpts(c),
    ...nameOpts(c),
    enabled: queryBool(c.url.searchParams.get('enabled')),
  });
  send(
    c.res,
    200,
    collection(
      'domains',
      v3(c),
      '/domains',
      page.items.map((x) => domainJson(v3(c), x)),
      page.next,
      c.url,
    ),
  );
});
route('POST', '/v3/domains', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'domain', DomainBody);
  send(c.res, 201, {
    domain: domainJson(
      v3(c),
      await id.createDomain(ctx, { name: b.name, description: b.description, enabled: b.enabled }),
    ),
  });
});
route('GET', '/v3/domains/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  send(c.res, 200, { domain: domainJson(v3(c), await id.getDomain(ctx, { domainId: p(c, 'id') })) });
});
route('PATCH', '/v3/domains/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'domain', DomainBody.partial());
  send(c.res, 200, {
    domain: domainJson(
      v3(c),
      await id.updateDomain(ctx, {
        domainId: p(c, 'id'),
        name: b.name,
        description: b.description,
        enabled: b.enabled,
      }),
    ),
  });
});
route('DELETE', '/v3/domains/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.deleteDomain(ctx, { domainId: p(c, 'id') });
  send(c.res, 204);
});

// ---------------------------------------------------------------- catalog

const RegionBody = z.object({
  id: z.string().optional(),
  description: z.string().nullish(),
  parent_region_id: z.string().nullish(),
});
route('GET', '/v3/regions', async (c) => {
  const ctx = await requireAuth(c.req);
  const page = await id.listRegions(ctx, { ...listOpts(c), parentRegionId: q(c, 'parent_region_id') });
  send(
    c.res,
    200,
    collection(
      'regions',
      v3(c),
      '/regions',
      page.items.map((x) => regionJson(v3(c), x)),
      page.next,
      c.url,
    ),
  );
});
route('POST', '/v3/regions', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'region', RegionBody);
  send(c.res, 201, {
    region: regionJson(
      v3(c),
      await id.createRegion(ctx, { id: b.id, description: b.description, parentRegionId: b.parent_region_id }),
    ),
  });
});
route('PUT', '/v3/regions/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'region', RegionBody);
  send(c.res, 201, {
    region: regionJson(
      v3(c),
      await id.createRegion(ctx, { id: p(c, 'id'), description: b.description, parentRegionId: b.parent_region_id }),
    ),
  });
});
route('GET', '/v3/regions/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  send(c.res, 200, { region: regionJson(v3(c), await id.getRegion(ctx, { regionId: p(c, 'id') })) });
});
route('PATCH', '/v3/regions/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'region', RegionBody.partial());
  send(c.res, 200, {
    region: regionJson(
      v3(c),
      await id.updateRegion(ctx, {
        regionId: p(c, 'id'),
        description: b.description,
        parentRegionId: b.parent_region_id,
      }),
    ),
  });
});
route('DELETE', '/v3/regions/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.deleteRegion(ctx, { regionId: p(c, 'id') });
  send(c.res, 204);
});

const ServiceBody = z.object({
  type: z.string(),
  name: z.string().optional(),
  description: z.string().nullish(),
  enabled: z.boolean().optional(),
});
route('GET', '/v3/services', async (c) => {
  const ctx = await requireAuth(c.req);
  const page = await id.listServices(ctx, { ...listOpts(c), type: q(c, 'type'), name: q(c, 'name') });
  send(
    c.res,
    200,
    collection(
      'services',
      v3(c),
      '/services',
      page.items.map((x) => serviceJson(v3(c), x)),
      page.next,
      c.url,
    ),
  );
});
route('POST', '/v3/services', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'service', ServiceBody);
  send(c.res, 201, { service: serviceJson(v3(c), await id.createService(ctx, b)) });
});
route('GET', '/v3/services/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  send(c.res, 200, { service: serviceJson(v3(c), await id.getService(ctx, { serviceId: p(c, 'id') })) });
});
route('PATCH', '/v3/services/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'service', ServiceBody.partial());
  send(c.res, 200, { service: serviceJson(v3(c), await id.updateService(ctx, { serviceId: p(c, 'id'), ...b })) });
});
route('DELETE', '/v3/services/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.deleteService(ctx, { serviceId: p(c, 'id') });
  send(c.res, 204);
});

const EndpointBody = z.object({
  service_id: z.string(),
  region_id: z.string().nullish(),
  region: z.string().nullish(),
  interface: z.enum(['public', 'internal', 'admin']),
  url: z.string(),
  enabled: z.boolean().optional(),
});
route('GET', '/v3/endpoints', async (c) => {
  const ctx = await requireAuth(c.req);
  const page = await id.listEndpoints(ctx, {
    ...listOpts(c),
    serviceId: q(c, 'service_id'),
    interface: q(c, 'interface'),
    regionId: q(c, 'region_id'),
  });
  send(
    c.res,
    200,
    collection(
      'endpoints',
      v3(c),
      '/endpoints',
      page.items.map((x) => endpointJson(v3(c), x)),
      page.next,
      c.url,
    ),
  );
});
route('POST', '/v3/endpoints', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'endpoint', EndpointBody);
  const e = await id.createEndpoint(ctx, {
    serviceId: b.service_id,
    regionId: b.region_id ?? b.region,
    interface: b.interface,
    url: b.url,
    enabled: b.enabled,
  });
  send(c.res, 201, { endpoint: endpointJson(v3(c), e) });
});
route('GET', '/v3/endpoints/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  send(c.res, 200, { endpoint: endpointJson(v3(c), await id.getEndpoint(ctx, { endpointId: p(c, 'id') })) });
});
route('PATCH', '/v3/endpoints/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'endpoint', EndpointBody.partial());
  const e = await id.updateEndpoint(ctx, {
    endpointId: p(c, 'id'),
    serviceId: b.service_id,
    regionId: b.region_id ?? b.region,
    interface: b.interface,
    url: b.url,
    enabled: b.enabled,
  });
  send(c.res, 200, { endpoint: endpointJson(v3(c), e) });
});
route('DELETE', '/v3/endpoints/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await id.deleteEndpoint(ctx, { endpointId: p(c, 'id') });
  send(c.res, 204);
});

// ---------------------------------------------------------------- policy

function requirePolicyReader(ctx: AuthContext): void {
  id.enforce(ctx, 'identity:list_policies');
}
/** The effective policy, as a Keystone policy blob (openstack policy list/show) … */
route('GET', '/v3/policies', async (c) => {
  const ctx = await requireAuth(c.req);
  requirePolicyReader(ctx);
  const blob = JSON.stringify(Object.fromEntries(id.listPolicies().map((r) => [r.name, r.rule])));
  const policy = { id: 'effective', type: 'application/json', blob, links: { self: `${v3(c)}/policies/effective` } };
  send(c.res, 200, collection('policies', v3(c), '/policies', [policy], null, c.url));
});
route('GET', '/v3/policies/effective', async (c) => {
  const ctx = await requireAuth(c.req);
  requirePolicyReader(ctx);
  const blob = JSON.stringify(Object.fromEntries(id.listPolicies().map((r) => [r.name, r.rule])));
  send(c.res, 200, {
    policy: { id: 'effective', type: 'application/json', blob, links: { self: `${v3(c)}/policies/effective` } },
  });
});
/** … and with defaults and override flags (GET /identity/v3/stratus/policy). */
route('GET', '/v3/stratus/policy', async (c) => {
  const ctx = await requireAuth(c.req);
  requirePolicyReader(ctx);
  send(c.res, 200, { rules: id.listPolicies(), generated_at: keystoneTime(Date.now()) });
});

registerEc2Routes(route, v3);

export const identityMount: RestMount = { prefix: PREFIX, handler: router.handler };
