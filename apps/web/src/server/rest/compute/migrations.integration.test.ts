import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuthContext, listMigrations, newRequestId, withRequestContext } from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../../../test/helpers.ts';
import {
  bootOnHost,
  type FakeComputeHosts,
  startFakeComputeHosts,
  untilStatus,
} from '../../../../../worker/src/jobs/compute/integration-support.ts';
import { testFlavor, useFakeImage } from '../../../../../worker/src/jobs/compute/test-support.ts';
import { computeMount } from './index.ts';
import { computeCaller, type Json } from './test-support.ts';

/*
 * Nova's migrations API through REST over real resize and cold-migration records (real
 * jobs, queue, scheduler and placement on two fake compute hosts): os-migrations' shape
 * per microversion (2.1, 2.23 migration_type, 2.59 uuid and paging), its filters, marker
 * and limit paging with next links, changes-since, refusals (403 for members, 400 for
 * bad input ≥ 2.59), and servers/{id}/migrations (2.23+, in-progress live migrations only).
 */

const tag = randomUUID().slice(0, 8);
const A = `mlist-a-${tag}`;
const B = `mlist-b-${tag}`;
let server: Server;
let base: string;
let admin: AuthContext;
let member: Awaited<ReturnType<typeof projectWithMember>>;
let hosts: FakeComputeHosts;
let small: { id: string };
let big: { id: string };
let resized: string;
let migrated: string;

const call = computeCaller(() => base);
const asAdmin = (path: string, version?: string) =>
  call('GET', path, { token: admin.tokenId, ...(version ? { version } : {}) });

beforeAll(async () => {
  const { url } = testDb();
  await setupIdentityTest(url);
  useFakeImage();
  admin = await adminContext();
  member = await projectWithMember(admin);
  small = await testFlavor(admin, { vcpus: 1, ramMb: 128, diskGb: 1 });
  big = await testFlavor(admin, { vcpus: 2, ramMb: 256, diskGb: 2 });
  hosts = await startFakeComputeHosts(url, [A, B]);
  server = createServer((req, res) => {
    withRequestContext({ requestId: newRequestId() }, () => {
      void computeMount.handler(req, res, new URL(req.url ?? '/', 'http://localhost'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // A resize (same host), confirmed; a cold migration A → B, reverted.
  resized = await bootOnHost(admin, { name: `mr-${tag}`, flavorRef: small.id, host: A });
  migrated = await bootOnHost(admin, { name: `mm-${tag}`, flavorRef: small.id, host: A });
  const r = await call('POST', `/v2.1/servers/${resized}/action`, {
    token: admin.tokenId,
    body: { resize: { flavorRef: big.id } },
  });
  expect(r.status).toBe(202);
  await untilStatus(admin, resized, 'VERIFY_RESIZE');
  expect(
    (await call('POST', `/v2.1/servers/${resized}/action`, { token: admin.tokenId, body: { confirmResize: null } }))
      .status,
  ).toBe(204);
  const m = await call('POST', `/v2.1/servers/${migrated}/action`, {
    token: admin.tokenId,
    version: '2.56',
    body: { migrate: { host: B } },
  });
  expect(m.status).toBe(202);
  await untilStatus(admin, migrated, 'VERIFY_RESIZE');
  expect(
    (await call('POST', `/v2.1/servers/${migrated}/action`, { token: admin.tokenId, body: { revertResize: null } }))
      .status,
  ).toBe(202);
  await untilStatus(admin, migrated, 'ACTIVE');
}, 120_000);

afterAll(async () => {
  await hosts?.stop();
  await new Promise((r) => server?.close(r));
});

describe('GET /os-migrations', () => {
  it('2.1: the records without migration_type, uuid or links; host, server and status filters', async () => {
    const all = await asAdmin(`/v2.1/os-migrations?instance_uuid=${resized}`);
    expect(all.status).toBe(200);
    expect(all.json.migrations).toHaveLength(1);
    const [m] = all.json.migrations;
    expect(m).toEqual({
      id: expect.any(Number),
      instance_uuid: resized,
      source_node: expect.any(String),
      dest_node: expect.any(String),
      source_compute: A,
      dest_compute: A,
      dest_host: expect.any(String),
      status: 'confirmed',
      old_instance_type_id: expect.anything(),
      new_instance_type_id: expect.anything(),
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(String(m.old_instance_type_id)).toBe(small.id);
    expect(String(m.new_instance_type_id)).toBe(big.id);
    expect(all.json.migrations_links).toBeUndefined();

    // host matches the source or the destination; B only saw the migration.
    const onB = await asAdmin(`/v2.1/os-migrations?host=${B}`);
    expect(onB.json.migrations.map((x: Json) => [x.instance_uuid, x.source_compute, x.dest_compute, x.status])).toEqual(
      [[migrated, A, B, 'reverted']],
    );
    const onA = await asAdmin(`/v2.1/os-migrations?host=${A}`);
    expect(onA.json.migrations.map((x: Json) => x.instance_uuid).sort()).toEqual([resized, migrated].sort());
    // Newest first.
    expect(onA.json.migrations[0].instance_uuid).toBe(migrated);
    expect((await asAdmin(`/v2.1/os-migrations?host=${A}&status=reverted`)).json.migrations).toHaveLength(1);
    expect((await asAdmin(`/v2.1/os-migrations?source_compute=${B}`)).json.migrations).toHaveLength(0);
    // Before 2.59 unknown parameters are ignored and a bad type matches nothing.
    expect((await asAdmin(`/v2.1/os-migrations?host=${A}&bogus=1`)).json.migrations).toHaveLength(2);
    expect((await asAdmin(`/v2.1/os-migrations?host=${A}&migration_type=teleport`)).json.migrations).toHaveLength(0);
  });

  it('2.23: migration_type (and its filter); links only for in-progress live migrations', async () => {
    const r = await asAdmin(`/v2.1/os-migrations?host=${A}`, '2.23');
    const byServer = new Map(r.json.migrations.map((x: Json) => [x.instance_uuid, x]));
    expect((byServer.get(resized) as Json).migration_type).toBe('resize');
    expect((byServer.get(migrated) as Json).migration_type).toBe('migration');
    for (const x of r.json.migrations) {
      expect(x.links).toBeUndefined();
      expect(x.uuid).toBeUndefined();
    }
    const cold = await asAdmin(`/v2.1/os-migrations?host=${A}&migration_type=migration`, '2.23');
    expect(cold.json.migrations.map((x: Json) => x.instance_uuid)).toEqual([migrated]);
  });

  it('2.59: uuid, marker/limit paging with a next link, changes-since, 400 for bad input', async () => {
    const full = await asAdmin(`/v2.1/os-migrations?host=${A}`, '2.59');
    expect(full.json.migrations).toHaveLength(2);
    const [newest, oldest] = full.json.migrations;
    expect(newest.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(newest.migration_type).toBe('migration');

    const p1 = await asAdmin(`/v2.1/os-migrations?host=${A}&limit=1`, '2.59');
    expect(p1.json.migrations.map((x: Json) => x.uuid)).toEqual([newest.uuid]);
    const next = p1.json.migrations_links?.[0];
    expect(next?.rel).toBe('next');
    expect(next?.href).toContain(`marker=${newest.uuid}`);
    const p2 = await asAdmin(`/v2.1/os-migrations?host=${A}&limit=1&marker=${newest.uuid}`, '2.59');
    expect(p2.json.migrations.map((x: Json) => x.uuid)).toEqual([oldest.uuid]);
    const p3 = await asAdmin(`/v2.1/os-migrations?host=${A}&limit=1&marker=${oldest.uuid}`, '2.59');
    expect(p3.json.migrations).toEqual([]);
    expect(p3.json.migrations_links).toBeUndefined();

    const later = new Date(Date.parse(`${newest.updated_at}Z`) + 60_000).toISOString();
    expect((await asAdmin(`/v2.1/os-migrations?host=${A}&changes-since=${later}`, '2.59')).json.migrations).toEqual([]);
    const since = await asAdmin(`/v2.1/os-migrations?host=${A}&changes-since=2000-01-01T00:00:00Z`, '2.59');
    expect(since.json.migrations).toHaveLength(2);

    for (const bad of [
      `marker=${randomUUID()}`,
      'marker=not-a-uuid',
      'limit=-1',
      'limit=x',
      'changes-since=yesterday',
      'migration_type=teleport',
      'bogus=1',
      // changes-before comes with 2.66 (Stratus speaks up to 2.60).
      'changes-before=2000-01-01T00:00:00Z',
    ]) {
      const r = await asAdmin(`/v2.1/os-migrations?${bad}`, '2.59');
      expect(r.status, bad).toBe(400);
      expect(r.json.badRequest?.message, bad).toBeTruthy();
    }
  });

  it('is admin only: a member gets 403 and nothing', async () => {
    const r = await call('GET', '/v2.1/os-migrations', { token: member.auth.context.tokenId, version: '2.59' });
    expect(r.status).toBe(403);
    expect(r.json.forbidden?.message).toContain('os-migrations:index');
    await expect(listMigrations(member.auth.context)).rejects.toMatchObject({ code: 'Forbidden' });
  });

  it('core filters by project and user (2.80 in Nova) and refuses changes-before < changes-since', async () => {
    const mine = await listMigrations(admin, { projectId: admin.projectId ?? '', host: A });
    expect(mine).toHaveLength(2);
    expect(await listMigrations(admin, { projectId: member.project.id, host: A })).toEqual([]);
    expect(await listMigrations(admin, { userId: admin.userId, host: A })).toHaveLength(2);
    await expect(
      listMigrations(admin, { changesSince: new Date(2001, 0, 1), changesBefore: new Date(2000, 0, 1) }),
    ).rejects.toMatchObject({ code: 'BadRequest' });
  });
});

describe('GET /servers/{id}/migrations', () => {
  it('is 2.23+, lists only in-progress live migrations (none here) and shows none of the others', async () => {
    expect((await asAdmin(`/v2.1/servers/${resized}/migrations`)).status).toBe(404);
    const list = await asAdmin(`/v2.1/servers/${resized}/migrations`, '2.23');
    expect(list).toEqual({ status: 200, json: { migrations: [] } });
    const [m] = await listMigrations(admin, { instanceUuid: resized });
    const show = await asAdmin(`/v2.1/servers/${resized}/migrations/${m?.id}`, '2.24');
    expect(show.status).toBe(404);
    expect(show.json.itemNotFound?.message).toContain('is not live-migration');
    expect((await asAdmin(`/v2.1/servers/${resized}/migrations/abc`, '2.24')).status).toBe(404);
    expect((await asAdmin(`/v2.1/servers/${randomUUID()}/migrations`, '2.23')).status).toBe(404);
    const r = await call('GET', `/v2.1/servers/${resized}/migrations`, {
      token: member.auth.context.tokenId,
      version: '2.23',
    });
    // Another project's server: not found to a member, as Nova answers.
    expect(r.status).toBe(404);
  });

  it('shows an in-progress live migration record with its links and counters', async () => {
    // Stratus has no live migration yet: a record as one would leave it, to read the shapes.
    const id = randomUUID();
    const row = await testDb().db.migration.create({
      data: {
        id,
        serverId: migrated,
        projectId: admin.projectId ?? '',
        userId: admin.userId,
        migrationType: 'live-migration',
        status: 'running',
        sourceHost: A,
        sourceNode: A,
        destHost: B,
        destNode: B,
        oldFlavor: { id: small.id, name: 's', vcpus: 1, ramMb: 128, diskGb: 1 },
        newFlavor: { id: small.id, name: 's', vcpus: 1, ramMb: 128, diskGb: 1 },
      },
    });
    try {
      const list = await asAdmin(`/v2.1/servers/${migrated}/migrations`, '2.59');
      expect(list.json.migrations).toHaveLength(1);
      expect(list.json.migrations[0]).toMatchObject({
        id: row.number,
        uuid: id,
        server_uuid: migrated,
        source_compute: A,
        dest_compute: B,
        dest_host: expect.any(String),
        status: 'running',
        memory_total_bytes: null,
      });
      const show = await asAdmin(`/v2.1/servers/${migrated}/migrations/${row.number}`, '2.24');
      expect(show.status).toBe(200);
      expect(show.json.migration.id).toBe(row.number);
      expect(show.json.migration.uuid).toBeUndefined();
      const all = await asAdmin(`/v2.1/os-migrations?instance_uuid=${migrated}`, '2.23');
      const live = all.json.migrations.find((x: Json) => x.id === row.number);
      expect(live.links.map((l: Json) => l.rel)).toEqual(['self', 'bookmark']);
      expect(live.links[0].href).toContain(`/v2.1/servers/${migrated}/migrations/${row.number}`);
    } finally {
      await testDb().db.migration.delete({ where: { id } });
    }
  });
});
