import { randomUUID } from 'node:crypto';
import {
  type AuthContext,
  confirmResize,
  createServerGroup,
  createServers,
  deleteServer,
  getConsumerAllocations,
  getInstanceAction,
  getServer,
  listComputeServices,
  listHypervisors,
  listInstanceActions,
  migrateServer,
  revertResize,
  setComputeServiceForcedDown,
} from '@stratus/core';
import { projectWithMember } from '@stratus/core/identity/test-support';
import { getPrisma } from '@stratus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { PowerState } from '../drivers/compute/types.ts';
import { FakeComputeDriver } from './compute/fake-driver.ts';
import { FAKE_IMAGE_ID, testFlavor } from './compute/test-support.ts';
import { bootOnHost, type FakeComputeHosts, setupFakeComputeTest, untilStatus } from './compute/integration-support.ts';

/*
 * Cold migration across hosts through the real jobs, queue, scheduler, placement and
 * database, with one in-memory driver per host: the guest leaves the source (kept for a
 * revert), its disk is copied by the destination, VERIFY_RESIZE there with the
 * destination claimed for the server and the source held by the migration; confirm and
 * revert as a resize; forced_down keeps the scheduler off a host; bad input changes nothing.
 */
const tag = randomUUID().slice(0, 8);
const A = `mig-a-${tag}`;
const B = `mig-b-${tag}`;
const C = `mig-c-${tag}`;
let hosts: FakeComputeHosts;
let admin: AuthContext;
let flavor: { id: string };
const drv = (h: string) => hosts.drivers.get(h) as FakeComputeDriver;

const until = (id: string, status: string) => untilStatus(admin, id, status);

const boot = (name: string, host = A) => bootOnHost(admin, { name, flavorRef: flavor.id, host });

/** Resources a consumer holds, per host. */
async function heldOn(consumer: string): Promise<Record<string, Record<string, number>>> {
  const { db } = testDb();
  const nodes = await db.computeNode.findMany({ where: { host: { in: [A, B, C] } } });
  const out: Record<string, Record<string, number>> = {};
  for (const a of (await getConsumerAllocations('service', consumer)).allocations) {
    const host = nodes.find((n) => n.resourceProviderUuid === a.providerId)?.host ?? '?';
    out[host] = a.resources;
  }
  return out;
}
const lastMigration = (serverId: string) =>
  testDb().db.migration.findFirstOrThrow({ where: { serverId }, orderBy: { createdAt: 'desc' } });

beforeAll(async () => {
  ({ admin, hosts } = await setupFakeComputeTest(
    [A, B, C],
    (h) => new FakeComputeDriver({ vcpus: 64, memoryMb: 65536, diskGbTotal: 1000 }, h),
  ));
  flavor = await testFlavor(admin, { vcpus: 1, ramMb: 128, diskGb: 1 });
});

afterAll(async () => {
  await hosts.stop();
  await getPrisma(testDb().url).service.updateMany({ where: { host: C }, data: { forcedDown: false } });
});

describe('forced_down', () => {
  it('a forced-down service is down whatever its heartbeats say, and up again when unset', async () => {
    const s = await setComputeServiceForcedDown(admin, { host: C }, true);
    expect(s).toMatchObject({ host: C, binary: 'nova-compute', forcedDown: true, state: 'down', status: 'enabled' });
    const services = await listComputeServices(admin, { host: C });
    expect(services.map((x) => [x.binary, x.state, x.forcedDown])).toContainEqual(['nova-compute', 'down', true]);
    const hv = (await listHypervisors(admin)).find((h) => h.node.host === C);
    expect(hv?.state).toBe('down');
    // Unset and set again: the flag, not the heartbeat, decides.
    expect((await setComputeServiceForcedDown(admin, { host: C }, false)).state).toBe('up');
    expect((await setComputeServiceForcedDown(admin, { host: C }, true)).state).toBe('down');
  });

  it('only admins force services down; unknown services are not found', async () => {
    const m = await projectWithMember(admin);
    await expect(setComputeServiceForcedDown(m.auth.context, { host: A }, true)).rejects.toMatchObject({
      code: 'Forbidden',
    });
    await expect(setComputeServiceForcedDown(admin, { host: `nope-${tag}` }, true)).rejects.toMatchObject({
      code: 'NotFound',
    });
    expect((await listComputeServices(admin, { host: A, binary: 'nova-compute' }))[0]?.forcedDown).toBe(false);
  });

  it('the scheduler never builds on a forced-down host', async () => {
    const { servers } = await createServers(admin, {
      name: 'forced',
      imageRef: FAKE_IMAGE_ID,
      flavorRef: flavor.id,
      availabilityZone: `nova:${C}`,
    });
    const id = servers[0]?.id ?? '';
    const s = await until(id, 'ERROR');
    expect(s.fault?.message).toMatch(/No valid host/);
    expect(drv(C).domains.has(id)).toBe(false);
    await deleteServer(admin, id);
  });
});

describe('cold migration', () => {
  it('migrate → another host (never the forced-down one), disk copied, VERIFY_RESIZE; confirm keeps it there', async () => {
    const id = await boot('mig-confirm');
    await migrateServer(admin, id);
    const s = await until(id, 'VERIFY_RESIZE');
    // C is forced down: B is the only other host.
    expect(s.host).toBe(B);
    expect(drv(B).domains.get(id)?.state).toBe(PowerState.RUNNING);
    expect(drv(B).copiedFrom.get(id)).toBe(`/nonexistent/${A}/${id}/disk`);
    expect(drv(A).domains.has(id)).toBe(false);
    expect(drv(A).migratedAway.has(id)).toBe(true);
    const m = await lastMigration(id);
    expect(m).toMatchObject({ migrationType: 'migration', status: 'finished', sourceHost: A, destHost: B });
    // The server holds the destination, the migration the source.
    expect(Object.keys(await heldOn(id))).toEqual([B]);
    expect(Object.keys(await heldOn(m.id))).toEqual([A]);

    await confirmResize(admin, id);
    const done = await until(id, 'ACTIVE');
    expect(done.host).toBe(B);
    await waitFor(() => !drv(A).migratedAway.has(id), { what: 'source copy dropped' });
    expect(await heldOn(m.id)).toEqual({});
    expect(Object.keys(await heldOn(id))).toEqual([B]);
    expect((await lastMigration(id)).status).toBe('confirmed');
    const actions = await listInstanceActions(admin, id);
    const migrate = actions.find((a) => a.action === 'migrate');
    const detail = await getInstanceAction(admin, id, migrate?.requestId ?? '');
    expect((detail.events ?? []).map((e) => [e.event, e.result])).toEqual(
      expect.arrayContaining([
        ['conductor_migrate_server', 'Success'],
        ['compute_resize_instance', 'Success'],
        ['compute_finish_resize', 'Success'],
      ]),
    );
    await deleteServer(admin, id);
    await waitFor(async () => (await testDb().db.server.findUnique({ where: { id } }))?.deleted === true, {
      what: 'deleted',
    });
    expect(drv(B).domains.has(id)).toBe(false);
    expect(await heldOn(id)).toEqual({});
  });

  it('migrate to a named host; revert brings the guest back to the source with its allocations', async () => {
    const id = await boot('mig-revert');
    await migrateServer(admin, id, { host: B });
    const s = await until(id, 'VERIFY_RESIZE');
    expect(s.host).toBe(B);
    const m = await lastMigration(id);
    await revertResize(admin, id);
    const back = await until(id, 'ACTIVE');
    expect(back.host).toBe(A);
    expect(drv(A).domains.get(id)?.state).toBe(PowerState.RUNNING);
    expect(drv(A).migratedAway.has(id)).toBe(false);
    expect(drv(B).domains.has(id)).toBe(false);
    expect(Object.keys(await heldOn(id))).toEqual([A]);
    expect(await heldOn(m.id)).toEqual({});
    expect((await lastMigration(id)).status).toBe('reverted');
    await deleteServer(admin, id);
  });

  it('a stopped server stays stopped at the destination', async () => {
    const id = await boot('mig-stopped');
    const { serverPowerAction } = await import('@stratus/core');
    await serverPowerAction(admin, id, 'stop');
    await until(id, 'SHUTOFF');
    await migrateServer(admin, id, { host: B });
    const s = await until(id, 'VERIFY_RESIZE');
    expect(s.powerState).toBe(PowerState.SHUTDOWN);
    expect(drv(B).domains.get(id)?.state).toBe(PowerState.SHUTDOWN);
    await confirmResize(admin, id);
    expect((await until(id, 'SHUTOFF')).host).toBe(B);
    await deleteServer(admin, id);
  });

  it('bad input: same host, unknown host, non-admin, unknown server → 400/403/404 and nothing changes', async () => {
    const id = await boot('mig-bad');
    const { db } = testDb();
    const before = await db.migration.count({ where: { serverId: id } });
    await expect(migrateServer(admin, id, { host: A })).rejects.toMatchObject({ code: 'BadRequest' });
    await expect(migrateServer(admin, id, { host: `nope-${tag}` })).rejects.toMatchObject({ code: 'BadRequest' });
    await expect(migrateServer(admin, randomUUID())).rejects.toMatchObject({ code: 'NotFound' });
    // A member of the server's own project is refused by policy; another project's sees nothing.
    const m = await projectWithMember(admin);
    const { servers } = await createServers(m.auth.context, {
      name: 'mine',
      imageRef: FAKE_IMAGE_ID,
      flavorRef: flavor.id,
    });
    const own = servers[0]?.id ?? '';
    await expect(migrateServer(m.auth.context, own)).rejects.toMatchObject({ code: 'Forbidden' });
    await expect(migrateServer(m.auth.context, id)).rejects.toMatchObject({ code: 'NotFound' });
    expect(await db.migration.count({ where: { serverId: id } })).toBe(before);
    const s = await getServer(admin, id);
    expect(s).toMatchObject({ status: 'ACTIVE', host: A, taskState: null });
    // A forced-down destination is no valid host, refused at once as Nova's API does (400).
    await expect(migrateServer(admin, id, { host: C })).rejects.toMatchObject({
      code: 'BadRequest',
      message: expect.stringMatching(/No valid host/),
    });
    expect(await db.migration.count({ where: { serverId: id } })).toBe(before);
    expect(await getServer(admin, id)).toMatchObject({ status: 'ACTIVE', host: A, taskState: null });
    await deleteServer(admin, id);
    await deleteServer(m.auth.context, own);
  });

  it('the scheduler refuses the destination (anti-affinity): the server stays on its host with the fault', async () => {
    const group = await createServerGroup(admin, { name: `mig-aa-${tag}`, policy: 'anti-affinity' });
    const boot2 = async (name: string, host: string) => {
      const { servers } = await createServers(admin, {
        name,
        imageRef: FAKE_IMAGE_ID,
        flavorRef: flavor.id,
        serverGroupId: group.id,
        availabilityZone: `nova:${host}`,
      });
      const id = servers[0]?.id ?? '';
      expect((await until(id, 'ACTIVE')).host).toBe(host);
      return id;
    };
    const id = await boot2('mig-aa-1', A);
    const other = await boot2('mig-aa-2', B);
    // B is up and enabled (the API accepts), but it holds the group's other member.
    await migrateServer(admin, id, { host: B });
    await waitFor(async () => (await lastMigration(id)).status === 'error', { what: 'migration error' });
    const after = await until(id, 'ACTIVE');
    expect(after.host).toBe(A);
    expect(after.fault?.message).toMatch(/No valid host/);
    expect(drv(A).domains.get(id)?.state).toBe(PowerState.RUNNING);
    expect(Object.keys(await heldOn(id))).toEqual([A]);
    expect(await heldOn((await lastMigration(id)).id)).toEqual({});
    await deleteServer(admin, id);
    await deleteServer(admin, other);
  });
});
