import * as id from '@stratus/core';
import { type AuthContext, badRequest, keystoneTime, loadConfig, type Scope, unauthorized } from '@stratus/core';
import { z } from 'zod';
import type { RestMount } from '../../http.ts';
import {
  authedRoutes,
  createRouter,
  header,
  keystoneError,
  parseInput,
  queryBool,
  queryFlag,
  readJson,
  requestBase,
  requireAuth,
  resourceRoutes,
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
/** Routes whose handler gets the caller and returns [status, body]. */
const api = authedRoutes(route);
/** A resource's list, create, show, update and delete, as Keystone answers them. */
const resource = resourceRoutes(route, { created: 201, update: 'PATCH', removed: 204 });

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
/** Keystone's list envelope of shaped items; `next` is the marker of the next page. */
function page<T>(
  c: RouteContext,
  key: string,
  path: string,
  list: { items: T[]; next?: string | null },
  json: (base: string, x: T) => unknown,
) {
  return collection(
    key,
    v3(c),
    path,
    list.items.map((x) => json(v3(c), x)),
    list.next ?? null,
    c.url,
  );
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
api('DELETE', '/v3/auth/tokens', async (c, ctx) => {
  await id.revokeToken(ctx, subject(c));
  return [204];
});

api('GET', '/v3/auth/catalog', async (c, ctx) => {
  const catalog = ctx.projectId || ctx.domainScopeId || ctx.system ? await id.getCatalog(ctx.projectId) : [];
  return [200, { catalog, links: { self: `${v3(c)}/auth/catalog`, previous: null, next: null } }];
});
api('GET', '/v3/auth/projects', async (c, ctx) => [
  200,
  page(c, 'projects', '/auth/projects', { items: await id.listUserProjects(ctx) }, projectJson),
]);
api('GET', '/v3/auth/domains', async (c, ctx) => [
  200,
  page(c, 'domains', '/auth/domains', { items: await id.listUserDomains(ctx) }, domainJson),
]);
api('GET', '/v3/auth/system', async (c, ctx) => {
  const system = (await id.hasSystemAccess(ctx)) ? [{ all: true }] : [];
  return [200, { system, links: { self: `${v3(c)}/auth/system`, previous: null, next: null } }];
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

resource({
  path: '/v3/projects',
  key: 'project',
  list: async (c, ctx) =>
    page(
      c,
      'projects',
      '/projects',
      await id.listProjects(ctx, {
        ...listOpts(c),
        ...nameOpts(c),
        domainId: q(c, 'domain_id'),
        parentId: q(c, 'parent_id'),
        enabled: queryBool(c.url.searchParams.get('enabled')),
      }),
      projectJson,
    ),
  create: async (c, ctx) => {
    const b = await body(c, 'project', ProjectBody);
    // A parent_id equal to the domain means "top level", as Keystone clients send it.
    const parentId = b.parent_id && b.parent_id !== (b.domain_id ?? 'default') ? b.parent_id : null;
    return id.createProject(ctx, {
      name: b.name,
      ...(b.domain_id ? { domainId: b.domain_id } : {}),
      parentId,
      description: b.description,
      enabled: b.enabled,
      tags: b.tags,
    });
  },
  get: (ctx, projectId) => id.getProject(ctx, { projectId }),
  update: async (ctx, projectId, c) => {
    const b = await body(c, 'project', ProjectBody.partial());
    return id.updateProject(ctx, {
      projectId,
      name: b.name,
      description: b.description,
      enabled: b.enabled,
      tags: b.tags,
    });
  },
  remove: (ctx, projectId) => id.deleteProject(ctx, { projectId }),
  show: (x, c) => projectJson(v3(c), x),
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
resource({
  path: '/v3/users',
  key: 'user',
  list: async (c, ctx) =>
    page(
      c,
      'users',
      '/users',
      await id.listUsers(ctx, {
        ...listOpts(c),
        ...nameOpts(c),
        domainId: q(c, 'domain_id'),
        enabled: queryBool(c.url.searchParams.get('enabled')),
      }),
      userJson,
    ),
  create: async (c, ctx) => {
    const b = await body(c, 'user', UserBody);
    return id.createUser(ctx, {
      name: b.name,
      ...(b.domain_id ? { domainId: b.domain_id } : {}),
      password: b.password,
      defaultProjectId: b.default_project_id,
      email: b.email,
      description: b.description,
      enabled: b.enabled,
    });
  },
  get: (ctx, userId) => id.getUser(ctx, { userId }),
  update: async (ctx, userId, c) => {
    const b = await body(c, 'user', UserBody.partial());
    return id.updateUser(ctx, {
      userId,
      name: b.name,
      password: b.password,
      defaultProjectId: b.default_project_id,
      email: b.email,
      description: b.description,
      enabled: b.enabled,
    });
  },
  remove: (ctx, userId) => id.deleteUser(ctx, { userId }),
  show: (x, c) => userJson(v3(c), x),
});
api('POST', '/v3/users/:id/password', async (c, ctx) => {
  const b = await body(c, 'user', z.object({ password: z.string().min(1), original_password: z.string() }));
  await id.changePassword(ctx, { userId: p(c, 'id'), originalPassword: b.original_password, password: b.password });
  return [204];
});
api('GET', '/v3/users/:id/projects', async (c, ctx) => [
  200,
  page(
    c,
    'projects',
    `/users/${p(c, 'id')}/projects`,
    { items: await id.listProjectsForUser(ctx, { userId: p(c, 'id') }) },
    projectJson,
  ),
]);
api('GET', '/v3/users/:id/groups', async (c, ctx) => [
  200,
  page(
    c,
    'groups',
    `/users/${p(c, 'id')}/groups`,
    { items: await id.listGroupsForUser(ctx, { userId: p(c, 'id') }) },
    groupJson,
  ),
]);

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
api('GET', '/v3/users/:id/application_credentials', async (c, ctx) => [
  200,
  page(
    c,
    'application_credentials',
    `/users/${p(c, 'id')}/application_credentials`,
    { items: await id.listApplicationCredentials(ctx, { userId: p(c, 'id'), name: q(c, 'name') }) },
    appCredJson,
  ),
]);
api('POST', '/v3/users/:id/application_credentials', async (c, ctx) => {
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
  return [201, { application_credential: appCredJson(v3(c), ac) }];
});
api('GET', '/v3/users/:id/application_credentials/:ac', async (c, ctx) => {
  const ac = await id.getApplicationCredential(ctx, { userId: p(c, 'id'), applicationCredentialId: p(c, 'ac') });
  return [200, { application_credential: appCredJson(v3(c), ac) }];
});
api('DELETE', '/v3/users/:id/application_credentials/:ac', async (c, ctx) => {
  await id.deleteApplicationCredential(ctx, { userId: p(c, 'id'), applicationCredentialId: p(c, 'ac') });
  return [204];
});

// ---------------------------------------------------------------- groups

const GroupBody = z.object({ name: z.string(), domain_id: z.string().nullish(), description: z.string().nullish() });
resource({
  path: '/v3/groups',
  key: 'group',
  list: async (c, ctx) =>
    page(
      c,
      'groups',
      '/groups',
      await id.listGroups(ctx, { ...listOpts(c), ...nameOpts(c), domainId: q(c, 'domain_id') }),
      groupJson,
    ),
  create: async (c, ctx) => {
    const b = await body(c, 'group', GroupBody);
    return id.createGroup(ctx, {
      name: b.name,
      ...(b.domain_id ? { domainId: b.domain_id } : {}),
      description: b.description,
    });
  },
  get: (ctx, groupId) => id.getGroup(ctx, { groupId }),
  update: async (ctx, groupId, c) => {
    const b = await body(c, 'group', GroupBody.partial());
    return id.updateGroup(ctx, { groupId, name: b.name, description: b.description });
  },
  remove: (ctx, groupId) => id.deleteGroup(ctx, { groupId }),
  show: (x, c) => groupJson(v3(c), x),
});
api('GET', '/v3/groups/:id/users', async (c, ctx) => [
  200,
  page(
    c,
    'users',
    `/groups/${p(c, 'id')}/users`,
    { items: await id.listGroupUsers(ctx, { groupId: p(c, 'id') }) },
    userJson,
  ),
]);
const member = (c: RouteContext) => ({ groupId: p(c, 'id'), userId: p(c, 'user') });
api('PUT', '/v3/groups/:id/users/:user', async (c, ctx) => {
  await id.addUserToGroup(ctx, member(c));
  return [204];
});
for (const method of ['HEAD', 'GET'])
  api(method, '/v3/groups/:id/users/:user', async (c, ctx) => {
    await id.checkUserInGroup(ctx, member(c));
    return [204];
  });
api('DELETE', '/v3/groups/:id/users/:user', async (c, ctx) => {
  await id.removeUserFromGroup(ctx, member(c));
  return [204];
});

// ---------------------------------------------------------------- roles

const RoleBody = z.object({
  name: z.string(),
  description: z.string().nullish(),
  domain_id: z.null().optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});
resource({
  path: '/v3/roles',
  key: 'role',
  list: async (c, ctx) =>
    page(
      c,
      'roles',
      '/roles',
      await id.listRoles(ctx, { ...listOpts(c), ...nameOpts(c), domainId: q(c, 'domain_id') }),
      roleJson,
    ),
  create: async (c, ctx) => {
    const b = await body(c, 'role', RoleBody);
    return id.createRole(ctx, { name: b.name, description: b.description });
  },
  get: (ctx, roleId) => id.getRole(ctx, { roleId }),
  update: async (ctx, roleId, c) => {
    const b = await body(c, 'role', RoleBody.partial());
    return id.updateRole(ctx, { roleId, name: b.name, description: b.description });
  },
  remove: (ctx, roleId) => id.deleteRole(ctx, { roleId }),
  show: (x, c) => roleJson(v3(c), x),
});

// ---------------------------------------------------------------- grants

type GrantTarget = { projectId?: string; domainId?: string; system?: boolean };
function grantRoutes(base: string, target: (c: RouteContext) => GrantTarget) {
  for (const actor of ['users', 'groups'] as const) {
    const actorOf = (c: RouteContext) => (actor === 'users' ? { userId: p(c, 'actor') } : { groupId: p(c, 'actor') });
    const grant = (c: RouteContext) => ({ roleId: p(c, 'role'), ...actorOf(c), ...target(c) });
    api('GET', `${base}/${actor}/:actor/roles`, async (c, ctx) => {
      const list = await id.listRoleAssignments(ctx, { ...actorOf(c), ...target(c), includeNames: true });
      const roles = list
        .filter((a) => (actor === 'users' ? a.user : a.group))
        .map((a) => ({ id: a.role.id, name: a.role.name ?? '', domainId: null, description: '' }));
      return [200, page(c, 'roles', c.path.replace(/^\/v3/, ''), { items: roles }, roleJson)];
    });
    api('PUT', `${base}/${actor}/:actor/roles/:role`, async (c, ctx) => {
      await id.assignRole(ctx, grant(c));
      return [204];
    });
    api('GET', `${base}/${actor}/:actor/roles/:role`, async (c, ctx) => {
      await id.checkRoleAssignment(ctx, grant(c));
      return [204];
    });
    api('DELETE', `${base}/${actor}/:actor/roles/:role`, async (c, ctx) => {
      await id.unassignRole(ctx, grant(c));
      return [204];
    });
  }
}
grantRoutes('/v3/projects/:target', (c) => ({ projectId: p(c, 'target') }));
grantRoutes('/v3/domains/:target', (c) => ({ domainId: p(c, 'target') }));
grantRoutes('/v3/system', () => ({ system: true }));

api('GET', '/v3/role_assignments', async (c, ctx) => {
  const items = await id.listRoleAssignments(ctx, {
    userId: q(c, 'user.id'),
    groupId: q(c, 'group.id'),
    projectId: q(c, 'scope.project.id'),
    domainId: q(c, 'scope.domain.id'),
    system: q(c, 'scope.system') !== undefined ? true : undefined,
    roleId: q(c, 'role.id'),
    effective: queryFlag(c.url, 'effective'),
    includeNames: queryFlag(c.url, 'include_names'),
  });
  return [200, page(c, 'role_assignments', '/role_assignments', { items }, assignmentJson)];
});

// ---------------------------------------------------------------- domains

const DomainBody = z.object({
  name: z.string(),
  description: z.string().nullish(),
  enabled: z.boolean().optional(),
  tags: z.array(z.string()).optional(),
  options: z.record(z.string(), z.unknown()).optional(),
});
resource({
  path: '/v3/domains',
  key: 'domain',
  list: async (c, ctx) =>
    page(
      c,
      'domains',
      '/domains',
      await id.listDomains(ctx, {
        ...listOpts(c),
        ...nameOpts(c),
        enabled: queryBool(c.url.searchParams.get('enabled')),
      }),
      domainJson,
    ),
  create: async (c, ctx) => {
    const b = await body(c, 'domain', DomainBody);
    return id.createDomain(ctx, { name: b.name, description: b.description, enabled: b.enabled });
  },
  get: (ctx, domainId) => id.getDomain(ctx, { domainId }),
  update: async (ctx, domainId, c) => {
    const b = await body(c, 'domain', DomainBody.partial());
    return id.updateDomain(ctx, { domainId, name: b.name, description: b.description, enabled: b.enabled });
  },
  remove: (ctx, domainId) => id.deleteDomain(ctx, { domainId }),
  show: (x, c) => domainJson(v3(c), x),
});

// ---------------------------------------------------------------- catalog

const RegionBody = z.object({
  id: z.string().optional(),
  description: z.string().nullish(),
  parent_region_id: z.string().nullish(),
});
resource({
  path: '/v3/regions',
  key: 'region',
  list: async (c, ctx) =>
    page(
      c,
      'regions',
      '/regions',
      await id.listRegions(ctx, { ...listOpts(c), parentRegionId: q(c, 'parent_region_id') }),
      regionJson,
    ),
  create: async (c, ctx) => {
    const b = await body(c, 'region', RegionBody);
    return id.createRegion(ctx, { id: b.id, description: b.description, parentRegionId: b.parent_region_id });
  },
  get: (ctx, regionId) => id.getRegion(ctx, { regionId }),
  update: async (ctx, regionId, c) => {
    const b = await body(c, 'region', RegionBody.partial());
    return id.updateRegion(ctx, { regionId, description: b.description, parentRegionId: b.parent_region_id });
  },
  remove: (ctx, regionId) => id.deleteRegion(ctx, { regionId }),
  show: (x, c) => regionJson(v3(c), x),
});
// PUT creates a region with the id in the URL (answered 201, as Keystone does).
api('PUT', '/v3/regions/:id', async (c, ctx) => {
  const b = await body(c, 'region', RegionBody);
  const r = await id.createRegion(ctx, {
    id: p(c, 'id'),
    description: b.description,
    parentRegionId: b.parent_region_id,
  });
  return [201, { region: regionJson(v3(c), r) }];
});

const ServiceBody = z.object({
  type: z.string(),
  name: z.string().optional(),
  description: z.string().nullish(),
  enabled: z.boolean().optional(),
});
resource({
  path: '/v3/services',
  key: 'service',
  list: async (c, ctx) =>
    page(
      c,
      'services',
      '/services',
      await id.listServices(ctx, { ...listOpts(c), type: q(c, 'type'), name: q(c, 'name') }),
      serviceJson,
    ),
  create: async (c, ctx) => id.createService(ctx, await body(c, 'service', ServiceBody)),
  get: (ctx, serviceId) => id.getService(ctx, { serviceId }),
  update: async (ctx, serviceId, c) =>
    id.updateService(ctx, { serviceId, ...(await body(c, 'service', ServiceBody.partial())) }),
  remove: (ctx, serviceId) => id.deleteService(ctx, { serviceId }),
  show: (x, c) => serviceJson(v3(c), x),
});

const EndpointBody = z.object({
  service_id: z.string(),
  region_id: z.string().nullish(),
  region: z.string().nullish(),
  interface: z.enum(['public', 'internal', 'admin']),
  url: z.string(),
  enabled: z.boolean().optional(),
});
resource({
  path: '/v3/endpoints',
  key: 'endpoint',
  list: async (c, ctx) =>
    page(
      c,
      'endpoints',
      '/endpoints',
      await id.listEndpoints(ctx, {
        ...listOpts(c),
        serviceId: q(c, 'service_id'),
        interface: q(c, 'interface'),
        regionId: q(c, 'region_id'),
      }),
      endpointJson,
    ),
  create: async (c, ctx) => {
    const b = await body(c, 'endpoint', EndpointBody);
    return id.createEndpoint(ctx, {
      serviceId: b.service_id,
      regionId: b.region_id ?? b.region,
      interface: b.interface,
      url: b.url,
      enabled: b.enabled,
    });
  },
  get: (ctx, endpointId) => id.getEndpoint(ctx, { endpointId }),
  update: async (ctx, endpointId, c) => {
    const b = await body(c, 'endpoint', EndpointBody.partial());
    return id.updateEndpoint(ctx, {
      endpointId,
      serviceId: b.service_id,
      regionId: b.region_id ?? b.region,
      interface: b.interface,
      url: b.url,
      enabled: b.enabled,
    });
  },
  remove: (ctx, endpointId) => id.deleteEndpoint(ctx, { endpointId }),
  show: (x, c) => endpointJson(v3(c), x),
});

// ---------------------------------------------------------------- policy

/** The effective policy, as a Keystone policy blob (openstack policy list/show) … */
function effectivePolicy(c: RouteContext, ctx: AuthContext) {
  id.enforce(ctx, 'identity:list_policies');
  const blob = JSON.stringify(Object.fromEntries(id.listPolicies().map((r) => [r.name, r.rule])));
  return { id: 'effective', type: 'application/json', blob, links: { self: `${v3(c)}/policies/effective` } };
}
api('GET', '/v3/policies', async (c, ctx) => [
  200,
  collection('policies', v3(c), '/policies', [effectivePolicy(c, ctx)], null, c.url),
]);
api('GET', '/v3/policies/effective', async (c, ctx) => [200, { policy: effectivePolicy(c, ctx) }]);
/** … and with defaults and override flags (GET /identity/v3/stratus/policy). */
api('GET', '/v3/stratus/policy', async (_c, ctx) => {
  id.enforce(ctx, 'identity:list_policies');
  return [200, { rules: id.listPolicies(), generated_at: keystoneTime(Date.now()) }];
});

registerEc2Routes(api, v3);

export const identityMount: RestMount = { prefix: PREFIX, handler: router.handler };
