import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuthContext, heartbeat, newRequestId, stopRevocationListener, withRequestContext } from '@stratus/core';
import { getPrisma } from '@stratus/db';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_IMAGE_ID, useFakeImage } from '../../../../../worker/src/jobs/compute/test-support.ts';
import { testDb, waitFor } from '../../../../../../test/helpers.ts';
import { computeMount } from './index.ts';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies read by the tests
type Json = Record<string, any>;

let server: Server;
let base: string;
let admin: AuthContext;
let adminToken: string;
let a: Awaited<ReturnType<typeof projectWithMember>>;
let b: Awaited<ReturnType<typeof projectWithMember>>;
let flavorId: string;

async function call(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; version?: string; headers?: Record<string, string> } = {},
) {
  const res = await fetch(`${base}/compute${path}`, {
    method,
    headers: {
      ...(opts.token ? { 'x-auth-token': opts.token } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.version ? { 'x-openstack-nova-api-version': opts.version } : {}),
      ...opts.headers,
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  const json: Json = text ? (JSON.parse(text) as Json) : {};
  return { status: res.status, json, headers: res.headers };
}
const tokenOf = (p: { auth: { context: AuthContext } }) => p.auth.context.tokenId;

beforeAll(async () => {
  const { url } = testDb();
  await setupIdentityTest(url);
  useFakeImage();
  admin = await adminContext();
  adminToken = admin.tokenId;
  a = await projectWithMember(admin);
  b = await projectWithMember(admin);
  // A compute service in the default zone whatever other files do with their hosts (the
  // aggregates test moves its own into zones of their own). Without a compute node it is
  // never a scheduling candidate.
  await heartbeat(
    getPrisma(url),
    { binary: 'stratus-worker', host: unique('nova-zone'), roles: ['compute'] },
    { starting: true },
  );
  server = createServer((req, res) => {
    const requestId = newRequestId();
    res.setHeader('x-openstack-request-id', requestId);
    withRequestContext({ requestId }, () => {
      const u = new URL(req.url ?? '/', 'http://localhost');
      void computeMount.handler(req, res, u);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const f = await call('POST', '/v2.1/flavors', {
    token: adminToken,
    version: '2.60',
    body: {
      flavor: {
        name: unique('ci.tiny'),
        ram: 128,
        vcpus: 1,
        disk: 1,
        swap: 0,
        rxtx_factor: 1.0,
        'os-flavor-access:is_public': true,
        'OS-FLV-EXT-DATA:ephemeral': 0,
        id: null,
      },
    },
  });
  expect(f.status).toBe(200);
  flavorId = f.json.flavor.id;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  stopRevocationListener();
});

describe('Nova REST: discovery and microversions', () => {
  it('serves version documents without a token', async () => {
    const root = await call('GET', '/');
    expect(root.status).toBe(200);
    expect(root.json.versions[0]).toMatchObject({ id: 'v2.1', status: 'CURRENT', min_version: '2.1' });
    const v = await call('GET', '/v2.1');
    expect(v.json.version).toMatchObject({ id: 'v2.1', status: 'CURRENT', version: '2.60', min_version: '2.1' });
  });
  it('echoes the negotiated version and refuses unsupported ones with 406', async () => {
    const r = await call('GET', '/v2.1/flavors', {
      token: tokenOf(a),
      headers: { 'openstack-api-version': 'compute 2.47' },
    });
    expect(r.headers.get('openstack-api-version')).toBe('compute 2.47');
    expect(r.headers.get('x-openstack-nova-api-version')).toBe('2.47');
    expect(r.headers.get('vary')).toMatch(/OpenStack-API-Version/);
    expect((await call('GET', '/v2.1/flavors', { token: tokenOf(a), version: '2.93' })).status).toBe(406);
    expect(
      (await call('GET', '/v2.1/flavors', { token: tokenOf(a), version: 'latest' })).headers.get(
        'x-openstack-nova-api-version',
      ),
    ).toBe('2.60');
  });
  it('answers 401 without a token and 404 in Nova shape for unknown paths', async () => {
    expect((await call('GET', '/v2.1/servers')).status).toBe(401);
    const r = await call('GET', '/v2.1/nothing-here', { token: tokenOf(a) });
    expect(r.status).toBe(404);
    expect(r.json.itemNotFound.code).toBe(404);
  });
});

describe('Nova REST: flavors and key pairs', () => {
  it('lets only admins create flavors; members list them', async () => {
    const r = await call('POST', '/v2.1/flavors', {
      token: tokenOf(a),
      body: { flavor: { name: 'nope', ram: 1, vcpus: 1, disk: 0 } },
    });
    expect(r.status).toBe(403);
    expect(r.json.forbidden.message).toMatch(/os-flavor-manage:create/);
    const list = await call('GET', '/v2.1/flavors/detail?is_public=True', { token: tokenOf(a) });
    expect(list.json.flavors.map((f: Json) => f.id)).toContain(flavorId);
    const miss = await call('GET', '/v2.1/flavors/ci.tiny-not-an-id', { token: tokenOf(a) });
    expect(miss.status).toBe(404);
  });
  it('generates a key pair (private key once), imports one, refuses a duplicate', async () => {
    const gen = await call('POST', '/v2.1/os-keypairs', {
      token: tokenOf(a),
      version: '2.10',
      body: { keypair: { name: 'k1' } },
    });
    expect(gen.status).toBe(201);
    expect(gen.json.keypair.private_key).toMatch(/PRIVATE KEY/);
    expect(gen.json.keypair.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    const imp = await call('POST', '/v2.1/os-keypairs', {
      token: tokenOf(a),
      body: { keypair: { name: 'k2', public_key: gen.json.keypair.public_key } },
    });
    expect(imp.status).toBe(200);
    expect(imp.json.keypair.private_key).toBeUndefined();
    const dup = await call('POST', '/v2.1/os-keypairs', { token: tokenOf(a), body: { keypair: { name: 'k1' } } });
    expect(dup.status).toBe(409);
    expect(dup.json.conflictingRequest).toBeDefined();
    const list = await call('GET', '/v2.1/os-keypairs', { token: tokenOf(a) });
    expect(list.json.keypairs.map((k: Json) => k.keypair.name)).toEqual(['k1', 'k2']);
    expect((await call('GET', '/v2.1/os-keypairs', { token: tokenOf(b) })).json.keypairs).toEqual([]);
  });
});

describe('Nova REST: servers', () => {
  const create = (token: string, body: Json, version?: string) =>
    call('POST', '/v2.1/servers', {
      token,
      version,
      body: { server: { imageRef: FAKE_IMAGE_ID, flavorRef: flavorId, min_count: 1, max_count: 1, ...body } },
    });

  it('refuses bad input with Nova-style 400s', async () => {
    const t = tokenOf(a);
    const cases: Array<[Json, RegExp]> = [
      [{ name: 'x', flavorRef: 'no-such-flavor' }, /Flavor no-such-flavor could not be found/],
      [{ name: 'x', imageRef: '11111111-1111-4111-8111-111111111111' }, /Image .* could not be found/],
      [{ name: '' }, /name/],
      [{ name: 'x', key_name: 'missing' }, /key_name/],
      [
        { name: 'x', networks: [{ uuid: '22222222-2222-4222-8222-222222222222' }] },
        /Network 22222222-2222-4222-8222-222222222222 could not be found/,
      ],
      [{ name: 'x', min_count: 3, max_count: 2 }, /min_count/],
      [{ name: 'x', availability_zone: 'elsewhere' }, /availability zone/],
    ];
    for (const [body, msg] of cases) {
      const r = await create(t, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.badRequest.message).toMatch(msg);
    }
    const noNets = await create(t, { name: 'x' }, '2.37');
    expect(noNets.status).toBe(400);
    const malformed = await fetch(`${base}/compute/v2.1/servers`, {
      method: 'POST',
      headers: { 'x-auth-token': t, 'content-type': 'application/json' },
      body: '{"server":',
    });
    expect(malformed.status).toBe(400);
  });

  it('creates a server, enqueues its schedule job, and shows it as BUILD to its project only', async () => {
    const r = await create(tokenOf(a), { name: 'web-1', networks: 'none' }, '2.37');
    expect(r.status).toBe(202);
    const id: string = r.json.server.id;
    expect(r.json.server.adminPass).toBeTruthy();
    const { db } = testDb();
    // The job was written with the server: it is in the queue, or a worker already ran it.
    await waitFor(
      async () => {
        const jobs = await db.$queryRaw<
          Array<{ n: bigint }>
        >`SELECT count(*) AS n FROM graphile_worker.jobs WHERE key = ${`schedule:${id}`}`;
        const ran = await db.instanceActionEvent.count({
          where: { event: 'compute_schedule', action: { serverId: id } },
        });
        return Number(jobs[0]?.n ?? 0) + ran > 0;
      },
      { what: 'schedule job' },
    );
    const show = await call('GET', `/v2.1/servers/${id}`, { token: tokenOf(a) });
    expect(show.status).toBe(200);
    expect(show.json.server).toMatchObject({
      id,
      name: 'web-1',
      tenant_id: a.project.id,
      addresses: {},
      image: { id: FAKE_IMAGE_ID },
    });
    expect(show.json.server.flavor.links).toBeDefined();
    expect(show.json.server['OS-EXT-SRV-ATTR:host']).toBeUndefined();
    const v247 = await call('GET', `/v2.1/servers/${id}`, { token: tokenOf(a), version: '2.47' });
    expect(v247.json.server.flavor).toMatchObject({ vcpus: 1, ram: 128, disk: 1, original_name: expect.any(String) });
    const byName = await call('GET', '/v2.1/servers?name=^web-1$', { token: tokenOf(a) });
    expect(byName.json.servers.map((s: Json) => s.id)).toEqual([id]);

    // Project B: not found, cannot act, does not see it in lists.
    expect((await call('GET', `/v2.1/servers/${id}`, { token: tokenOf(b) })).status).toBe(404);
    expect((await call('DELETE', `/v2.1/servers/${id}`, { token: tokenOf(b) })).status).toBe(404);
    expect(
      (await call('POST', `/v2.1/servers/${id}/action`, { token: tokenOf(b), body: { 'os-stop': null } })).status,
    ).toBe(404);
    expect((await call('GET', '/v2.1/servers/detail', { token: tokenOf(b) })).json.servers).toEqual([]);
    expect((await call('GET', '/v2.1/servers/detail?all_tenants=1', { token: tokenOf(b) })).status).toBe(403);
    const all = await call('GET', `/v2.1/servers/detail?all_tenants=1&project_id=${a.project.id}`, {
      token: adminToken,
    });
    expect(all.json.servers.map((s: Json) => s.id)).toContain(id);
    expect(all.json.servers[0]['OS-EXT-SRV-ATTR:instance_name']).toMatch(/^stratus-/);

    const del = await call('DELETE', `/v2.1/servers/${id}`, { token: tokenOf(a) });
    expect(del.status).toBe(204);
  });

  it('rolls back everything when the create transaction fails', async () => {
    const { db } = testDb();
    const p = await projectWithMember(admin);
    // Fail the insert of the second server, after the first one's row, action and job were written.
    await db.$executeRawUnsafe(`CREATE OR REPLACE FUNCTION ci_fail_second() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW."projectId" = '${p.project.id}' AND NEW."launchIndex" = 1 THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$`);
    await db.$executeRawUnsafe(
      `CREATE TRIGGER ci_fail_second_${p.project.id} BEFORE INSERT ON "Server" FOR EACH ROW EXECUTE FUNCTION ci_fail_second()`,
    );
    try {
      const r = await create(tokenOf(p), { name: 'rollback', min_count: 2, max_count: 2 });
      expect(r.status).toBe(500);
      expect(r.json.computeFault).toBeDefined();
      expect(await db.server.count({ where: { projectId: p.project.id } })).toBe(0);
      expect(await db.instanceAction.count({ where: { projectId: p.project.id } })).toBe(0);
      const orphans = await db.$queryRaw<Array<{ n: bigint }>>`
        SELECT count(*) AS n FROM graphile_worker.jobs j
         WHERE j.task_identifier = 'compute.schedule'
           AND NOT EXISTS (SELECT 1 FROM "Server" s WHERE 'schedule:' || s.id::text = j.key)`;
      expect(Number(orphans[0]?.n ?? 0)).toBe(0);
    } finally {
      await db.$executeRawUnsafe(`DROP TRIGGER ci_fail_second_${p.project.id} ON "Server"`);
    }
  });

  it('holds the instance quota under 30 parallel creates: exactly 10 accepted', async () => {
    const p = await projectWithMember(admin);
    const q = await call('PUT', `/v2.1/os-quota-sets/${p.project.id}`, {
      token: adminToken,
      body: { quota_set: { instances: 10, cores: 100, ram: 100000 } },
    });
    expect(q.status).toBe(200);
    expect(q.json.quota_set.instances).toBe(10);
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => create(tokenOf(p), { name: `q-${i}` })));
    const accepted = results.filter((r) => r.status === 202);
    const refused = results.filter((r) => r.status === 403);
    expect(accepted.length).toBe(10);
    expect(refused.length).toBe(20);
    expect(refused[0]?.json.overLimit.message).toMatch(
      /Quota exceeded for instances: Requested 1, but already used 10 of 10 instances/,
    );
    const limits = await call('GET', '/v2.1/limits', { token: tokenOf(p) });
    expect(limits.json.limits.absolute).toMatchObject({
      maxTotalInstances: 10,
      totalInstancesUsed: 10,
      totalCoresUsed: 10,
    });
    for (const r of accepted)
      expect((await call('DELETE', `/v2.1/servers/${r.json.server.id}`, { token: tokenOf(p) })).status).toBe(204);
  });

  it('refuses actions the state machine forbids with 409', async () => {
    const r = await create(tokenOf(a), { name: 'conflict' });
    const id = r.json.server.id;
    const start = await call('POST', `/v2.1/servers/${id}/action`, { token: tokenOf(a), body: { 'os-start': null } });
    expect(start.status).toBe(409);
    expect(start.json.conflictingRequest.message).toMatch(/vm_state building/);
    const bad = await call('POST', `/v2.1/servers/${id}/action`, {
      token: tokenOf(a),
      body: { reboot: { type: 'GENTLE' } },
    });
    expect(bad.status).toBe(400);
    const vnc = await call('POST', `/v2.1/servers/${id}/action`, {
      token: tokenOf(a),
      body: { 'os-getVNCConsole': { type: 'novnc' } },
    });
    expect(vnc.status).toBe(409);
    const rc = await call('POST', `/v2.1/servers/${id}/remote-consoles`, {
      token: tokenOf(a),
      version: '2.8',
      body: { remote_console: { protocol: 'spice', type: 'spice-html5' } },
    });
    expect(rc.status).toBe(400);
    expect(
      (
        await call('POST', `/v2.1/servers/${id}/remote-consoles`, {
          token: tokenOf(a),
          version: '2.5',
          body: { remote_console: { protocol: 'vnc', type: 'novnc' } },
        })
      ).status,
    ).toBe(404);
    const lock = await call('POST', `/v2.1/servers/${id}/action`, { token: tokenOf(a), body: { lock: null } });
    expect(lock.status).toBe(202);
    const actions = await call('GET', `/v2.1/servers/${id}/os-instance-actions`, { token: tokenOf(a) });
    expect(actions.json.instanceActions.map((x: Json) => x.action)).toEqual(['lock', 'create']);
    const del = await call('DELETE', `/v2.1/servers/${id}`, { token: tokenOf(a) });
    expect(del.status).toBe(409);
    expect((await call('DELETE', `/v2.1/servers/${id}`, { token: adminToken })).status).toBe(204);
  });
});

describe('Nova REST: admin and project resources', () => {
  it('serves hypervisors, services, zones and quotas; members are refused the admin ones', async () => {
    for (const path of [
      '/v2.1/os-hypervisors',
      '/v2.1/os-hypervisors/detail',
      '/v2.1/os-hypervisors/statistics',
      '/v2.1/os-services',
    ]) {
      const r = await call('GET', path, { token: adminToken });
      expect(r.status, path).toBe(200);
      expect((await call('GET', path, { token: tokenOf(a) })).status, path).toBe(403);
    }
    const az = await call('GET', '/v2.1/os-availability-zone', { token: tokenOf(a) });
    // Other test files add zones of their own (aggregates) to the shared database; ours is in nova.
    expect(az.json.availabilityZoneInfo.map((z: Json) => z.zoneName)).toContain('nova');
    const defaults = await call('GET', `/v2.1/os-quota-sets/${a.project.id}/defaults`, { token: tokenOf(a) });
    expect(defaults.json.quota_set).toMatchObject({ instances: 10, cores: 20, ram: 51200 });
    const detail = await call('GET', `/v2.1/os-quota-sets/${a.project.id}/detail`, { token: tokenOf(a) });
    expect(detail.json.quota_set.instances).toMatchObject({ limit: 10, reserved: 0 });
    expect(
      (
        await call('PUT', `/v2.1/os-quota-sets/${a.project.id}`, {
          token: tokenOf(a),
          body: { quota_set: { instances: 99 } },
        })
      ).status,
    ).toBe(403);
    expect((await call('GET', `/v2.1/os-quota-sets/${b.project.id}`, { token: tokenOf(a) })).status).toBe(403);
  });

  it('manages private flavor access and extra specs', async () => {
    const f = await call('POST', '/v2.1/flavors', {
      token: adminToken,
      body: { flavor: { name: unique('private'), ram: 64, vcpus: 1, disk: 0, 'os-flavor-access:is_public': false } },
    });
    const id = f.json.flavor.id;
    expect((await call('GET', `/v2.1/flavors/${id}`, { token: tokenOf(a) })).status).toBe(404);
    const add = await call('POST', `/v2.1/flavors/${id}/action`, {
      token: adminToken,
      body: { addTenantAccess: { tenant: a.project.id } },
    });
    expect(add.json.flavor_access).toEqual([{ flavor_id: id, tenant_id: a.project.id }]);
    expect((await call('GET', `/v2.1/flavors/${id}`, { token: tokenOf(a) })).status).toBe(200);
    // Only admins filter on is_public: a member's false is ignored, true narrows to the public ones.
    const listed = async (query: string) =>
      ((await call('GET', `/v2.1/flavors${query}`, { token: tokenOf(a) })).json.flavors as Array<{ id: string }>).map(
        (x) => x.id,
      );
    expect(await listed('')).toContain(id);
    expect(await listed('?is_public=false')).toContain(id);
    expect(await listed('?is_public=true')).not.toContain(id);
    expect(await listed('?is_public=none')).toContain(id);
    const specs = await call('POST', `/v2.1/flavors/${id}/os-extra_specs`, {
      token: adminToken,
      body: { extra_specs: { 'hw:cpu_policy': 'shared' } },
    });
    expect(specs.json.extra_specs).toEqual({ 'hw:cpu_policy': 'shared' });
    expect((await call('GET', `/v2.1/flavors/${id}/os-extra_specs/hw:cpu_policy`, { token: tokenOf(a) })).json).toEqual(
      { 'hw:cpu_policy': 'shared' },
    );
    expect((await call('GET', `/v2.1/flavors/${id}`, { token: adminToken, version: '2.61' })).status).toBe(406);
    expect((await call('DELETE', `/v2.1/flavors/${id}`, { token: adminToken })).status).toBe(202);
  });

  it('creates, lists, shows and deletes server groups per project', async () => {
    const g = await call('POST', '/v2.1/os-server-groups', {
      token: tokenOf(a),
      body: { server_group: { name: 'g1', policies: ['anti-affinity'] } },
    });
    expect(g.status).toBe(200);
    expect(g.json.server_group).toMatchObject({ name: 'g1', policies: ['anti-affinity'], members: [] });
    const bad = await call('POST', '/v2.1/os-server-groups', {
      token: tokenOf(a),
      body: { server_group: { name: 'g2', policies: ['sideways'] } },
    });
    expect(bad.status).toBe(400);
    expect((await call('GET', `/v2.1/os-server-groups/${g.json.server_group.id}`, { token: tokenOf(b) })).status).toBe(
      404,
    );
    expect((await call('GET', '/v2.1/os-server-groups', { token: tokenOf(a) })).json.server_groups).toHaveLength(1);
    expect(
      (await call('DELETE', `/v2.1/os-server-groups/${g.json.server_group.id}`, { token: tokenOf(a) })).status,
    ).toBe(204);
  });
});
