import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuthContext, heartbeat, newRequestId, reportStaleServices, withRequestContext } from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import { getPrisma, type StratusEvent } from '@stratus/db';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../../../test/helpers.ts';
import { attachLiveEvents } from '../../live.ts';
import { liveClient } from '../../live-test-support.ts';
import { computeMount } from './index.ts';
import { computeCaller } from './test-support.ts';

/*
 * os-services forced_down through the REST API in both of Nova's shapes (2.11–2.52
 * PUT /os-services/force-down, ≥ 2.53 PUT /os-services/{id}), the migrate action's
 * refusals, and the live service events an admin's socket receives (a member's does not):
 * service.updated on every change, service.down when a heartbeat goes stale (announced
 * once), service.up when it beats again.
 */

const tag = randomUUID().slice(0, 8);
const HOST = `svc-${tag}`;
const OTHER = `svc-other-${tag}`;
let server: Server;
let base: string;
let admin: AuthContext;
let member: Awaited<ReturnType<typeof projectWithMember>>;
let live: Awaited<ReturnType<typeof attachLiveEvents>>;
const sockets: Socket[] = [];

const call = computeCaller(() => base);

const client = async (token: string) => (await liveClient(base, token, sockets)).events;

beforeAll(async () => {
  const { url } = testDb();
  await setupIdentityTest(url);
  admin = await adminContext();
  member = await projectWithMember(admin);
  const db = getPrisma(url);
  await heartbeat(db, { binary: 'stratus-worker', host: HOST, roles: ['compute'] }, { starting: true });
  await heartbeat(db, { binary: 'stratus-worker', host: OTHER, roles: ['scheduler'] }, { starting: true });
  server = createServer((req, res) => {
    withRequestContext({ requestId: newRequestId() }, () => {
      const u = new URL(req.url ?? '/', 'http://localhost');
      void computeMount.handler(req, res, u);
    });
  });
  live = await attachLiveEvents({
    http: server,
    databaseUrl: url,
    resolveScope: async (token) =>
      token === admin.tokenId
        ? { projectId: admin.projectId ?? '', isAdmin: true }
        : token === member.auth.context.tokenId
          ? { projectId: member.project.id, isAdmin: false }
          : null,
    onError: () => {},
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.close();
  await live.listener.close();
  live.io.close();
});

describe('os-services forced_down', () => {
  it('2.11 PUT /os-services/force-down sets and unsets it; services list shows it', async () => {
    const down = await call('PUT', '/v2.1/os-services/force-down', {
      token: admin.tokenId,
      version: '2.11',
      body: { host: HOST, binary: 'nova-compute', forced_down: true },
    });
    expect(down.status).toBe(200);
    expect(down.json).toEqual({ service: { host: HOST, binary: 'nova-compute', forced_down: true } });
    const list = await call('GET', `/v2.1/os-services?host=${HOST}`, { token: admin.tokenId, version: '2.11' });
    expect(list.json.services[0]).toMatchObject({ binary: 'nova-compute', state: 'down', forced_down: true });
    const up = await call('PUT', '/v2.1/os-services/force-down', {
      token: admin.tokenId,
      version: '2.11',
      body: { host: HOST, binary: 'nova-compute', forced_down: false },
    });
    expect(up.json.service.forced_down).toBe(false);
    const after = await call('GET', `/v2.1/os-services?host=${HOST}`, { token: admin.tokenId, version: '2.11' });
    expect(after.json.services[0]).toMatchObject({ state: 'up', forced_down: false });
  });

  it('2.11 refusals: not before 2.11 nor from 2.53, malformed body 400, unknown host 404, member 403', async () => {
    const body = { host: HOST, binary: 'nova-compute', forced_down: true };
    const t = admin.tokenId;
    expect((await call('PUT', '/v2.1/os-services/force-down', { token: t, version: '2.10', body })).status).toBe(404);
    expect((await call('PUT', '/v2.1/os-services/force-down', { token: t, version: '2.53', body })).status).toBe(404);
    const bad = await call('PUT', '/v2.1/os-services/force-down', {
      token: t,
      version: '2.11',
      body: { host: HOST, binary: 'nova-compute', forced_down: 'yes' },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.badRequest.message).toBeTruthy();
    const unknown = await call('PUT', '/v2.1/os-services/force-down', {
      token: t,
      version: '2.11',
      body: { ...body, host: `nope-${tag}` },
    });
    expect(unknown.status).toBe(404);
    expect(unknown.json.itemNotFound).toBeDefined();
    const m = await call('PUT', '/v2.1/os-services/force-down', {
      token: member.auth.context.tokenId,
      version: '2.11',
      body,
    });
    expect(m.status).toBe(403);
    const list = await call('GET', `/v2.1/os-services?host=${HOST}`, { token: t, version: '2.11' });
    expect(list.json.services[0].forced_down).toBe(false);
  });

  it('2.53 PUT /os-services/{id} {forced_down} (as openstack compute service set --down sends it)', async () => {
    const list = await call('GET', `/v2.1/os-services?host=${HOST}&binary=nova-compute`, {
      token: admin.tokenId,
      version: '2.53',
    });
    const id: string = list.json.services[0].id;
    const r = await call('PUT', `/v2.1/os-services/${id}`, {
      token: admin.tokenId,
      version: '2.53',
      body: { forced_down: true },
    });
    expect(r.status).toBe(200);
    expect(r.json.service).toMatchObject({ id, host: HOST, state: 'down', forced_down: true, status: 'enabled' });
    const both = await call('PUT', `/v2.1/os-services/${id}`, {
      token: admin.tokenId,
      version: '2.53',
      body: { status: 'disabled', disabled_reason: 'fenced', forced_down: false },
    });
    expect(both.json.service).toMatchObject({
      state: 'up',
      forced_down: false,
      status: 'disabled',
      disabled_reason: 'fenced',
    });
    for (const body of [
      {},
      { status: 'enabled', disabled_reason: 'x' },
      { forced_down: true, disabled_reason: 'x' },
      { forced_down: 1 },
      { bogus: true },
    ]) {
      const bad = await call('PUT', `/v2.1/os-services/${id}`, { token: admin.tokenId, version: '2.53', body });
      expect(bad.status, JSON.stringify(body)).toBe(400);
    }
    const other = await call('GET', `/v2.1/os-services?host=${OTHER}`, { token: admin.tokenId, version: '2.53' });
    const notCompute = await call('PUT', `/v2.1/os-services/${other.json.services[0].id}`, {
      token: admin.tokenId,
      version: '2.53',
      body: { forced_down: true },
    });
    expect(notCompute.status).toBe(400);
    expect(
      (
        await call('PUT', `/v2.1/os-services/${randomUUID()}`, {
          token: admin.tokenId,
          version: '2.53',
          body: { forced_down: true },
        })
      ).status,
    ).toBe(404);
    await call('PUT', `/v2.1/os-services/${id}`, {
      token: admin.tokenId,
      version: '2.53',
      body: { status: 'enabled' },
    });
  });
});

describe('a worker with every role', () => {
  it('lists one id per binary; forced_down is nova-compute’s alone, and the scheduler’s id is refused (400)', async () => {
    const ALL = `svc-all-${tag}`;
    await heartbeat(
      getPrisma(testDb().url),
      { binary: 'stratus-worker', host: ALL, roles: ['compute', 'scheduler', 'conductor'] },
      { starting: true },
    );
    const t = admin.tokenId;
    const list = async () =>
      (await call('GET', `/v2.1/os-services?host=${ALL}`, { token: t, version: '2.53' })).json.services as Array<{
        id: string;
        binary: string;
        state: string;
        forced_down: boolean;
      }>;
    const before = await list();
    expect(before.map((x) => x.binary)).toEqual(['nova-compute', 'nova-scheduler', 'nova-conductor']);
    expect(new Set(before.map((x) => x.id)).size).toBe(3);
    const [compute, scheduler] = before;
    // What `openstack compute service set --down <host> nova-scheduler` sends: Nova refuses it.
    const refused = await call('PUT', `/v2.1/os-services/${scheduler?.id}`, {
      token: t,
      version: '2.53',
      body: { forced_down: true },
    });
    expect(refused.status).toBe(400);
    expect(refused.json.badRequest.message).toMatch(/nova-scheduler/);
    expect((await list()).every((x) => x.state === 'up' && !x.forced_down)).toBe(true);
    await call('PUT', `/v2.1/os-services/${compute?.id}`, { token: t, version: '2.53', body: { forced_down: true } });
    expect((await list()).map((x) => [x.binary, x.state, x.forced_down])).toEqual([
      ['nova-compute', 'down', true],
      ['nova-scheduler', 'up', false],
      ['nova-conductor', 'up', false],
    ]);
    await call('PUT', `/v2.1/os-services/${compute?.id}`, { token: t, version: '2.53', body: { forced_down: false } });
    expect((await list()).every((x) => x.state === 'up' && !x.forced_down)).toBe(true);
  });
});

describe('migrate action refusals', () => {
  it('unknown server 404, malformed 2.56 body 400 (the refusals with a server are in compute-migration.integration.test.ts)', async () => {
    const missing = await call('POST', `/v2.1/servers/${randomUUID()}/action`, {
      token: admin.tokenId,
      version: '2.56',
      body: { migrate: null },
    });
    expect(missing.status).toBe(404);
    expect(missing.json.itemNotFound).toBeDefined();
    const bad = await call('POST', `/v2.1/servers/${randomUUID()}/action`, {
      token: admin.tokenId,
      version: '2.56',
      body: { migrate: { host: 5 } },
    });
    expect(bad.status).toBe(400);
  });
});

describe('live service events', () => {
  it('admins get service.updated, service.down (once) and service.up; members get none', async () => {
    const adminEvents = await client(admin.tokenId);
    const memberEvents = await client(member.auth.context.tokenId);
    const mine = (e: StratusEvent) => e.type.startsWith('service.') && e.data.host === HOST;
    await call('PUT', '/v2.1/os-services/force-down', {
      token: admin.tokenId,
      version: '2.11',
      body: { host: HOST, binary: 'nova-compute', forced_down: true },
    });
    await waitFor(() => adminEvents.some((e) => mine(e) && e.type === 'service.updated'), {
      what: 'service.updated',
    });
    expect(adminEvents.find((e) => mine(e) && e.type === 'service.updated')?.data).toMatchObject({
      forcedDown: true,
    });
    await call('PUT', '/v2.1/os-services/force-down', {
      token: admin.tokenId,
      version: '2.11',
      body: { host: HOST, binary: 'nova-compute', forced_down: false },
    });

    // The heartbeat goes stale: announced once, however often workers look.
    const db = testDb().db;
    await db.service.updateMany({ where: { host: HOST }, data: { lastHeartbeat: new Date(Date.now() - 3_600_000) } });
    const first = await reportStaleServices(db, 60);
    const second = await reportStaleServices(db, 60);
    expect(first).toContain(HOST);
    expect(second).not.toContain(HOST);
    await waitFor(() => adminEvents.some((e) => mine(e) && e.type === 'service.down'), { what: 'service.down' });
    // It beats again.
    await heartbeat(db, { binary: 'stratus-worker', host: HOST, roles: ['compute'] });
    await waitFor(() => adminEvents.some((e) => mine(e) && e.type === 'service.up'), { what: 'service.up' });
    expect(adminEvents.filter((e) => mine(e) && e.type === 'service.down')).toHaveLength(1);
    expect((await db.service.findFirstOrThrow({ where: { host: HOST } })).reportedDown).toBe(false);
    expect(memberEvents.filter((e) => e.type.startsWith('service.'))).toEqual([]);
  });
});
