import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AuthContext,
  newRequestId,
  stopRevocationListener,
  updateVolumeQuotas,
  withRequestContext,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { volumeTestBackend } from '@stratus/core/volume/test-support';
import { getPrisma } from '@stratus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../../../test/helpers.ts';
import { computeMount } from '../compute/index.ts';
import { volumeMount } from './index.ts';

/*
 * Cinder v3 and Nova's os-volume_attachments over HTTP with the exact bodies the CLI
 * sends (docs: shared OPENSTACK-API.md §3.5): discovery, microversions, Cinder error
 * bodies, project scoping, quota 413. No worker runs here: volumes stay `creating`,
 * which is what the refusals need (nothing a job would do is asserted).
 */
type Json = Record<string, any>;

let server: Server;
let base: string;
let admin: AuthContext;
let a: Awaited<ReturnType<typeof projectWithMember>>;
let b: Awaited<ReturnType<typeof projectWithMember>>;
let typeName: string;

async function call(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; version?: string; prefix?: string } = {},
) {
  const res = await fetch(`${base}${opts.prefix ?? '/volume'}${path}`, {
    method,
    headers: {
      ...(opts.token ? { 'x-auth-token': opts.token } : {}),
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(opts.version ? { 'openstack-api-version': opts.version } : {}),
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  const json: Json = text ? (JSON.parse(text) as Json) : {};
  return { status: res.status, json, headers: res.headers };
}
const tok = (p: { auth: { context: AuthContext } }) => p.auth.context.tokenId;
const pid = (p: { project: { id: string } }) => p.project.id;

/** The body `openstack volume create` sends. */
const cliCreate = (name: string, size: number | null, extra: Json = {}) => ({
  volume: {
    size,
    name,
    description: null,
    volume_type: typeName,
    availability_zone: null,
    metadata: {},
    imageRef: null,
    snapshot_id: null,
    source_volid: null,
    consistencygroup_id: null,
    backup_id: null,
    ...extra,
  },
});

beforeAll(async () => {
  const { url } = testDb();
  await setupIdentityTest(url);
  admin = await adminContext();
  a = await projectWithMember(admin);
  b = await projectWithMember(admin);
  typeName = (await volumeTestBackend(admin, { prefix: 'rest' })).typeName;
  server = createServer((req, res) => {
    withRequestContext({ requestId: newRequestId() }, () => {
      const u = new URL(req.url ?? '/', 'http://localhost');
      const mount = u.pathname.startsWith('/compute') ? computeMount : volumeMount;
      void mount.handler(req, res, u);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.close();
  await stopRevocationListener();
});

describe('Cinder v3 REST', () => {
  it('serves version discovery and negotiates microversions', async () => {
    const root = await call('GET', '/');
    expect(root.status).toBe(300);
    expect(root.json.versions[0]).toMatchObject({ id: 'v3.0', status: 'CURRENT', min_version: '3.0' });
    const v3 = await call('GET', '/v3/');
    expect(v3.status).toBe(200);
    expect(v3.json.versions[0].version).toBe('3.66');
    const ok = await call('GET', `/v3/${pid(a)}/volumes`, { token: tok(a), version: 'volume 3.60' });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('openstack-api-version')).toBe('volume 3.60');
    const bad = await call('GET', `/v3/${pid(a)}/volumes`, { token: tok(a), version: 'volume 3.99' });
    expect(bad.status).toBe(406);
    expect(bad.json.notAcceptable.code).toBe(406);
  });

  it('creates with the CLI body, lists, shows, updates, and scopes by project', async () => {
    const c = await call('POST', `/v3/${pid(a)}/volumes`, { token: tok(a), body: cliCreate('rv1', 1) });
    expect(c.status).toBe(202);
    expect(c.json.volume).toMatchObject({
      name: 'rv1',
      size: 1,
      status: 'creating',
      bootable: 'false',
      volume_type: typeName,
    });
    const id = c.json.volume.id;
    const list = await call('GET', `/v3/${pid(a)}/volumes/detail?all_tenants=1&name=rv1`, { token: tok(a) });
    expect(list.json.volumes.map((v: Json) => v.id)).toEqual([id]);
    const show = await call('GET', `/v3/${pid(a)}/volumes/${id}`, { token: tok(a) });
    expect(show.json.volume['os-vol-tenant-attr:tenant_id']).toBe(pid(a));
    const put = await call('PUT', `/v3/${pid(a)}/volumes/${id}`, { token: tok(a), body: { volume: { name: 'rv1b' } } });
    expect(put.json.volume.name).toBe('rv1b');
    const md = await call('POST', `/v3/${pid(a)}/volumes/${id}/metadata`, {
      token: tok(a),
      body: { metadata: { k: 'v' } },
    });
    expect(md.json.metadata).toEqual({ k: 'v' });

    // Another project: its own URL does not show the volume; a's URL is refused.
    expect((await call('GET', `/v3/${pid(b)}/volumes/${id}`, { token: tok(b) })).status).toBe(404);
    const cross = await call('GET', `/v3/${pid(a)}/volumes`, { token: tok(b) });
    expect(cross.status).toBe(400);
    expect(cross.json.badRequest.message).toContain("doesn't match");
    const nf = await call('GET', `/v3/${pid(b)}/volumes/${id}`, { token: tok(b) });
    expect(nf.json.itemNotFound.code).toBe(404);
  });

  it('refuses bad input with Cinder error bodies and leaves nothing behind', async () => {
    const before = (await call('GET', `/v3/${pid(a)}/volumes`, { token: tok(a) })).json.volumes.length;
    for (const body of [
      cliCreate('x', null),
      cliCreate('x', 0),
      cliCreate('x', 1, { volume_type: 'no-such-type' }),
      { volume: 'x' },
    ]) {
      const r = await call('POST', `/v3/${pid(a)}/volumes`, { token: tok(a), body });
      expect([400, 404]).toContain(r.status);
      expect(r.json.badRequest ?? r.json.itemNotFound).toBeDefined();
    }
    const c = await call('POST', `/v3/${pid(a)}/volumes`, { token: tok(a), body: cliCreate('busy', 1) });
    const id = c.json.volume.id;
    // creating: not deletable, not extendable.
    const del = await call('DELETE', `/v3/${pid(a)}/volumes/${id}`, { token: tok(a) });
    expect(del.status).toBe(400);
    expect(del.json.badRequest.message).toContain('Invalid volume');
    const ext = await call('POST', `/v3/${pid(a)}/volumes/${id}/action`, {
      token: tok(a),
      body: { 'os-extend': { new_size: 2 } },
    });
    expect(ext.status).toBe(400);
    const after = (await call('GET', `/v3/${pid(a)}/volumes`, { token: tok(a) })).json.volumes.length;
    expect(after).toBe(before + 1);
  });

  it("refuses a size that is not a whole number above 0 with Cinder's message", async () => {
    for (const size of [0, -1, 1.5, 'x', '']) {
      const r = await call('POST', `/v3/${pid(a)}/volumes`, { token: tok(a), body: cliCreate('x', null, { size }) });
      expect(r.status).toBe(400);
      expect(r.json.badRequest.message).toBe(
        `Invalid input received: Invalid volume: volume size must be an integer and greater than 0 (size: ${String(size)}).`,
      );
    }
  });

  it('answers over quota with 413 overLimit', async () => {
    await updateVolumeQuotas(admin, pid(b), { volumes: 1 });
    expect((await call('POST', `/v3/${pid(b)}/volumes`, { token: tok(b), body: cliCreate('q1', 1) })).status).toBe(202);
    const over = await call('POST', `/v3/${pid(b)}/volumes`, { token: tok(b), body: cliCreate('q2', 1) });
    expect(over.status).toBe(413);
    expect(over.json.overLimit.message).toContain("quota 'volumes'");
    expect((await call('GET', `/v3/${pid(b)}/volumes`, { token: tok(b) })).json.volumes).toHaveLength(1);
    const q = await call('GET', `/v3/${pid(b)}/os-quota-sets/${pid(b)}?usage=True`, { token: tok(b) });
    expect(q.json.quota_set.volumes).toMatchObject({ limit: 1, in_use: 1 });
  });

  it('manages volume types as admin only', async () => {
    const name = unique('t');
    const denied = await call('POST', `/v3/${pid(a)}/types`, { token: tok(a), body: { volume_type: { name } } });
    expect(denied.status).toBe(403);
    expect(denied.json.forbidden).toBeDefined();
    const t = await call('POST', `/v3/${admin.projectId}/types`, {
      token: admin.tokenId,
      body: { volume_type: { name, 'os-volume-type-access:is_public': true } },
    });
    expect(t.status).toBe(200);
    const spec = await call('POST', `/v3/${admin.projectId}/types/${t.json.volume_type.id}/extra_specs`, {
      token: admin.tokenId,
      body: { extra_specs: { volume_backend_name: 'x' } },
    });
    expect(spec.json.extra_specs).toEqual({ volume_backend_name: 'x' });
    const list = await call('GET', `/v3/${pid(a)}/types`, { token: tok(a) });
    expect(list.json.volume_types.map((x: Json) => x.name)).toContain(name);
    expect(
      (await call('DELETE', `/v3/${admin.projectId}/types/${t.json.volume_type.id}`, { token: admin.tokenId })).status,
    ).toBe(202);
  });

  it('backups: the CLI body, container and the fields of each microversion, where the data lives', async () => {
    const c = await call('POST', `/v3/${pid(a)}/volumes`, { token: tok(a), body: cliCreate('bk-src', 1) });
    const vid = c.json.volume.id;
    // What the worker's create job ends with.
    await getPrisma(testDb().url).volume.update({ where: { id: vid }, data: { status: 'available' } });
    const url = `/v3/${pid(a)}/backups`;
    // The body `openstack volume backup create --container bk-ctr --name bk1 VOL` sends.
    const cliBackup = (extra: Json) => ({
      backup: {
        volume_id: vid,
        container: null,
        name: null,
        description: null,
        incremental: false,
        force: false,
        ...extra,
      },
    });
    const made = await call('POST', url, { token: tok(a), body: cliBackup({ container: 'bk-ctr', name: 'bk1' }) });
    expect(made.status).toBe(202);
    expect(Object.keys(made.json.backup).sort()).toEqual(['id', 'links', 'name']);
    const id = made.json.backup.id;

    // 3.0 (what the CLI sends): Cinder's fields, container among them; none of the later ones.
    const v30 = (await call('GET', `${url}/${id}`, { token: tok(a) })).json.backup;
    expect(v30).toMatchObject({
      id,
      name: 'bk1',
      status: 'creating',
      size: 1,
      volume_id: vid,
      snapshot_id: null,
      container: 'bk-ctr',
      availability_zone: 'nova',
      object_count: 0,
      fail_reason: null,
      is_incremental: false,
      has_dependent_backups: false,
      'stratus:store': 'filesystem',
    });
    expect(v30.data_timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
    for (const later of ['metadata', 'user_id', 'encryption_key_id', 'os-backup-project-attr:project_id'])
      expect(v30).not.toHaveProperty(later);
    // 3.43 metadata, 3.56 user_id, 3.64 encryption_key_id (no encrypted volumes: null); the
    // project only for those allowed to see it (admins) from 3.18.
    const show = async (version: string, token = tok(a)) =>
      (await call('GET', `${url}/${id}`, { token, version: `volume ${version}` })).json.backup;
    expect(await show('3.43')).toMatchObject({ metadata: {} });
    expect(await show('3.43')).not.toHaveProperty('user_id');
    expect(await show('3.56')).toMatchObject({ user_id: a.auth.context.userId });
    expect(await show('3.56')).not.toHaveProperty('encryption_key_id');
    expect(await show('3.64')).toMatchObject({ encryption_key_id: null, user_id: a.auth.context.userId });
    expect(await show('3.64')).not.toHaveProperty('os-backup-project-attr:project_id');
    const asAdmin = (
      await call('GET', `/v3/${admin.projectId}/backups/detail?all_tenants=1`, {
        token: admin.tokenId,
        version: 'volume 3.18',
      })
    ).json.backups.find((x: Json) => x.id === id);
    expect(asAdmin).toMatchObject({ container: 'bk-ctr', 'os-backup-project-attr:project_id': pid(a) });
    const detail = (await call('GET', `${url}/detail`, { token: tok(a) })).json.backups;
    expect(detail.find((x: Json) => x.id === id)).toMatchObject({ container: 'bk-ctr', 'stratus:store': 'filesystem' });
    const summary = (await call('GET', url, { token: tok(a) })).json.backups.find((x: Json) => x.id === id);
    expect(Object.keys(summary).sort()).toEqual(['id', 'links', 'name']);

    // An incremental lives in its parent's container; the parent then has a dependent.
    const db = getPrisma(testDb().url);
    await db.volumeBackup.update({ where: { id }, data: { status: 'available', objectCount: 3 } });
    await db.volume.update({ where: { id: vid }, data: { status: 'available' } });
    const other = await call('POST', url, {
      token: tok(a),
      body: cliBackup({ incremental: true, container: 'elsewhere' }),
    });
    expect(other.status).toBe(400);
    expect(other.json.badRequest.message).toContain("parent's container bk-ctr");
    const inc = await call('POST', url, { token: tok(a), body: cliBackup({ incremental: true, name: 'bk2' }) });
    expect(inc.status).toBe(202);
    const child = (await call('GET', `${url}/${inc.json.backup.id}`, { token: tok(a) })).json.backup;
    expect(child).toMatchObject({ container: 'bk-ctr', is_incremental: true, has_dependent_backups: false });
    expect(await show('3.0')).toMatchObject({ has_dependent_backups: true, object_count: 3 });

    // A backup kept in the object store says so (the row's driver, decided at create).
    await db.volumeBackup.update({ where: { id }, data: { driver: 'object' } });
    expect(await show('3.0')).toMatchObject({ container: 'bk-ctr', 'stratus:store': 'object' });
    // Another project sees none of it.
    expect((await call('GET', `/v3/${pid(b)}/backups/${id}`, { token: tok(b) })).status).toBe(404);
  });

  it('os-volume_attachments: unknown server is 404, missing body is 400 (Nova shapes)', async () => {
    const c = await call('POST', `/v3/${pid(a)}/volumes`, { token: tok(a), body: cliCreate('att', 1) });
    const vid = c.json.volume.id;
    const r = await call('POST', `/v2.1/servers/${crypto.randomUUID()}/os-volume_attachments`, {
      prefix: '/compute',
      token: tok(a),
      body: { volumeAttachment: { volumeId: vid, device: null } },
    });
    expect(r.status).toBe(404);
    expect(r.json.itemNotFound).toBeDefined();
    const list = await call('GET', `/v2.1/servers/${crypto.randomUUID()}/os-volume_attachments`, {
      prefix: '/compute',
      token: tok(a),
    });
    expect(list.status).toBe(404);
  });
});
