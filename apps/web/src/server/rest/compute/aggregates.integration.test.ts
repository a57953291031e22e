import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AuthContext,
  getProviderAggregates,
  newRequestId,
  setComputeServiceStatus,
  withRequestContext,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import type { Runner } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FAKE_IMAGE_ID,
  fakeHost,
  keepAlive,
  startComputeWorker,
  useFakeImage,
} from '../../../../../worker/src/jobs/compute/test-support.ts';
import { testDb, waitFor } from '../../../../../../test/helpers.ts';
import { computeMount } from './index.ts';

/*
 * os-aggregates through the Nova REST adapter against the real database, and what
 * aggregates change elsewhere: availability zones (os-availability-zone, os-services,
 * server create), placement membership, and the scheduler (AvailabilityZoneFilter,
 * AggregateInstanceExtraSpecsFilter) with two fake compute hosts building for real.
 */

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies read by the tests
type Json = Record<string, any>;

const tag = randomUUID().slice(0, 8);
const h1 = `agg-a-${tag}`;
const h2 = `agg-b-${tag}`;
const zoneX = `az-x-${tag}`;
const zoneY = `az-y-${tag}`;
const runners: Runner[] = [];
let beat: NodeJS.Timeout | undefined;
let server: Server;
let base: string;
let admin: AuthContext;
let member: Awaited<ReturnType<typeof projectWithMember>>;

async function call(method: string, path: string, opts: { token?: string; body?: unknown; version?: string } = {}) {
  const res = await fetch(`${base}/compute/v2.1${path}`, {
    method,
    headers: {
      'x-auth-token': opts.token ?? admin.tokenId,
      ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
      'x-openstack-nova-api-version': opts.version ?? '2.60',
    },
    body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as Json };
}
const action = (id: number, body: unknown) => call('POST', `/os-aggregates/${id}/action`, { body });

beforeAll(async () => {
  const { url } = testDb();
  await setupIdentityTest(url);
  useFakeImage();
  admin = await adminContext();
  member = await projectWithMember(admin);
  server = createServer((req, res) => {
    withRequestContext({ requestId: newRequestId() }, () => {
      void computeMount.handler(req, res, new URL(req.url ?? '/', 'http://localhost'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const host of [h1, h2]) runners.push(await startComputeWorker(url, host, await fakeHost(url, host)));
  beat = keepAlive(url, [h1, h2]);
});

afterAll(async () => {
  clearInterval(beat);
  // Other test files schedule onto every enabled host: take ours out before the workers go.
  for (const host of [h1, h2]) await setComputeServiceStatus(admin, { host }, { disabled: true, reason: 'test over' });
  await Promise.all(runners.map((r) => r.stop()));
  await new Promise((r) => server.close(r));
});

describe('os-aggregates', () => {
  it('create, show, update, hosts, metadata and zones with Nova shapes and errors', async () => {
    expect((await call('GET', '/os-aggregates', { token: member.auth.context.tokenId })).status).toBe(403);
    const name = unique('agg');
    const created = await call('POST', '/os-aggregates', {
      body: { aggregate: { name, availability_zone: zoneX } },
      version: '2.41',
    });
    expect(created.status).toBe(200);
    expect(created.json.aggregate).toMatchObject({ name, availability_zone: zoneX, deleted: false, deleted_at: null });
    expect(created.json.aggregate.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.json.aggregate).not.toHaveProperty('hosts');
    const id: number = created.json.aggregate.id;
    expect(Number.isInteger(id)).toBe(true);
    expect((await call('POST', '/os-aggregates', { body: { aggregate: { name } } })).status).toBe(409);
    for (const bad of [{ name: '  ' }, { name: unique('agg'), availability_zone: 'internal' }, { nome: 'x' }]) {
      const r = await call('POST', '/os-aggregates', { body: { aggregate: bad } });
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.json.badRequest.message).toBeTruthy();
    }
    expect((await call('GET', '/os-aggregates/999999')).status).toBe(404);
    expect((await call('GET', '/os-aggregates/abc')).status).toBe(404);

    // Hosts: unknown → 404, twice → 409; the zone clash with another aggregate → 409.
    expect((await action(id, { add_host: { host: 'no-such-host' } })).status).toBe(404);
    const added = await action(id, { add_host: { host: h1 } });
    expect(added.status).toBe(200);
    expect(added.json.aggregate).toMatchObject({ hosts: [h1], metadata: { availability_zone: zoneX } });
    expect((await action(id, { add_host: { host: h1 } })).status).toBe(409);
    const other = (
      await call('POST', '/os-aggregates', { body: { aggregate: { name: unique('agg'), availability_zone: zoneY } } })
    ).json.aggregate.id as number;
    expect((await action(other, { add_host: { host: h1 } })).status).toBe(409);
    expect((await action(other, { add_host: { host: h2 } })).status).toBe(200);

    // Metadata merges; null removes; a zone that contradicts the hosts' zone → 400.
    const ssd = (await call('POST', '/os-aggregates', { body: { aggregate: { name: unique('ssd') } } })).json.aggregate
      .id as number;
    expect((await action(ssd, { add_host: { host: h1 } })).status).toBe(200);
    const meta = await action(ssd, { set_metadata: { metadata: { ssd: 'true', gen: '3' } } });
    expect(meta.json.aggregate.metadata).toEqual({ ssd: 'true', gen: '3' });
    expect((await action(ssd, { set_metadata: { metadata: { gen: null } } })).json.aggregate.metadata).toEqual({
      ssd: 'true',
    });
    expect((await action(ssd, { set_metadata: { metadata: { availability_zone: zoneY } } })).status).toBe(400);
    expect((await action(ssd, { set_metadata: { metadata: { availability_zone: zoneX } } })).status).toBe(200);
    expect((await action(ssd, { set_metadata: { metadata: { availability_zone: null } } })).status).toBe(200);
    expect((await action(ssd, { frobnicate: {} })).status).toBe(400);

    // Rename through PUT; list has everything.
    const renamed = await call('PUT', `/os-aggregates/${id}`, { body: { aggregate: { name: `${name}-2` } } });
    expect(renamed.json.aggregate).toMatchObject({ name: `${name}-2`, availability_zone: zoneX, hosts: [h1] });
    const list = (await call('GET', '/os-aggregates')).json.aggregates as Json[];
    expect(list.find((a) => a.id === id)).toMatchObject({ hosts: [h1] });

    // The host's provider is in the aggregate in placement too.
    const uuid = (await call('GET', `/os-aggregates/${id}`, { version: '2.41' })).json.aggregate.uuid;
    const { db } = testDb();
    const node = await db.computeNode.findUniqueOrThrow({ where: { host: h1 } });
    expect((await getProviderAggregates('service', node.resourceProviderUuid)).aggregates).toContain(uuid);

    // Zones: the member sees both; detail (admin) names the hosts; services carry their zone.
    const zones = (await call('GET', '/os-availability-zone', { token: member.auth.context.tokenId })).json
      .availabilityZoneInfo as Json[];
    expect(zones.find((z) => z.zoneName === zoneX)).toMatchObject({ zoneState: { available: true }, hosts: null });
    const detail = (await call('GET', '/os-availability-zone/detail')).json.availabilityZoneInfo as Json[];
    expect(Object.keys(detail.find((z) => z.zoneName === zoneX)?.hosts ?? {})).toEqual([h1]);
    expect(detail.find((z) => z.zoneName === zoneY)?.hosts[h2]['nova-compute']).toMatchObject({ available: true });
    const services = (await call('GET', `/os-services?host=${h1}`)).json.services as Json[];
    expect(services.find((s) => s.binary === 'nova-compute')?.zone).toBe(zoneX);

    // Delete: not while it has hosts; remove_host of a non-member → 404.
    expect((await call('DELETE', `/os-aggregates/${ssd}`)).status).toBe(400);
    expect((await action(ssd, { remove_host: { host: h2 } })).status).toBe(404);
    expect((await action(ssd, { remove_host: { host: h1 } })).json.aggregate.hosts).toEqual([]);
    expect((await call('DELETE', `/os-aggregates/${ssd}`)).status).toBe(200);
    expect((await call('GET', `/os-aggregates/${ssd}`)).status).toBe(404);
  });

  it('the scheduler places by zone and by aggregate extra specs; servers take their host zone', async () => {
    const f = await call('POST', '/flavors', {
      body: { flavor: { name: unique('agg.tiny'), ram: 64, vcpus: 1, disk: 1 } },
    });
    expect(f.status).toBe(200);
    const flavorId: string = f.json.flavor.id;
    const token = member.auth.context.tokenId;
    const create = (body: Json) =>
      call('POST', '/servers', {
        token,
        body: {
          server: { name: unique('vm'), imageRef: FAKE_IMAGE_ID, flavorRef: flavorId, networks: 'none', ...body },
        },
      });
    const active = (id: string) =>
      waitFor(
        async () => {
          const s = (await call('GET', `/servers/${id}`, { token: admin.tokenId })).json.server;
          if (s.status === 'ERROR') throw new Error(`server ERROR: ${JSON.stringify(s.fault)}`);
          return s.status === 'ACTIVE' ? s : undefined;
        },
        { timeoutMs: 60_000, what: `server ${id} ACTIVE` },
      );

    expect((await create({ availability_zone: 'no-such-zone' })).json.badRequest.message).toMatch(/availability zone/);
    const inX = await create({ availability_zone: zoneX });
    expect(inX.status).toBe(202);
    const sx = await active(inX.json.server.id);
    expect(sx['OS-EXT-SRV-ATTR:host']).toBe(h1);
    expect(sx['OS-EXT-AZ:availability_zone']).toBe(zoneX);
    // A member may not force a host.
    expect((await create({ availability_zone: `${zoneX}:${h1}` })).status).toBe(403);

    // The flavor asks for aggregate metadata only h2's aggregate has.
    const gpu = (await call('POST', '/os-aggregates', { body: { aggregate: { name: unique('gpu') } } })).json.aggregate
      .id as number;
    await action(gpu, { add_host: { host: h2 } });
    await action(gpu, { set_metadata: { metadata: { [`gpu_${tag}`]: 'yes' } } });
    await call('POST', `/flavors/${flavorId}/os-extra_specs`, {
      body: { extra_specs: { [`aggregate_instance_extra_specs:gpu_${tag}`]: 'yes' } },
    });
    const onGpu = await create({});
    const sg = await active(onGpu.json.server.id);
    expect(sg['OS-EXT-SRV-ATTR:host']).toBe(h2);
    expect(sg['OS-EXT-AZ:availability_zone']).toBe(zoneY);
    // Nothing in zone X has that metadata: no valid host.
    const none = await create({ availability_zone: zoneX });
    await waitFor(
      async () => (await call('GET', `/servers/${none.json.server.id}`, { token })).json.server.status === 'ERROR',
      { timeoutMs: 60_000, what: 'NoValidHost' },
    );
    for (const id of [inX.json.server.id, onGpu.json.server.id, none.json.server.id]) {
      expect((await call('DELETE', `/servers/${id}`, { token })).status).toBe(204);
    }
    for (const id of [inX.json.server.id, onGpu.json.server.id, none.json.server.id]) {
      await waitFor(async () => (await call('GET', `/servers/${id}`, { token })).status === 404, {
        timeoutMs: 60_000,
        what: `server ${id} gone`,
      });
    }
  });
});
