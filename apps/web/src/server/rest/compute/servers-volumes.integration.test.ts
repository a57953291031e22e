import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AuthContext, newRequestId, stopRevocationListener, withRequestContext } from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE_IMAGE_ID, useFakeImage } from '../../../../../worker/src/jobs/compute/test-support.ts';
import { testDb } from '../../../../../../test/helpers.ts';
import { computeMount } from './index.ts';
import { computeCaller, type Json } from './test-support.ts';

/*
 * Nova's os-extended-volumes:volumes_attached in server bodies: the volumes attached to
 * each server (ids only before 2.3, with delete_on_termination from 2.3), in GET
 * /servers/{id}, /servers/detail and PUT /servers/{id}. Attachment rows are written
 * directly (what attach and boot from volume leave behind): no worker or backend is needed.
 */

let http: Server;
let base: string;
let admin: AuthContext;
let a: Awaited<ReturnType<typeof projectWithMember>>;
let b: Awaited<ReturnType<typeof projectWithMember>>;
let flavorId: string;
const serverIds: string[] = [];
const volumeIds: string[] = [];
const db = () => testDb().db;

const call = computeCaller(() => base);
const tokenOf = (p: { auth: { context: AuthContext } }) => p.auth.context.tokenId;

async function newServer(p: typeof a, name: string): Promise<string> {
  const r = await call('POST', '/v2.1/servers', {
    token: tokenOf(p),
    version: '2.37',
    body: { server: { name, imageRef: FAKE_IMAGE_ID, flavorRef: flavorId, networks: 'none' } },
  });
  expect(r.status).toBe(202);
  const id: string = r.json.server.id;
  serverIds.push(id);
  return id;
}

/** A volume of the project attached to the server as `device` (the rows attach leaves). */
async function attached(p: typeof a, serverId: string, device: string, deleteOnTermination: boolean) {
  const id = randomUUID();
  volumeIds.push(id);
  await db().volume.create({
    data: {
      id,
      name: unique('vol'),
      projectId: p.project.id,
      userId: p.auth.context.userId,
      size: 1,
      status: 'in-use',
      attachStatus: 'attached',
      volumeTypeId: randomUUID(),
      availabilityZone: 'nova',
    },
  });
  await db().volumeAttachment.create({
    data: {
      id: randomUUID(),
      volumeId: id,
      serverId,
      projectId: p.project.id,
      device,
      status: 'attached',
      deleteOnTermination,
      attachedAt: new Date(),
    },
  });
  return id;
}

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  useFakeImage();
  admin = await adminContext();
  a = await projectWithMember(admin);
  b = await projectWithMember(admin);
  http = createServer((req, res) => {
    withRequestContext({ requestId: newRequestId() }, () => {
      void computeMount.handler(req, res, new URL(req.url ?? '/', 'http://localhost'));
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const f = await call('POST', '/v2.1/flavors', {
    token: admin.tokenId,
    body: { flavor: { name: unique('vt.tiny'), ram: 128, vcpus: 1, disk: 1 } },
  });
  expect(f.status).toBe(200);
  flavorId = f.json.flavor.id;
});

afterAll(async () => {
  await db().volumeAttachment.deleteMany({ where: { volumeId: { in: volumeIds } } });
  await db().volume.deleteMany({ where: { id: { in: volumeIds } } });
  for (const id of serverIds) await call('DELETE', `/v2.1/servers/${id}`, { token: admin.tokenId });
  await new Promise((r) => http.close(r));
  stopRevocationListener();
});

describe('Nova REST: os-extended-volumes:volumes_attached', () => {
  it('lists each server’s attached volumes in show, detail and update, by microversion', async () => {
    const s1 = await newServer(a, 'vols-1');
    const s2 = await newServer(a, 'vols-2');
    const bare = await newServer(a, 'vols-none');
    const v1 = await attached(a, s1, '/dev/vdb', false);
    const v2 = await attached(a, s1, '/dev/vdc', true);
    const v3 = await attached(a, s2, '/dev/vdb', true);
    const key = 'os-extended-volumes:volumes_attached';

    // 2.1: ids only.
    const old = await call('GET', `/v2.1/servers/${s1}`, { token: tokenOf(a) });
    expect(old.status).toBe(200);
    expect(old.json.server[key]).toEqual([{ id: v1 }, { id: v2 }]);
    // 2.3 on: with delete_on_termination.
    const show = await call('GET', `/v2.1/servers/${s1}`, { token: tokenOf(a), version: '2.3' });
    expect(show.json.server[key]).toEqual([
      { id: v1, delete_on_termination: false },
      { id: v2, delete_on_termination: true },
    ]);

    // One list call: every server with its own volumes (one attachment query for the page).
    const detail = await call('GET', '/v2.1/servers/detail', { token: tokenOf(a), version: '2.60' });
    expect(detail.status).toBe(200);
    const byId = new Map<string, Json>(detail.json.servers.map((s: Json) => [s.id, s]));
    expect(byId.get(s1)?.[key]).toEqual([
      { id: v1, delete_on_termination: false },
      { id: v2, delete_on_termination: true },
    ]);
    expect(byId.get(s2)?.[key]).toEqual([{ id: v3, delete_on_termination: true }]);
    expect(byId.get(bare)?.[key]).toEqual([]);

    // The summary list has no such field (Nova's /servers is id, name, links).
    const summary = await call('GET', '/v2.1/servers', { token: tokenOf(a) });
    expect(summary.json.servers.find((s: Json) => s.id === s1)).not.toHaveProperty(key);

    // PUT /servers/{id} answers with the full body, volumes included.
    const put = await call('PUT', `/v2.1/servers/${s2}`, {
      token: tokenOf(a),
      version: '2.3',
      body: { server: { name: 'vols-2-renamed' } },
    });
    expect(put.status).toBe(200);
    expect(put.json.server[key]).toEqual([{ id: v3, delete_on_termination: true }]);

    // Another project sees neither the servers nor, through them, the volumes.
    expect((await call('GET', `/v2.1/servers/${s1}`, { token: tokenOf(b) })).status).toBe(404);
    expect((await call('GET', '/v2.1/servers/detail', { token: tokenOf(b) })).json.servers).toEqual([]);

    // A detached volume leaves the list.
    await db().volumeAttachment.deleteMany({ where: { volumeId: v1 } });
    const after = await call('GET', `/v2.1/servers/${s1}`, { token: tokenOf(a), version: '2.3' });
    expect(after.json.server[key]).toEqual([{ id: v2, delete_on_termination: true }]);
  });
});
