import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newRequestId, stopRevocationListener, withRequestContext } from '@stratus/core';
import { setupIdentityTest, TEST_ADMIN_PASSWORD, unique } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../../../test/helpers.ts';
import { identityMount } from './index.ts';

let server: Server;
let base: string;
let adminToken: string;

type Json = Record<string, any>;

async function call(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(opts.token ? { 'x-auth-token': opts.token } : {}),
      ...(opts.body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}),
      ...opts.headers,
    },
    body: opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
  });
  const text = await res.text();
  const json: Json = text ? (JSON.parse(text) as Json) : {};
  return { status: res.status, json, headers: res.headers };
}

const passwordAuth = (name: string, password: string, project?: string) => ({
  auth: {
    identity: { methods: ['password'], password: { user: { name, domain: { name: 'Default' }, password } } },
    ...(project ? { scope: { project: { name: project, domain: { name: 'Default' } } } } : {}),
  },
});

async function login(name: string, password: string, project?: string): Promise<string> {
  const r = await call('POST', '/identity/v3/auth/tokens', { body: passwordAuth(name, password, project) });
  expect(r.status).toBe(201);
  return r.headers.get('x-subject-token') ?? '';
}

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  server = createServer((req, res) => {
    const requestId = newRequestId();
    res.setHeader('x-openstack-request-id', requestId);
    withRequestContext({ requestId }, () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      void identityMount.handler(req, res, url).then((handled) => {
        if (handled === false) {
          res.writeHead(404);
          res.end();
        }
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  adminToken = await login('admin', TEST_ADMIN_PASSWORD, 'admin');
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await stopRevocationListener();
});

describe('Keystone v3 REST', () => {
  it('version discovery: 300 at /identity, the v3 document at /identity/v3', async () => {
    const root = await call('GET', '/identity');
    expect(root.status).toBe(300);
    expect(root.json.versions.values[0]).toMatchObject({ id: 'v3.14', status: 'stable' });
    const v3 = await call('GET', '/identity/v3');
    expect(v3.status).toBe(200);
    expect(v3.json.version.links[0].href).toBe(`${base}/identity/v3/`);
    expect(v3.json.version['media-types'][0].type).toBe('application/vnd.openstack.identity-v3+json');
    expect(v3.headers.get('x-openstack-request-id')).toMatch(/^req-/);
  });

  it('issues, validates (GET/HEAD) and revokes tokens like Keystone', async () => {
    const r = await call('POST', '/identity/v3/auth/tokens', {
      body: passwordAuth('admin', TEST_ADMIN_PASSWORD, 'admin'),
    });
    expect(r.status).toBe(201);
    const token = r.headers.get('x-subject-token') ?? '';
    expect(token.length).toBeGreaterThan(100);
    const t = r.json.token;
    expect(t.methods).toEqual(['password']);
    expect(t.user).toMatchObject({ name: 'admin', domain: { id: 'default', name: 'Default' } });
    expect(t.project.name).toBe('admin');
    expect(t.roles.map((x: Json) => x.name).sort()).toEqual(['admin', 'member', 'reader']);
    expect(t.audit_ids).toHaveLength(1);
    expect(t.catalog.find((s: Json) => s.type === 'identity').endpoints).toHaveLength(3);

    const v = await call('GET', '/identity/v3/auth/tokens', {
      token: adminToken,
      headers: { 'x-subject-token': token },
    });
    expect(v.status).toBe(200);
    expect(v.headers.get('x-subject-token')).toBe(token);
    expect(v.json.token.user.name).toBe('admin');
    const nocat = await call('GET', '/identity/v3/auth/tokens?nocatalog', {
      token: adminToken,
      headers: { 'x-subject-token': token },
    });
    expect(nocat.json.token.catalog).toBeUndefined();
    expect(
      (await call('HEAD', '/identity/v3/auth/tokens', { token: adminToken, headers: { 'x-subject-token': token } }))
        .status,
    ).toBe(200);

    expect(
      (await call('DELETE', '/identity/v3/auth/tokens', { token: adminToken, headers: { 'x-subject-token': token } }))
        .status,
    ).toBe(204);
    const after = await call('GET', '/identity/v3/auth/tokens', {
      token: adminToken,
      headers: { 'x-subject-token': token },
    });
    expect(after.status).toBe(404);
    expect(after.json.error).toMatchObject({ code: 404, title: 'Not Found' });
    const asCaller = await call('GET', '/identity/v3/projects', { token });
    expect(asCaller.status).toBe(401);
    expect(asCaller.json.error).toMatchObject({ code: 401, title: 'Unauthorized' });
  });

  it('answers errors in Keystone shape with the right status, never 500', async () => {
    const cases: Array<
      [string, string, { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> }, number]
    > = [
      ['POST', '/identity/v3/auth/tokens', { raw: '{"auth": ' }, 400],
      ['POST', '/identity/v3/auth/tokens', { raw: '[1,2]' }, 400],
      ['POST', '/identity/v3/auth/tokens', { body: {} }, 400],
      ['POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['password'] } } } }, 400],
      ['POST', '/identity/v3/auth/tokens', { body: passwordAuth('admin', 'wrong') }, 401],
      ['POST', '/identity/v3/auth/tokens', { body: passwordAuth('nobody-at-all', 'wrong') }, 401],
      [
        'POST',
        '/identity/v3/auth/tokens',
        { body: { auth: { identity: { methods: ['token'], token: { id: 'garbage' } } } } },
        401,
      ],
      ['POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['totp'] } } } }, 401],
      ['GET', '/identity/v3/projects', {}, 401],
      ['GET', '/identity/v3/projects', { token: 'garbage' }, 401],
      ['GET', '/identity/v3/projects', { token: 'A'.repeat(200) }, 401],
      ['GET', '/identity/v3/auth/tokens', { token: adminToken }, 400],
      ['GET', '/identity/v3/auth/tokens', { token: adminToken, headers: { 'x-subject-token': 'garbage' } }, 404],
      ['GET', '/identity/v3/projects/does-not-exist', { token: adminToken }, 404],
      ['POST', '/identity/v3/projects', { token: adminToken, body: { project: {} } }, 400],
      ['POST', '/identity/v3/projects', { token: adminToken, body: { nothing: 1 } }, 400],
      ['POST', '/identity/v3/projects', { token: adminToken, body: { project: { name: 'admin' } } }, 409],
      ['PUT', '/identity/v3/projects', { token: adminToken }, 405],
      ['GET', '/identity/v3/nothing-here', { token: adminToken }, 404],
      ['GET', '/identity/v3/projects?limit=abc', { token: adminToken }, 400],
    ];
    for (const [method, path, opts, status] of cases) {
      const r = await call(method, path, opts);
      expect(r.status, `${method} ${path} ${JSON.stringify(opts.body ?? opts.raw ?? '')}`).toBe(status);
      expect(r.json.error).toMatchObject({ code: status });
      expect(typeof r.json.error.message).toBe('string');
      expect(typeof r.json.error.title).toBe('string');
    }
    const big = await call('POST', '/identity/v3/auth/tokens', {
      raw: JSON.stringify({ x: 'y'.repeat(2 * 1024 * 1024) }),
    });
    expect(big.status).toBe(413);
  });

  it('runs the openstack CLI flow: project, user, role add, role assignment list', async () => {
    const pname = unique('cli-proj');
    const uname = unique('cli-user');
    const p = await call('POST', '/identity/v3/projects', {
      token: adminToken,
      body: { project: { name: pname, enabled: true, options: {}, tags: [] } },
    });
    expect(p.status).toBe(201);
    expect(p.json.project).toMatchObject({ name: pname, domain_id: 'default', parent_id: 'default', is_domain: false });
    expect(p.json.project.links.self).toBe(`${base}/identity/v3/projects/${p.json.project.id}`);
    // find(project): by id → 404, then by name.
    expect((await call('GET', `/identity/v3/projects/${pname}`, { token: adminToken })).status).toBe(404);
    const found = await call('GET', `/identity/v3/projects?name=${pname}`, { token: adminToken });
    expect(found.json.projects).toHaveLength(1);
    expect(found.json.links).toHaveProperty('self');

    const u = await call('POST', '/identity/v3/users', {
      token: adminToken,
      body: {
        user: {
          name: uname,
          password: 'cli-pass-1',
          default_project_id: p.json.project.id,
          enabled: true,
          options: {},
        },
      },
    });
    expect(u.status).toBe(201);
    expect(u.json.user.password).toBeUndefined();
    const role = await call('GET', '/identity/v3/roles?name=member', { token: adminToken });
    const roleId = role.json.roles[0].id;
    const put = await call(
      'PUT',
      `/identity/v3/projects/${p.json.project.id}/users/${u.json.user.id}/roles/${roleId}`,
      { token: adminToken },
    );
    expect(put.status).toBe(204);
    expect(
      (
        await call('HEAD', `/identity/v3/projects/${p.json.project.id}/users/${u.json.user.id}/roles/${roleId}`, {
          token: adminToken,
        })
      ).status,
    ).toBe(204);
    const grants = await call('GET', `/identity/v3/projects/${p.json.project.id}/users/${u.json.user.id}/roles`, {
      token: adminToken,
    });
    expect(grants.json.roles.map((r: Json) => r.name)).toEqual(['member']);

    const ra = await call(
      'GET',
      `/identity/v3/role_assignments?scope.project.id=${p.json.project.id}&include_names=True`,
      { token: adminToken },
    );
    expect(ra.status).toBe(200);
    expect(ra.json.role_assignments).toEqual([
      expect.objectContaining({
        role: { id: roleId, name: 'member' },
        user: { id: u.json.user.id, name: uname, domain: { id: 'default', name: 'Default' } },
        scope: { project: { id: p.json.project.id, name: pname, domain: { id: 'default', name: 'Default' } } },
      }),
    ]);

    // The new user can log in to the project and change their password.
    const ut = await login(uname, 'cli-pass-1', pname);
    const projects = await call('GET', '/identity/v3/auth/projects', { token: ut });
    expect(projects.json.projects.map((x: Json) => x.name)).toEqual([pname]);
    const cat = await call('GET', '/identity/v3/auth/catalog', { token: ut });
    expect(cat.json.catalog.find((s: Json) => s.type === 'object-store').endpoints[0].url).toContain(
      `AUTH_${p.json.project.id}`,
    );
    const pw = await call('POST', `/identity/v3/users/${u.json.user.id}/password`, {
      token: ut,
      body: { user: { password: 'cli-pass-2', original_password: 'cli-pass-1' } },
    });
    expect(pw.status).toBe(204);
    expect((await call('GET', '/identity/v3/auth/projects', { token: ut })).status).toBe(401);
    await login(uname, 'cli-pass-2', pname);

    // Clean up like the CLI does.
    expect(
      (
        await call('DELETE', `/identity/v3/projects/${p.json.project.id}/users/${u.json.user.id}/roles/${roleId}`, {
          token: adminToken,
        })
      ).status,
    ).toBe(204);
    expect((await call('DELETE', `/identity/v3/users/${u.json.user.id}`, { token: adminToken })).status).toBe(204);
    expect((await call('DELETE', `/identity/v3/projects/${p.json.project.id}`, { token: adminToken })).status).toBe(
      204,
    );
  });

  it('lists with filters and marker/limit pagination', async () => {
    const r1 = await call('GET', '/identity/v3/roles?limit=1', { token: adminToken });
    expect(r1.json.roles).toHaveLength(1);
    expect(r1.json.links.next).toContain('marker=');
    const next = new URL(r1.json.links.next);
    const r2 = await call('GET', `${next.pathname}${next.search}`, { token: adminToken });
    expect(r2.json.roles[0].id).not.toBe(r1.json.roles[0].id);
    const enabled = await call('GET', '/identity/v3/projects?enabled=false', { token: adminToken });
    expect(enabled.json.projects.every((p: Json) => p.enabled === false)).toBe(true);
    const regions = await call('GET', '/identity/v3/regions', { token: adminToken });
    expect(regions.json.regions.map((r: Json) => r.id)).toContain('RegionOne');
    const eps = await call('GET', '/identity/v3/endpoints?interface=internal', { token: adminToken });
    expect(eps.json.endpoints.every((e: Json) => e.interface === 'internal')).toBe(true);
    const pol = await call('GET', '/identity/v3/stratus/policy', { token: adminToken });
    expect(pol.json.rules.find((r: Json) => r.name === 'identity:list_projects')).toMatchObject({
      rule: 'rule:admin_required',
      overridden: false,
    });
    const blob = await call('GET', '/identity/v3/policies', { token: adminToken });
    expect(JSON.parse(blob.json.policies[0].blob)['identity:create_project']).toBe('rule:admin_required');
  });

  it("filters by name exactly and with Keystone's string comparisons, on users, projects, groups and roles", async () => {
    const tag = unique('Flt').replace(/-/g, '');
    const names = { web: `${tag}Web_1`, db: `${tag}db-1`, other: `x${tag}web%1` };
    const made: Record<string, Record<string, string>> = { projects: {}, users: {}, groups: {}, roles: {} };
    const singular = { projects: 'project', users: 'user', groups: 'group', roles: 'role' } as const;
    for (const [kind, one] of Object.entries(singular)) {
      for (const [k, name] of Object.entries(names)) {
        const r = await call('POST', `/identity/v3/${kind}`, {
          token: adminToken,
          body: { [one]: { name, ...(kind === 'users' && k === 'db' ? { enabled: false } : {}) } },
        });
        expect(r.status).toBe(201);
        (made[kind] ?? {})[k] = r.json[one].id;
      }
    }
    // Always narrowed to this test's rows (other tests' names end in "-1" too).
    const list = async (kind: string, query: string) => {
      const r = await call('GET', `/identity/v3/${kind}?${query}&name__icontains=${tag}`, { token: adminToken });
      expect(r.status).toBe(200);
      return (r.json[kind] as Json[]).map((x) => x.name as string).sort();
    };
    const q = (k: string, v: string) => `${k}=${encodeURIComponent(v)}`;
    for (const kind of Object.keys(singular)) {
      expect(await list(kind, q('name', names.web))).toEqual([names.web]);
      // Case-sensitive: "web" is only in the third name; "Web" only in the first.
      expect(await list(kind, q('name__contains', `${tag}Web`))).toEqual([names.web]);
      expect(await list(kind, q('name__icontains', `${tag}web`))).toEqual([names.web, names.other].sort());
      expect(await list(kind, q('name__startswith', tag))).toEqual([names.web, names.db].sort());
      expect(await list(kind, q('name__istartswith', tag.toLowerCase()))).toEqual([names.web, names.db].sort());
      expect(await list(kind, q('name__endswith', '-1'))).toEqual([names.db]);
      expect(await list(kind, q('name__iendswith', 'WEB_1'))).toEqual([names.web]);
      // LIKE wildcards in the value match themselves: "_" is not "any character", "%" not "anything".
      expect(await list(kind, q('name__contains', 'b_1'))).toEqual([names.web]);
      expect(await list(kind, q('name__icontains', `${tag}web%`))).toEqual([names.other]);
      // Filters combine (AND), and with marker/limit.
      expect(await list(kind, `${q('name__istartswith', tag)}&${q('name__iendswith', '1')}`)).toEqual(
        [names.web, names.db].sort(),
      );
      const page1 = await call('GET', `/identity/v3/${kind}?${q('name__icontains', tag)}&limit=2`, {
        token: adminToken,
      });
      expect(page1.json[kind]).toHaveLength(2);
      const next = new URL(page1.json.links.next);
      expect(next.searchParams.get('name__icontains')).toBe(tag);
      const page2 = await call('GET', `${next.pathname}${next.search}`, { token: adminToken });
      expect(page2.json[kind]).toHaveLength(1);
    }
    expect(await list('users', `${q('name__startswith', tag)}&enabled=false`)).toEqual([names.db]);
    expect(await list('projects', `${q('name__startswith', tag)}&domain_id=default`)).toEqual(
      [names.web, names.db].sort(),
    );
    expect(await list('groups', `${q('name__startswith', tag)}&domain_id=nope`)).toEqual([]);
    // Roles are global: a domain_id filter asks for domain-specific roles, of which there are none.
    expect(await list('roles', `${q('name__startswith', tag)}&domain_id=default`)).toEqual([]);
    for (const [kind, ids] of Object.entries(made))
      for (const idv of Object.values(ids)) await call('DELETE', `/identity/v3/${kind}/${idv}`, { token: adminToken });
  });

  it('isolation: a member of project A cannot see or change anything of project B', async () => {
    const mk = async () => {
      const name = unique('iso');
      const p = (await call('POST', '/identity/v3/projects', { token: adminToken, body: { project: { name } } })).json
        .project;
      const u = (
        await call('POST', '/identity/v3/users', {
          token: adminToken,
          body: { user: { name: `${name}-u`, password: 'iso-pass-1' } },
        })
      ).json.user;
      const role = (await call('GET', '/identity/v3/roles?name=member', { token: adminToken })).json.roles[0];
      await call('PUT', `/identity/v3/projects/${p.id}/users/${u.id}/roles/${role.id}`, { token: adminToken });
      return { p, u, role, token: await login(`${name}-u`, 'iso-pass-1', name) };
    };
    const a = await mk();
    const b = await mk();
    const t = a.token;
    expect((await call('GET', `/identity/v3/projects/${a.p.id}`, { token: t })).status).toBe(200);
    const denied: Array<[string, string, unknown?]> = [
      ['GET', `/identity/v3/projects/${b.p.id}`],
      ['PATCH', `/identity/v3/projects/${b.p.id}`, { project: { name: 'pwned' } }],
      ['DELETE', `/identity/v3/projects/${b.p.id}`],
      ['GET', '/identity/v3/projects'],
      ['GET', `/identity/v3/projects?name=${b.p.name}`],
      ['POST', '/identity/v3/projects', { project: { name: unique('evil') } }],
      ['GET', '/identity/v3/users'],
      ['GET', `/identity/v3/users/${b.u.id}`],
      ['PATCH', `/identity/v3/users/${b.u.id}`, { user: { enabled: false } }],
      ['DELETE', `/identity/v3/users/${b.u.id}`],
      [
        'POST',
        `/identity/v3/users/${b.u.id}/password`,
        { user: { password: 'x-x-x-x', original_password: 'iso-pass-1' } },
      ],
      ['GET', `/identity/v3/users/${b.u.id}/projects`],
      ['GET', `/identity/v3/users/${b.u.id}/application_credentials`],
      ['PUT', `/identity/v3/projects/${b.p.id}/users/${a.u.id}/roles/${a.role.id}`],
      ['DELETE', `/identity/v3/projects/${b.p.id}/users/${b.u.id}/roles/${b.role.id}`],
      ['GET', `/identity/v3/role_assignments?scope.project.id=${b.p.id}`],
      ['GET', '/identity/v3/role_assignments'],
      ['GET', `/identity/v3/role_assignments?user.id=${b.u.id}`],
      ['GET', '/identity/v3/groups'],
      ['GET', '/identity/v3/domains'],
      ['GET', '/identity/v3/services'],
      ['GET', '/identity/v3/stratus/policy'],
    ];
    for (const [method, path, body] of denied) {
      const r = await call(method, path, { token: t, body });
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.json.error.title).toBe('Forbidden');
    }
    const bt = await call('GET', '/identity/v3/auth/tokens', { token: t, headers: { 'x-subject-token': b.token } });
    expect(bt.status).toBe(403);
    expect(
      (await call('DELETE', '/identity/v3/auth/tokens', { token: t, headers: { 'x-subject-token': b.token } })).status,
    ).toBe(403);
    // B is untouched and B's token still works.
    expect((await call('GET', `/identity/v3/projects/${b.p.id}`, { token: b.token })).json.project.name).toBe(b.p.name);
    const ra = await call('GET', `/identity/v3/role_assignments?scope.project.id=${a.p.id}`, { token: t });
    expect(ra.status).toBe(200);
    expect(ra.json.role_assignments.every((x: Json) => x.scope.project.id === a.p.id)).toBe(true);
    expect(
      (await call('GET', '/identity/v3/auth/projects', { token: t })).json.projects.map((x: Json) => x.id),
    ).toEqual([a.p.id]);
  });
});
