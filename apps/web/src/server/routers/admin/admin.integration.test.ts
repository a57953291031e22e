import type { AuthContext } from '@stratus/core/identity/index';
import { heartbeat } from '@stratus/core/platform/services';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { createNetwork, deleteNetwork } from '@stratus/core/network/index';
import { TRPCError } from '@trpc/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../../../test/helpers.ts';
import { createCallerFactory } from '../../trpc/init';
import { adminRouter } from './index';

/*
 * The admin router as the dashboard calls it: admins read hypervisors, services and
 * every project's servers; members are refused with FORBIDDEN (core's policy, mapped);
 * the overview's quota sections count the member's own resources.
 */
let admin: AuthContext;
let member: AuthContext;
const caller = (auth: AuthContext) => createCallerFactory(adminRouter)({ auth });

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(e)}`);
  return e.code;
}

beforeAll(async () => {
  await setupIdentityTest(testDb().url, { STRATUS_QUOTA_INSTANCES: '7' });
  admin = await adminContext();
  member = (await projectWithMember(admin)).auth.context;
});

describe('admin router', () => {
  it('serves the admin lists to admins and refuses members', async () => {
    const a = caller(admin);
    const h = await a.hypervisors.list();
    expect(h.serviceDownSeconds).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(h.serverNow))).toBe(false);
    expect(Array.isArray(h.hypervisors)).toBe(true);
    expect(Array.isArray((await a.services.list()).services)).toBe(true);
    const servers = await a.instances.list({ limit: 5 });
    expect(servers.items.length).toBeLessThanOrEqual(5);
    expect((await a.projects()).some((p) => p.id === member.projectId)).toBe(true);

    const m = caller(member);
    expect(await codeOf(m.hypervisors.list())).toBe('FORBIDDEN');
    expect(await codeOf(m.services.list())).toBe('FORBIDDEN');
    expect(await codeOf(m.instances.list({ limit: 5 }))).toBe('FORBIDDEN');
    expect(await codeOf(m.projects())).toBe('FORBIDDEN');
    expect(await codeOf(m.services.setStatus({ serviceId: crypto.randomUUID(), disabled: true, reason: 'x' }))).toBe(
      'FORBIDDEN',
    );
    expect(await codeOf(a.services.setStatus({ serviceId: 'not-a-uuid', disabled: true }))).toBe('BAD_REQUEST');
    expect(await codeOf(a.services.setStatus({ serviceId: crypto.randomUUID(), disabled: true }))).toBe('NOT_FOUND');
  });

  it('forces a compute service down and back up for admins only', async () => {
    const host = unique('force');
    await heartbeat(testDb().db, { binary: 'stratus-worker', host, roles: ['compute'] }, { starting: true });
    const a = caller(admin);
    const svc = (await a.services.list()).services.find((s) => s.host === host && s.binary === 'nova-compute');
    if (!svc) throw new Error('service not listed');
    expect(svc).toMatchObject({ state: 'up', forcedDown: false });
    expect(await codeOf(caller(member).services.setForcedDown({ serviceId: svc.id, forcedDown: true }))).toBe(
      'FORBIDDEN',
    );
    expect(await a.services.setForcedDown({ serviceId: svc.id, forcedDown: true })).toMatchObject({
      state: 'down',
      forcedDown: true,
    });
    expect(await a.services.setForcedDown({ serviceId: svc.id, forcedDown: false })).toMatchObject({
      state: 'up',
      forcedDown: false,
    });
    expect(await codeOf(a.services.setForcedDown({ serviceId: crypto.randomUUID(), forcedDown: true }))).toBe(
      'NOT_FOUND',
    );
  });

  it('manages host aggregates for admins only', async () => {
    const a = caller(admin);
    const name = unique('agg');
    const created = await a.aggregates.create({ name, availabilityZone: `az-${name}` });
    try {
      expect(created).toMatchObject({ name, availabilityZone: `az-${name}`, hosts: [] });
      const withMeta = await a.aggregates.setMetadata({ id: created.id, metadata: { ssd: 'true' } });
      expect(withMeta.metadata).toEqual({ availability_zone: `az-${name}`, ssd: 'true' });
      const renamed = await a.aggregates.update({ id: created.id, name: `${name}-2` });
      expect(renamed.name).toBe(`${name}-2`);
      expect((await a.aggregates.list()).some((x) => x.id === created.id)).toBe(true);
      expect(await codeOf(a.aggregates.create({ name: `${name}-2` }))).toBe('CONFLICT');
      expect(await codeOf(a.aggregates.addHost({ id: created.id, host: `no-such-${name}` }))).toBe('NOT_FOUND');
      const m = caller(member);
      expect(await codeOf(m.aggregates.list())).toBe('FORBIDDEN');
      expect(await codeOf(m.aggregates.delete({ id: created.id }))).toBe('FORBIDDEN');
    } finally {
      await a.aggregates.delete({ id: created.id });
    }
    expect((await caller(admin).aggregates.list()).some((x) => x.id === created.id)).toBe(false);
  });

  it("gives a member their project's compute and network quota usage", async () => {
    const net = await createNetwork(member, { name: unique('quota') });
    try {
      const sections = await caller(member).projectQuotas();
      expect(sections.map((s) => s.service)).toEqual(['compute', 'network', 'volume']);
      const compute = sections[0]?.gauges ?? [];
      expect(compute.map((g) => g.resource)).toEqual(['instances', 'cores', 'ram', 'key_pairs', 'server_groups']);
      expect(compute.find((g) => g.resource === 'instances')).toMatchObject({ used: 0, limit: 7 });
      const network = sections[1]?.gauges ?? [];
      expect(network.find((g) => g.resource === 'network')).toMatchObject({ used: 1 });
      expect(network.map((g) => g.resource)).toContain('floatingip');
    } finally {
      await deleteNetwork(member, net.id);
    }
  });
});
