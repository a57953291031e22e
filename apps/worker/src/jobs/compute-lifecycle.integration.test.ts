import { randomUUID } from 'node:crypto';
import {
  type AuthContext,
  confirmResize,
  deleteServer,
  getConsumerAllocations,
  listInstanceActions,
  getInstanceAction,
  quotaUsage,
  rebuildServer,
  resizeServer,
  revertResize,
  serverPowerAction,
} from '@stratus/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { PowerState } from '../drivers/compute/types.ts';
import type { FakeComputeDriver } from './compute/fake-driver.ts';
import { FAKE_IMAGE_ID, testFlavor } from './compute/test-support.ts';
import { bootOnHost, type FakeComputeHosts, setupFakeComputeTest, untilStatus } from './compute/integration-support.ts';

/*
 * Rebuild and resize/confirm/revert through the real jobs, queue, placement and
 * database, with the in-memory driver: states, instance actions, flavors, the two
 * placement consumers of a resize (server and migration) and what confirm, revert and
 * delete leave of them.
 */
const tag = randomUUID().slice(0, 8);
let hosts: FakeComputeHosts;
let admin: AuthContext;
let member: AuthContext;
let projectId: string;
let driver: FakeComputeDriver;
let small: { id: string };
let big: { id: string };
let tinyDisk: { id: string };

const until = (id: string, status: string) => untilStatus(member, id, status);
/**
 * Boots a server on this file's fake host (forced: other test files' hosts may be
 * registered without a worker). Forcing a host needs an admin, so the test acts as one.
 */
const boot = (name: string) => bootOnHost(member, { name, flavorRef: small.id, host: `life-${tag}` });
const allocationsOf = async (consumer: string) =>
  (await getConsumerAllocations('service', consumer)).allocations.map((a) => a.resources);

beforeAll(async () => {
  const host = `life-${tag}`;
  ({ admin, hosts } = await setupFakeComputeTest([host]));
  member = admin;
  projectId = admin.projectId ?? '';
  small = await testFlavor(admin, { vcpus: 1, ramMb: 128, diskGb: 1 });
  big = await testFlavor(admin, { vcpus: 2, ramMb: 256, diskGb: 2 });
  tinyDisk = await testFlavor(admin, { vcpus: 1, ramMb: 128, diskGb: 0 });
  driver = hosts.drivers.get(host) as FakeComputeDriver;
});

afterAll(async () => {
  await hosts.stop();
});

describe('rebuild and resize', () => {
  it('rebuild recreates the guest and records the action; a stopped server stays stopped', async () => {
    const id = await boot('rb');
    const spawns = driver.spawnCalls;
    const r = await rebuildServer(member, id, { imageRef: FAKE_IMAGE_ID, name: 'rb-2' });
    expect(r.status).toBe('REBUILD');
    await expect(rebuildServer(member, id, { imageRef: FAKE_IMAGE_ID })).rejects.toMatchObject({ code: 'Conflict' });
    const s1 = await until(id, 'ACTIVE');
    expect(s1.name).toBe('rb-2');
    expect(driver.spawnCalls).toBe(spawns + 1);
    expect(driver.domains.get(id)?.state).toBe(PowerState.RUNNING);
    const actions = await listInstanceActions(member, id);
    const rebuild = actions.find((a) => a.action === 'rebuild');
    expect(rebuild).toBeDefined();
    const detail = await getInstanceAction(member, id, rebuild?.requestId ?? '');
    expect((detail.events ?? []).map((e) => [e.event, e.result])).toContainEqual([
      'compute_rebuild_instance',
      'Success',
    ]);
    await expect(rebuildServer(member, id, { imageRef: randomUUID() })).rejects.toMatchObject({ code: 'BadRequest' });

    await serverPowerAction(member, id, 'stop');
    await until(id, 'SHUTOFF');
    await rebuildServer(member, id, { imageRef: FAKE_IMAGE_ID });
    await until(id, 'SHUTOFF');
    expect(driver.domains.get(id)?.state).toBe(PowerState.SHUTDOWN);
    await deleteServer(member, id);
    await waitFor(async () => (await testDb().db.server.findUnique({ where: { id } }))?.deleted, { what: 'deleted' });
  });

  it('resize → VERIFY_RESIZE holds both flavors; revert gives the old back; confirm frees the old', async () => {
    const id = await boot('rs');
    const { db } = testDb();
    const host = (await db.server.findUniqueOrThrow({ where: { id } })).host ?? '';
    expect(await allocationsOf(id)).toEqual([{ VCPU: 1, MEMORY_MB: 128, DISK_GB: 1 }]);

    await expect(resizeServer(member, id, small.id)).rejects.toMatchObject({ code: 'BadRequest' });
    await expect(resizeServer(member, id, tinyDisk.id)).rejects.toMatchObject({ code: 'BadRequest' });
    await expect(resizeServer(member, id, 'no-such-flavor')).rejects.toMatchObject({ code: 'BadRequest' });
    await expect(confirmResize(member, id)).rejects.toMatchObject({ code: 'Conflict' });

    const before = await quotaUsage(projectId);
    await resizeServer(member, id, big.id);
    const v = await until(id, 'VERIFY_RESIZE');
    expect(v.flavor).toMatchObject({ id: big.id, vcpus: 2, ramMb: 256 });
    const m = await db.migration.findFirstOrThrow({ where: { serverId: id }, orderBy: { createdAt: 'desc' } });
    expect(m).toMatchObject({ status: 'finished', sourceHost: host, destHost: host });
    // Server holds the new flavor, the migration the old one, on the same provider.
    expect(await allocationsOf(id)).toEqual([{ VCPU: 2, MEMORY_MB: 256, DISK_GB: 2 }]);
    expect(await allocationsOf(m.id)).toEqual([{ VCPU: 1, MEMORY_MB: 128, DISK_GB: 1 }]);
    expect(host).toBe(`life-${tag}`);
    expect(driver.domains.get(id)?.spec).toMatchObject({ vcpus: 2, memoryMb: 256 });
    // Quota counts the larger flavor while the resize is open.
    expect((await quotaUsage(projectId)).cores).toBe(before.cores + 1);

    await revertResize(member, id);
    const r = await until(id, 'ACTIVE');
    expect(r.flavor).toMatchObject({ id: small.id, vcpus: 1 });
    expect(await allocationsOf(id)).toEqual([{ VCPU: 1, MEMORY_MB: 128, DISK_GB: 1 }]);
    expect(await allocationsOf(m.id)).toEqual([]);
    expect((await db.migration.findUniqueOrThrow({ where: { id: m.id } })).status).toBe('reverted');
    expect(driver.domains.get(id)?.spec).toMatchObject({ vcpus: 1, memoryMb: 128 });

    await resizeServer(member, id, big.id);
    await until(id, 'VERIFY_RESIZE');
    const m2 = await db.migration.findFirstOrThrow({ where: { serverId: id }, orderBy: { createdAt: 'desc' } });
    await confirmResize(member, id);
    const c = await until(id, 'ACTIVE');
    expect(c.flavor).toMatchObject({ id: big.id, vcpus: 2 });
    expect(await allocationsOf(id)).toEqual([{ VCPU: 2, MEMORY_MB: 256, DISK_GB: 2 }]);
    expect(await allocationsOf(m2.id)).toEqual([]);
    expect((await db.migration.findUniqueOrThrow({ where: { id: m2.id } })).status).toBe('confirmed');
    expect((await quotaUsage(projectId)).cores).toBe(before.cores + 1);
    const actions = (await listInstanceActions(member, id)).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['create', 'resize', 'revertResize', 'confirmResize']));

    // Delete in the middle of a resize frees both consumers.
    await resizeServer(member, id, (await testFlavor(admin, { vcpus: 3, ramMb: 256, diskGb: 2 })).id);
    await until(id, 'VERIFY_RESIZE');
    const m3 = await db.migration.findFirstOrThrow({ where: { serverId: id }, orderBy: { createdAt: 'desc' } });
    expect(await allocationsOf(m3.id)).toHaveLength(1);
    await deleteServer(member, id);
    await waitFor(async () => (await db.server.findUnique({ where: { id } }))?.deleted, { what: 'deleted' });
    expect(await allocationsOf(id)).toEqual([]);
    expect(await allocationsOf(m3.id)).toEqual([]);
  });
});
