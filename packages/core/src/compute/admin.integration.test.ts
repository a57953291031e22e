import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../test/helpers.ts';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '../identity/test-support.ts';
import type { AuthContext } from '../identity/types.ts';
import { claimAllocations, deleteAllocations } from '../placement/index.ts';
import { summarizeProviders } from '../placement/summary.ts';
import {
  createFlavorWithDetails,
  getHypervisorUsage,
  listAllServers,
  listHypervisorServers,
  listHypervisorUsage,
} from './admin.ts';
import { createFlavor, deleteFlavor, type Flavor, getExtraSpecs, listFlavorAccess, listFlavors } from './flavors.ts';
import { registerComputeNode } from './hosts.ts';
import { PowerState, VmState } from './state.ts';

/*
 * The admin dashboard's core reads against the real database: hypervisor usage from
 * placement (with allocation ratios and reserved amounts) and instance counts, every
 * project's servers with project names and filters, and flavor creation with extra
 * specs and access in one step. Other test files share this database and run compute
 * workers, so the test host is registered with its compute service disabled (no
 * scheduler places anything on it) and its servers are written as a finished build
 * would leave them, never queued.
 */
const tag = randomUUID().slice(0, 8);
const host = `admin-test-${tag}`;
let admin: AuthContext;
let memberA: AuthContext;
let memberB: AuthContext;
let projectA: { id: string; name: string };
let projectB: { id: string; name: string };
let flavor: Flavor;
let providerId: string;
const servers: string[] = [];

async function placeServer(ctx: AuthContext, name: string, o: { running: boolean; deleted?: boolean }) {
  const { db } = testDb();
  const id = randomUUID();
  await db.server.create({
    data: {
      id,
      name,
      hostname: name,
      projectId: ctx.projectId ?? '',
      userId: ctx.userId,
      flavorId: flavor.id,
      flavor: {
        id: flavor.id,
        name: flavor.name,
        vcpus: flavor.vcpus,
        ramMb: flavor.ramMb,
        diskGb: flavor.diskGb,
        ephemeralGb: 0,
        swapMb: 0,
        extraSpecs: {},
      },
      imageId: randomUUID(),
      reservationId: `r-${tag}`,
      host,
      node: host,
      vmState: o.running ? VmState.ACTIVE : VmState.STOPPED,
      powerState: o.running ? PowerState.RUNNING : PowerState.SHUTDOWN,
      deleted: o.deleted ?? false,
    },
  });
  if (!o.deleted) {
    await claimAllocations('service', {
      consumerId: id,
      projectId: ctx.projectId ?? '',
      userId: ctx.userId,
      allocations: [{ providerId, resources: { VCPU: flavor.vcpus, MEMORY_MB: flavor.ramMb, DISK_GB: flavor.diskGb } }],
    });
  }
  servers.push(id);
  return id;
}

beforeAll(async () => {
  const { url, db } = testDb();
  await setupIdentityTest(url, {
    STRATUS_CPU_ALLOCATION_RATIO: '4',
    STRATUS_RESERVED_HOST_MEMORY_MB: '512',
    STRATUS_RESERVED_HOST_DISK_GB: '0',
  });
  admin = await adminContext();
  const a = await projectWithMember(admin);
  const b = await projectWithMember(admin);
  memberA = a.auth.context;
  memberB = b.auth.context;
  projectA = { id: a.project.id, name: a.project.name };
  projectB = { id: b.project.id, name: b.project.name };
  flavor = await createFlavor(admin, { name: unique('adm'), vcpus: 2, ramMb: 256, diskGb: 1 });
  // Disabled before the node exists, so no scheduler of another test file picks this host.
  await db.service.create({
    data: { binary: 'stratus-worker', host, roles: ['compute'], disabled: true, disabledReason: 'admin test host' },
  });
  const node = await registerComputeNode(host, {
    hypervisorType: 'QEMU',
    hypervisorVersion: '7.2.0',
    cpuModel: 'test-cpu',
    arch: 'x86_64',
    vcpus: 4,
    memoryMb: 8192,
    diskGbTotal: 50,
  });
  providerId = node.resourceProviderUuid;
  await placeServer(memberA, `a-run-${tag}`, { running: true });
  await placeServer(memberA, `a-off-${tag}`, { running: false });
  await placeServer(memberB, `b-run-${tag}`, { running: true });
  await placeServer(memberB, `b-gone-${tag}`, { running: false, deleted: true });
});

afterAll(async () => {
  const { db } = testDb();
  for (const id of servers) await deleteAllocations('service', id).catch(() => undefined);
  await db.server.deleteMany({ where: { id: { in: servers } } });
  await db.computeNode.deleteMany({ where: { host } });
  await db.resourceProvider.deleteMany({ where: { id: providerId } });
  await db.service.deleteMany({ where: { host } });
  await deleteFlavor(admin, flavor.id).catch(() => undefined);
});

describe('hypervisor usage', () => {
  it('joins placement inventories (ratio, reserved) and usages with instance counts and service state', async () => {
    const { hypervisors, serviceDownSeconds } = await listHypervisorUsage(admin);
    expect(serviceDownSeconds).toBeGreaterThan(0);
    const h = hypervisors.find((x) => x.host === host);
    expect(h).toBeDefined();
    expect(h).toMatchObject({
      state: 'up',
      status: 'disabled',
      disabledReason: 'admin test host',
      instances: 3,
      running: 2,
      resourceProviderUuid: providerId,
    });
    expect(h?.lastHeartbeat).toBeInstanceOf(Date);
    expect(h?.resources.VCPU).toEqual({ total: 4, reserved: 0, allocationRatio: 4, capacity: 16, used: 6 });
    expect(h?.resources.MEMORY_MB).toEqual({
      total: 8192,
      reserved: 512,
      allocationRatio: 1,
      capacity: 7680,
      used: 768,
    });
    expect(h?.resources.DISK_GB).toMatchObject({ total: 50, capacity: 50, used: 3 });

    const one = await getHypervisorUsage(admin, host);
    expect(one.id).toBe(h?.id);
    expect((await getHypervisorUsage(admin, one.id)).resources).toEqual(h?.resources);
  });

  it('follows the heartbeat: a stale one reads down', async () => {
    const { db } = testDb();
    await db.service.update({
      where: { binary_host: { binary: 'stratus-worker', host } },
      data: { lastHeartbeat: new Date(Date.now() - 3600_000) },
    });
    expect((await getHypervisorUsage(admin, host)).state).toBe('down');
    await db.service.update({
      where: { binary_host: { binary: 'stratus-worker', host } },
      data: { lastHeartbeat: new Date() },
    });
    expect((await getHypervisorUsage(admin, host)).state).toBe('up');
  });

  it('summarizes many providers in one call and skips unknown or malformed ids', async () => {
    const rows = await summarizeProviders('service', [providerId, randomUUID(), 'not-a-uuid']);
    expect(rows.map((r) => r.uuid)).toEqual([providerId]);
    expect(rows[0]?.resources.VCPU?.used).toBe(6);
    await expect(summarizeProviders(memberA, [providerId])).rejects.toMatchObject({ code: 'Forbidden' });
  });

  it('is refused to project members', async () => {
    await expect(listHypervisorUsage(memberA)).rejects.toMatchObject({ code: 'Forbidden' });
    await expect(getHypervisorUsage(memberA, host)).rejects.toMatchObject({ code: 'Forbidden' });
    await expect(listHypervisorServers(memberA, host)).rejects.toMatchObject({ code: 'Forbidden' });
    await expect(getHypervisorUsage(admin, `no-such-${tag}`)).rejects.toMatchObject({ code: 'NotFound' });
  });
});

describe('all instances', () => {
  it("lists every project's servers with project names, filtered by host, project, status and name", async () => {
    const onHost = await listAllServers(admin, { host, limit: 50 });
    expect(onHost.items.map((s) => s.name).sort()).toEqual([`a-off-${tag}`, `a-run-${tag}`, `b-run-${tag}`]);
    expect(onHost.next).toBeNull();
    const b = onHost.items.find((s) => s.name === `b-run-${tag}`);
    expect(b).toMatchObject({ projectId: projectB.id, projectName: projectB.name, host, status: 'ACTIVE' });

    const a = await listAllServers(admin, { projectId: projectA.id });
    expect(a.items.every((s) => s.projectName === projectA.name)).toBe(true);
    expect(a.items.map((s) => s.name).sort()).toEqual([`a-off-${tag}`, `a-run-${tag}`]);

    const off = await listAllServers(admin, { host, status: 'SHUTOFF' });
    expect(off.items.map((s) => s.name)).toEqual([`a-off-${tag}`]);

    // The name filter is literal: regex characters match themselves.
    expect((await listAllServers(admin, { host, name: `run-${tag}` })).items).toHaveLength(2);
    expect((await listAllServers(admin, { host, name: '.*' })).items).toHaveLength(0);

    const viaHypervisor = await listHypervisorServers(admin, host);
    expect(viaHypervisor.items.map((s) => s.id).sort()).toEqual(onHost.items.map((s) => s.id).sort());
  });

  it('pages with a marker', async () => {
    const first = await listAllServers(admin, { host, limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.next).toBe(first.items[1]?.id);
    const second = await listAllServers(admin, { host, limit: 2, marker: first.next ?? '' });
    expect(second.items).toHaveLength(1);
    expect(second.next).toBeNull();
    const seen = [...first.items, ...second.items].map((s) => s.id);
    expect(new Set(seen).size).toBe(3);
  });

  it('is refused to project members (cloud admins only)', async () => {
    await expect(listAllServers(memberA)).rejects.toMatchObject({ code: 'Forbidden' });
    await expect(listAllServers(memberB, { projectId: projectA.id })).rejects.toMatchObject({ code: 'Forbidden' });
  });
});

describe('flavor creation with details', () => {
  it('creates a private flavor with extra specs and project access in one call', async () => {
    const f = await createFlavorWithDetails(admin, {
      flavor: { name: unique('priv'), vcpus: 1, ramMb: 128, diskGb: 1, isPublic: false },
      extraSpecs: { 'hw:cpu_policy': 'dedicated', 'aggregate_instance_extra_specs:ssd': 'true' },
      projectIds: [projectA.id],
    });
    try {
      expect(f.extraSpecs).toEqual({ 'hw:cpu_policy': 'dedicated', 'aggregate_instance_extra_specs:ssd': 'true' });
      expect(await getExtraSpecs(admin, f.id)).toEqual(f.extraSpecs);
      expect((await listFlavorAccess(admin, f.id)).map((a) => a.projectId)).toEqual([projectA.id]);
      expect((await listFlavors(memberA)).some((x) => x.id === f.id)).toBe(true);
      expect((await listFlavors(memberB)).some((x) => x.id === f.id)).toBe(false);
    } finally {
      await deleteFlavor(admin, f.id);
    }
  });

  it('refuses before writing anything: unknown project, access on a public flavor, bad specs, non-admins', async () => {
    const { db } = testDb();
    const name = unique('refused');
    await expect(
      createFlavorWithDetails(admin, {
        flavor: { name, vcpus: 1, ramMb: 128, diskGb: 1, isPublic: false },
        projectIds: [randomUUID()],
      }),
    ).rejects.toMatchObject({ code: 'BadRequest' });
    await expect(
      createFlavorWithDetails(admin, {
        flavor: { name, vcpus: 1, ramMb: 128, diskGb: 1, isPublic: true },
        projectIds: [projectA.id],
      }),
    ).rejects.toMatchObject({ code: 'BadRequest' });
    await expect(
      createFlavorWithDetails(admin, {
        flavor: { name, vcpus: 1, ramMb: 128, diskGb: 1 },
        extraSpecs: { k: 'x'.repeat(300) },
      }),
    ).rejects.toMatchObject({ code: 'BadRequest' });
    await expect(
      createFlavorWithDetails(memberA, { flavor: { name, vcpus: 1, ramMb: 128, diskGb: 1 } }),
    ).rejects.toMatchObject({ code: 'Forbidden' });
    expect(await db.flavor.count({ where: { name } })).toBe(0);
  });
});
