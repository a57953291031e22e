import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { newRequestId, stopRevocationListener, withRequestContext } from '@stratus/core';
import {
  adminContext,
  projectWithMember,
  setupIdentityTest,
  TEST_ADMIN_PASSWORD,
  unique,
} from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../../../test/helpers.ts';
import { identityMount } from '../identity/index.ts';
import { placementMount } from './index.ts';

let server: Server;
let base: string;
let token: string;

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function call(
  method: string,
  path: string,
  opts: { body?: unknown; version?: string; token?: string | null } = {},
) {
  const headers: Record<string, string> = {};
  const t = opts.token === undefined ? token : opts.token;
  if (t) headers['x-auth-token'] = t;
  if (opts.version) headers['openstack-api-version'] = `placement ${opts.version}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, {
    method,
    headers,
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  const json: Json = text ? (JSON.parse(text) as Json) : {};
  return { status: res.status, json, headers: res.headers };
}
const v29 = { version: '1.29' };

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  server = createServer((req, res) => {
    const requestId = newRequestId();
    res.setHeader('x-openstack-request-id', requestId);
    withRequestContext({ requestId }, () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const mount = url.pathname.startsWith('/placement') ? placementMount : identityMount;
      void mount.handler(req, res, url);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const r = await fetch(`${base}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { name: 'Default' }, password: TEST_ADMIN_PASSWORD } },
        },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    }),
  });
  token = r.headers.get('x-subject-token') ?? '';
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await stopRevocationListener();
});

describe('Placement REST', () => {
  it('version document without a token; microversion echo, Vary, 406 with max_version, 400 on garbage', async () => {
    const root = await call('GET', '/placement/', { token: null });
    expect(root.status).toBe(200);
    expect(root.json).toEqual({
      versions: [{ id: 'v1.0', min_version: '1.0', max_version: '1.29', status: 'CURRENT', links: [] }],
    });
    expect(root.headers.get('openstack-api-version')).toBe('placement 1.0');
    expect(root.headers.get('vary')).toBe('openstack-api-version');
    const neg = await call('GET', '/placement', { token: null, ...v29 });
    expect(neg.status).toBe(200);
    expect(neg.headers.get('openstack-api-version')).toBe('placement 1.29');
    const high = await call('GET', '/placement/', { token: null, version: '1.39' });
    expect(high.status).toBe(406);
    expect(high.json.errors[0]).toMatchObject({
      status: 406,
      title: 'Not Acceptable',
      max_version: '1.29',
      min_version: '1.0',
    });
    expect(high.json.errors[0].request_id).toMatch(/^req-/);
    expect((await call('GET', '/placement/', { token: null, version: 'x.y' })).status).toBe(400);
    expect(
      (await call('GET', '/placement/', { token: null, version: 'latest' })).headers.get('openstack-api-version'),
    ).toBe('placement 1.29');
  });

  it('401 without a token, 403 for a member, in placement error shape', async () => {
    const r = await call('GET', '/placement/resource_providers', { token: null });
    expect(r.status).toBe(401);
    expect(r.json.errors[0]).toMatchObject({ status: 401, title: 'Unauthorized' });
    const admin = await adminContext();
    const { auth } = await projectWithMember(admin, 'member');
    const f = await call('GET', '/placement/resource_providers', { token: auth.tokenId });
    expect(f.status).toBe(403);
    expect(f.json.errors[0].code).toBe('placement.undefined_code');
  });

  it('resource providers, inventories, usages, allocations and candidates as osc-placement uses them (1.29)', async () => {
    const name = unique('rp');
    const created = await call('POST', '/placement/resource_providers', { body: { name }, ...v29 });
    expect(created.status).toBe(200);
    const uuid: string = created.json.uuid;
    expect(created.json).toMatchObject({ name, generation: 0, parent_provider_uuid: null, root_provider_uuid: uuid });
    expect(created.json.links.map((l: Json) => l.rel)).toEqual([
      'self',
      'inventories',
      'usages',
      'aggregates',
      'traits',
      'allocations',
    ]);
    expect((await call('POST', '/placement/resource_providers', { body: { name }, ...v29 })).json.errors[0].code).toBe(
      'placement.duplicate_name',
    );
    const old = await call('POST', '/placement/resource_providers', {
      body: { name: unique('rp-old') },
      version: '1.19',
    });
    expect(old.status).toBe(201);
    expect(old.headers.get('location')).toMatch(new RegExp(`^${base}/placement/resource_providers/[0-9a-f-]{36}$`));
    await call('DELETE', (old.headers.get('location') ?? '').slice(base.length), v29);

    const list = await call('GET', `/placement/resource_providers?name=${name}`, v29);
    expect(list.json.resource_providers.map((r: Json) => r.uuid)).toEqual([uuid]);
    expect((await call('GET', `/placement/resource_providers/${uuid}`, v29)).json.name).toBe(name);
    expect((await call('GET', `/placement/resource_providers/${randomUUID()}`, v29)).status).toBe(404);

    const inv = await call('PUT', `/placement/resource_providers/${uuid}/inventories`, {
      body: {
        resource_provider_generation: 0,
        inventories: { VCPU: { total: 8 }, MEMORY_MB: { total: 4096, reserved: 512, allocation_ratio: 1.0 } },
      },
      ...v29,
    });
    expect(inv.status).toBe(200);
    expect(inv.json.resource_provider_generation).toBe(1);
    expect(inv.json.inventories.VCPU).toEqual({
      total: 8,
      reserved: 0,
      min_unit: 1,
      max_unit: 2147483647,
      step_size: 1,
      allocation_ratio: 1,
    });
    const stale = await call('PUT', `/placement/resource_providers/${uuid}/inventories`, {
      body: { resource_provider_generation: 0, inventories: {} },
      ...v29,
    });
    expect(stale.status).toBe(409);
    expect(stale.json.errors[0]).toMatchObject({ status: 409, title: 'Conflict', code: 'placement.concurrent_update' });
    const one = await call('PUT', `/placement/resource_providers/${uuid}/inventories/DISK_GB`, {
      body: { resource_provider_generation: 1, total: 100 },
      ...v29,
    });
    expect(one.json).toMatchObject({ resource_provider_generation: 2, total: 100 });
    expect((await call('GET', `/placement/resource_providers/${uuid}/inventories/DISK_GB`, v29)).json.total).toBe(100);
    expect(
      (await call('PUT', `/placement/resource_providers/${uuid}/inventories`, { body: { inventories: {} }, ...v29 }))
        .status,
    ).toBe(400);

    const cands = await call('GET', `/placement/allocation_candidates?resources=VCPU:1,MEMORY_MB:512&limit=1000`, v29);
    expect(cands.status).toBe(200);
    expect(cands.json.allocation_requests).toContainEqual({
      allocations: { [uuid]: { resources: { VCPU: 1, MEMORY_MB: 512 } } },
    });
    expect(cands.json.provider_summaries[uuid]).toEqual({
      resources: {
        DISK_GB: { capacity: 100, used: 0 },
        MEMORY_MB: { capacity: 3584, used: 0 },
        VCPU: { capacity: 8, used: 0 },
      },
      traits: [],
      parent_provider_uuid: null,
      root_provider_uuid: uuid,
    });
    const listCands = await call('GET', `/placement/allocation_candidates?resources=VCPU:1`, { version: '1.10' });
    expect(
      listCands.json.allocation_requests.find((r: Json) => r.allocations[0].resource_provider.uuid === uuid),
    ).toBeDefined();
    expect(listCands.json.provider_summaries[uuid].resources).toEqual({ VCPU: { capacity: 8, used: 0 } });
    expect((await call('GET', `/placement/allocation_candidates?resources=VCPU`, v29)).json.errors[0].code).toBe(
      'placement.query.bad_value',
    );
    expect((await call('GET', `/placement/allocation_candidates?resources=VCPU:1`, { version: '1.9' })).status).toBe(
      404,
    );

    const consumer = randomUUID();
    const put = (gen: number | null, vcpu: number) =>
      call('PUT', `/placement/allocations/${consumer}`, {
        body: {
          allocations: { [uuid]: { resources: { VCPU: vcpu } } },
          project_id: 'p1',
          user_id: 'u1',
          consumer_generation: gen,
        },
        ...v29,
      });
    expect((await put(null, 2)).status).toBe(204);
    expect((await put(null, 2)).json.errors[0].code).toBe('placement.concurrent_update');
    const over = await put(0, 9);
    expect(over.status).toBe(409);
    expect(over.json.errors[0].detail).toMatch(/exceed the capacity/);
    const got = await call('GET', `/placement/allocations/${consumer}`, v29);
    expect(got.json).toEqual({
      allocations: { [uuid]: { generation: 3, resources: { VCPU: 2 } } },
      project_id: 'p1',
      user_id: 'u1',
      consumer_generation: 0,
    });
    expect((await call('GET', `/placement/resource_providers/${uuid}/usages`, v29)).json).toEqual({
      resource_provider_generation: 3,
      usages: { DISK_GB: 0, MEMORY_MB: 0, VCPU: 2 },
    });
    expect((await call('GET', `/placement/usages?project_id=p1`, v29)).json.usages.VCPU).toBeGreaterThanOrEqual(2);
    expect(
      (await call('GET', `/placement/resource_providers/${uuid}/allocations`, v29)).json.allocations[consumer],
    ).toEqual({ resources: { VCPU: 2 } });
    const c2 = randomUUID();
    const oldPut = await call('PUT', `/placement/allocations/${c2}`, {
      body: { allocations: [{ resource_provider: { uuid }, resources: { VCPU: 1 } }], project_id: 'p1', user_id: 'u1' },
      version: '1.10',
    });
    expect(oldPut.status).toBe(204);
    expect((await call('DELETE', `/placement/resource_providers/${uuid}`, v29)).json.errors[0].code).toBe(
      'placement.resource_provider.inuse',
    );
    expect((await call('DELETE', `/placement/allocations/${consumer}`, v29)).status).toBe(204);
    expect((await call('DELETE', `/placement/allocations/${consumer}`, v29)).status).toBe(404);

    // Usages follow every allocation write (delete above, replacement and move below):
    // always the sum of the provider's allocations.
    const usagesMatch = async (expected: Record<string, number>) => {
      const usages = (await call('GET', `/placement/resource_providers/${uuid}/usages`, v29)).json.usages;
      const allocs = (await call('GET', `/placement/resource_providers/${uuid}/allocations`, v29)).json.allocations;
      const sums: Record<string, number> = { DISK_GB: 0, MEMORY_MB: 0, VCPU: 0 };
      for (const a of Object.values(allocs) as Array<{ resources: Record<string, number> }>)
        for (const [rc, n] of Object.entries(a.resources)) sums[rc] = (sums[rc] ?? 0) + n;
      expect(usages).toEqual(sums);
      expect(usages).toEqual(expected);
    };
    await usagesMatch({ DISK_GB: 0, MEMORY_MB: 0, VCPU: 1 });
    const c3 = randomUUID();
    const moved = await call('POST', '/placement/allocations', {
      body: {
        [c2]: {
          allocations: { [uuid]: { resources: { VCPU: 3, MEMORY_MB: 256 } } },
          project_id: 'p1',
          user_id: 'u1',
          consumer_generation: 0,
        },
        [c3]: {
          allocations: { [uuid]: { resources: { VCPU: 4, DISK_GB: 10 } } },
          project_id: 'p1',
          user_id: 'u1',
          consumer_generation: null,
        },
      },
      ...v29,
    });
    expect(moved.status).toBe(204);
    await usagesMatch({ DISK_GB: 10, MEMORY_MB: 256, VCPU: 7 });
    const tooMuch = await call('PUT', `/placement/allocations/${c3}`, {
      body: {
        allocations: { [uuid]: { resources: { VCPU: 6 } } },
        project_id: 'p1',
        user_id: 'u1',
        consumer_generation: 0,
      },
      ...v29,
    });
    expect(tooMuch.status).toBe(409);
    await usagesMatch({ DISK_GB: 10, MEMORY_MB: 256, VCPU: 7 });
    const shrink = await call('PUT', `/placement/allocations/${c3}`, {
      body: {
        allocations: { [uuid]: { resources: { VCPU: 5 } } },
        project_id: 'p1',
        user_id: 'u1',
        consumer_generation: 0,
      },
      ...v29,
    });
    expect(shrink.status).toBe(204);
    await usagesMatch({ DISK_GB: 0, MEMORY_MB: 256, VCPU: 8 });
    expect((await call('DELETE', `/placement/allocations/${c2}`, v29)).status).toBe(204);
    expect((await call('DELETE', `/placement/allocations/${c3}`, v29)).status).toBe(204);
    await usagesMatch({ DISK_GB: 0, MEMORY_MB: 0, VCPU: 0 });
  });

  it('traits, aggregates, resource classes; filters on the provider list', async () => {
    const { json: rp } = await call('POST', '/placement/resource_providers', { body: { name: unique('rp') }, ...v29 });
    const trait = `CUSTOM_${randomUUID().replace(/-/g, '_').toUpperCase()}`;
    expect((await call('PUT', `/placement/traits/${trait}`, v29)).status).toBe(201);
    expect((await call('PUT', `/placement/traits/${trait}`, v29)).status).toBe(204);
    expect((await call('GET', `/placement/traits/${trait}`, v29)).status).toBe(204);
    expect((await call('GET', `/placement/traits?name=startswith:${trait}`, v29)).json.traits).toEqual([trait]);
    const t = await call('PUT', `/placement/resource_providers/${rp.uuid}/traits`, {
      body: { traits: [trait], resource_provider_generation: 0 },
      ...v29,
    });
    expect(t.json).toEqual({ traits: [trait], resource_provider_generation: 1 });
    const agg = randomUUID();
    const a = await call('PUT', `/placement/resource_providers/${rp.uuid}/aggregates`, {
      body: { aggregates: [agg], resource_provider_generation: 1 },
      ...v29,
    });
    expect(a.json).toEqual({ aggregates: [agg], resource_provider_generation: 2 });
    const legacy = await call('GET', `/placement/resource_providers/${rp.uuid}/aggregates`, { version: '1.1' });
    expect(legacy.json).toEqual({ aggregates: [agg] });
    expect(
      (await call('GET', `/placement/resource_providers?member_of=in:${agg}`, v29)).json.resource_providers.map(
        (r: Json) => r.uuid,
      ),
    ).toEqual([rp.uuid]);
    expect(
      (await call('GET', `/placement/resource_providers?required=${trait}`, v29)).json.resource_providers.map(
        (r: Json) => r.uuid,
      ),
    ).toEqual([rp.uuid]);
    expect(
      (await call('GET', `/placement/resource_providers?required=!${trait}&member_of=${agg}`, v29)).json
        .resource_providers,
    ).toEqual([]);
    expect((await call('DELETE', `/placement/traits/${trait}`, v29)).status).toBe(409);
    expect((await call('DELETE', `/placement/resource_providers/${rp.uuid}/traits`, v29)).status).toBe(204);
    expect((await call('DELETE', `/placement/traits/${trait}`, v29)).status).toBe(204);
    const rc = `CUSTOM_${randomUUID().replace(/-/g, '_').toUpperCase()}`;
    expect((await call('PUT', `/placement/resource_classes/${rc}`, v29)).status).toBe(201);
    expect(
      (await call('GET', `/placement/resource_classes`, v29)).json.resource_classes.map((r: Json) => r.name),
    ).toContain(rc);
    expect((await call('DELETE', `/placement/resource_classes/${rc}`, v29)).status).toBe(204);
    expect((await call('DELETE', `/placement/resource_providers/${rp.uuid}`, v29)).status).toBe(204);
    const nope = await call('PATCH', `/placement/resource_providers`, v29);
    expect(nope.status).toBe(405);
    expect(nope.json.errors[0].status).toBe(405);
  });
});
