import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../test/helpers.ts';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '../identity/test-support.ts';
import type { AuthContext } from '../identity/types.ts';
import { isStratusError } from '../platform/errors.ts';
import { selectDestinations } from '../scheduler/select.ts';
import type { ComputeHostInfo, ComputeInfoSource } from '../scheduler/types.ts';
import * as pl from './index.ts';

let admin: AuthContext;
const P = `proj-${randomUUID()}`;
const U = `user-${randomUUID()}`;

async function provider(inv: Record<string, pl.InventoryInput>, name = unique('rp')) {
  const rp = await pl.createResourceProvider('service', { name });
  const r = await pl.setInventories('service', rp.uuid, {
    resourceProviderGeneration: rp.generation,
    inventories: inv,
  });
  return { ...rp, generation: r.resourceProviderGeneration };
}

async function conflictOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    if (isStratusError(e) && e.code === 'Conflict') return String(e.details?.placementCode ?? 'conflict');
    throw e;
  }
  return undefined;
}

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  admin = await adminContext();
});

describe('placement core', () => {
  it('providers: create, duplicate name 409, show, rename, tree, delete', async () => {
    const name = unique('rp');
    const rp = await pl.createResourceProvider(admin, { name });
    expect(rp).toMatchObject({ name, generation: 0, parentProviderUuid: null, rootProviderUuid: rp.uuid });
    expect(await conflictOf(pl.createResourceProvider(admin, { name }))).toBe('placement.duplicate_name');
    const child = await pl.createResourceProvider(admin, { name: unique('child'), parentProviderUuid: rp.uuid });
    expect(child.rootProviderUuid).toBe(rp.uuid);
    expect(await conflictOf(pl.deleteResourceProvider(admin, rp.uuid))).toBe(
      'placement.resource_provider.cannot_delete_parent',
    );
    const renamed = await pl.updateResourceProvider(admin, child.uuid, { name: `${name}-renamed` });
    expect(renamed.name).toBe(`${name}-renamed`);
    expect((await pl.listResourceProviders(admin, { name: `${name}-renamed` })).map((r) => r.uuid)).toEqual([
      child.uuid,
    ]);
    expect((await pl.listResourceProviders(admin, { inTree: rp.uuid })).length).toBe(2);
    await pl.deleteResourceProvider(admin, child.uuid);
    await pl.deleteResourceProvider(admin, rp.uuid);
    await expect(pl.getResourceProvider(admin, rp.uuid)).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('placement:* is admin-only by default', async () => {
    const { auth } = await projectWithMember(admin, 'member');
    await expect(pl.listResourceProviders(auth.context, {})).rejects.toMatchObject({ code: 'Forbidden' });
    await expect(pl.getAllocationCandidates(auth.context, { resources: { VCPU: 1 } })).rejects.toMatchObject({
      code: 'Forbidden',
    });
  });

  it('inventories: replace with a generation check → 409 on mismatch; in-use classes cannot go', async () => {
    const rp = await pl.createResourceProvider(admin, { name: unique('rp') });
    const r1 = await pl.setInventories(admin, rp.uuid, {
      resourceProviderGeneration: 0,
      inventories: { VCPU: { total: 8, allocationRatio: 2 }, MEMORY_MB: { total: 4096, reserved: 512 } },
    });
    expect(r1.resourceProviderGeneration).toBe(1);
    expect(r1.inventories.VCPU).toEqual({
      total: 8,
      reserved: 0,
      minUnit: 1,
      maxUnit: 2147483647,
      stepSize: 1,
      allocationRatio: 2,
    });
    expect(
      await conflictOf(pl.setInventories(admin, rp.uuid, { resourceProviderGeneration: 0, inventories: {} })),
    ).toBe('placement.concurrent_update');
    await expect(
      pl.setInventories(admin, rp.uuid, {
        resourceProviderGeneration: 1,
        inventories: { VCPU: { total: 1, reserved: 2 } },
      }),
    ).rejects.toMatchObject({ code: 'BadRequest' });
    await expect(
      pl.setInventories(admin, rp.uuid, { resourceProviderGeneration: 1, inventories: { BOGUS: { total: 1 } } }),
    ).rejects.toMatchObject({ code: 'BadRequest' });
    const consumer = randomUUID();
    await pl.claimAllocations(admin, {
      consumerId: consumer,
      projectId: P,
      userId: U,
      allocations: [{ providerId: rp.uuid, resources: { VCPU: 2 } }],
    });
    const gen = (await pl.getResourceProvider(admin, rp.uuid)).generation;
    expect(gen).toBe(2);
    expect(
      await conflictOf(
        pl.setInventories(admin, rp.uuid, {
          resourceProviderGeneration: gen,
          inventories: { MEMORY_MB: { total: 4096 } },
        }),
      ),
    ).toBe('placement.inventory.inuse');
    expect(await conflictOf(pl.deleteInventory(admin, rp.uuid, 'VCPU'))).toBe('placement.inventory.inuse');
    const one = await pl.setInventory(admin, rp.uuid, 'CUSTOM_GPU', { total: 2, resourceProviderGeneration: gen });
    expect(one.resourceProviderGeneration).toBe(gen + 1);
    expect((await pl.getProviderUsages(admin, rp.uuid)).usages).toEqual({ CUSTOM_GPU: 0, MEMORY_MB: 0, VCPU: 2 });
    expect(await pl.listResourceClasses(admin)).toContain('CUSTOM_GPU');
    await pl.deleteAllocations(admin, consumer);
    await pl.deleteInventory(admin, rp.uuid);
    expect((await pl.getInventories(admin, rp.uuid)).inventories).toEqual({});
  });

  it('allocations: capacity = (total - reserved) * ratio, replace semantics, consumer generations', async () => {
    const a = await provider({ VCPU: { total: 4, reserved: 1, allocationRatio: 2 }, MEMORY_MB: { total: 2048 } });
    const b = await provider({ VCPU: { total: 4 }, MEMORY_MB: { total: 2048 } });
    const c = randomUUID();
    // capacity of a's VCPU = (4 - 1) * 2 = 6
    expect(
      await conflictOf(
        pl.claimAllocations(admin, {
          consumerId: c,
          projectId: P,
          userId: U,
          allocations: [{ providerId: a.uuid, resources: { VCPU: 7 } }],
        }),
      ),
    ).toBe('placement.undefined_code');
    const g0 = await pl.claimAllocations(admin, {
      consumerId: c,
      projectId: P,
      userId: U,
      consumerGeneration: null,
      allocations: [{ providerId: a.uuid, resources: { VCPU: 6, MEMORY_MB: 1024 } }],
    });
    expect(g0.consumerGeneration).toBe(0);
    // A new consumer expected (null) but it exists → conflict; a stale generation → conflict.
    expect(
      await conflictOf(
        pl.claimAllocations(admin, {
          consumerId: c,
          projectId: P,
          userId: U,
          consumerGeneration: null,
          allocations: [],
        }),
      ),
    ).toBe('placement.concurrent_update');
    expect(
      await conflictOf(
        pl.claimAllocations(admin, { consumerId: c, projectId: P, userId: U, consumerGeneration: 5, allocations: [] }),
      ),
    ).toBe('placement.concurrent_update');
    // Replace: move everything to b in one step; a is free again.
    const g1 = await pl.claimAllocations(admin, {
      consumerId: c,
      projectId: P,
      userId: U,
      consumerGeneration: 0,
      allocations: [{ providerId: b.uuid, resources: { VCPU: 2, MEMORY_MB: 512 } }],
    });
    expect(g1.consumerGeneration).toBe(1);
    expect((await pl.getProviderUsages(admin, a.uuid)).usages).toEqual({ MEMORY_MB: 0, VCPU: 0 });
    expect((await pl.getProviderUsages(admin, b.uuid)).usages).toEqual({ MEMORY_MB: 512, VCPU: 2 });
    const view = await pl.getConsumerAllocations(admin, c);
    expect(view).toMatchObject({
      projectId: P,
      userId: U,
      generation: 1,
      allocations: [{ providerId: b.uuid, resources: { VCPU: 2, MEMORY_MB: 512 } }],
    });
    // A failed replace leaves the previous allocations untouched.
    expect(
      await conflictOf(
        pl.claimAllocations(admin, {
          consumerId: c,
          projectId: P,
          userId: U,
          allocations: [{ providerId: a.uuid, resources: { VCPU: 100 } }],
        }),
      ),
    ).toBeDefined();
    expect((await pl.getConsumerAllocations(admin, c)).allocations).toHaveLength(1);
    expect(await pl.getProjectUsages(admin, { projectId: P, userId: U })).toMatchObject({ VCPU: 2, MEMORY_MB: 512 });
    expect((await pl.getProviderAllocations(admin, b.uuid)).allocations).toEqual({ [c]: { VCPU: 2, MEMORY_MB: 512 } });
    expect(await conflictOf(pl.deleteResourceProvider(admin, b.uuid))).toBe('placement.resource_provider.inuse');
    // Empty allocations remove the consumer (its generation starts again).
    expect(
      (
        await pl.claimAllocations(admin, {
          consumerId: c,
          projectId: P,
          userId: U,
          consumerGeneration: 1,
          allocations: [],
        })
      ).consumerGeneration,
    ).toBeNull();
    expect((await pl.getConsumerAllocations(admin, c)).generation).toBeNull();
    await expect(pl.deleteAllocations(admin, c)).rejects.toMatchObject({ code: 'NotFound' });
    await expect(
      pl.claimAllocations(admin, {
        consumerId: c,
        projectId: P,
        userId: U,
        allocations: [{ providerId: randomUUID(), resources: { VCPU: 1 } }],
      }),
    ).rejects.toMatchObject({ code: 'BadRequest' });
  });

  it('50 parallel claims against room for 10: exactly 10 succeed, usage never above capacity', async () => {
    const rp = await provider({ VCPU: { total: 10 }, MEMORY_MB: { total: 10240 } });
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () =>
        pl.claimAllocations('service', {
          consumerId: randomUUID(),
          projectId: P,
          userId: U,
          allocations: [{ providerId: rp.uuid, resources: { VCPU: 1, MEMORY_MB: 1024 } }],
        }),
      ),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toBe(10);
    for (const f of failures) expect(f.reason).toMatchObject({ code: 'Conflict' });
    expect((await pl.getProviderUsages('service', rp.uuid)).usages).toEqual({ VCPU: 10, MEMORY_MB: 10240 });
  });

  it('parallel claims that move consumers between two providers never over-commit (no deadlock)', async () => {
    const a = await provider({ VCPU: { total: 6 } });
    const b = await provider({ VCPU: { total: 6 } });
    const consumers = Array.from({ length: 6 }, () => randomUUID());
    await Promise.all(
      consumers.map((c, i) =>
        pl.claimAllocations('service', {
          consumerId: c,
          projectId: P,
          userId: U,
          allocations: [{ providerId: i % 2 ? a.uuid : b.uuid, resources: { VCPU: 1 } }],
        }),
      ),
    );
    const moves = Array.from({ length: 60 }, (_, i) => {
      const c = consumers[i % consumers.length] ?? '';
      return pl.claimAllocations('service', {
        consumerId: c,
        projectId: P,
        userId: U,
        allocations: [{ providerId: i % 3 ? a.uuid : b.uuid, resources: { VCPU: 1 + (i % 2) } }],
      });
    });
    await Promise.allSettled(moves);
    for (const rp of [a, b])
      expect((await pl.getProviderUsages('service', rp.uuid)).usages.VCPU).toBeLessThanOrEqual(6);
    const total = (await Promise.all(consumers.map((c) => pl.getConsumerAllocations('service', c)))).reduce(
      (s, v) => s + v.allocations.length,
      0,
    );
    expect(total).toBe(6);
  });

  it('a claim that does not fit as a new consumer falls back to the general path and its exact errors', async () => {
    const rp = await provider({ VCPU: { total: 8, stepSize: 2 }, MEMORY_MB: { total: 1024 } });
    const c = randomUUID();
    const claim = (resources: Record<string, number>, consumerId = c) =>
      pl.claimAllocations('service', {
        consumerId,
        projectId: P,
        userId: U,
        allocations: [{ providerId: rp.uuid, resources }],
      });
    // Amount not a multiple of step_size → 400; class without inventory → 409; over capacity → 409.
    await expect(claim({ VCPU: 1 })).rejects.toMatchObject({ code: 'BadRequest' });
    await expect(claim({ VCPU: 2, DISK_GB: 1 })).rejects.toMatchObject({ code: 'Conflict' });
    await expect(claim({ VCPU: 10 })).rejects.toMatchObject({ code: 'Conflict' });
    // Nothing of the refused statements stayed: no consumer, no allocation, counters at 0.
    expect((await pl.getConsumerAllocations('service', c)).generation).toBeNull();
    expect((await pl.getProviderUsages('service', rp.uuid)).usages).toEqual({ MEMORY_MB: 0, VCPU: 0 });
    expect(await claim({ VCPU: 2, MEMORY_MB: 512 })).toEqual({ consumerGeneration: 0 });
    // The same consumer again (no generation given): a replacement, not an addition.
    expect(await claim({ VCPU: 4, MEMORY_MB: 256 })).toEqual({ consumerGeneration: 1 });
    expect((await pl.getProviderUsages('service', rp.uuid)).usages).toEqual({ MEMORY_MB: 256, VCPU: 4 });
    // The provider generation still moves with every allocation write.
    const gen = (await pl.getResourceProvider('service', rp.uuid)).generation;
    await claim({ VCPU: 2 }, randomUUID());
    expect((await pl.getResourceProvider('service', rp.uuid)).generation).toBe(gen + 1);
  });

  it('used counters always equal the sum of allocations after concurrent claims, replacements, moves and deletes', async () => {
    const rps = [
      await provider({ VCPU: { total: 6 }, MEMORY_MB: { total: 4096 } }),
      await provider({ VCPU: { total: 6, allocationRatio: 2 }, MEMORY_MB: { total: 2048 } }),
      await provider({ VCPU: { total: 3 }, MEMORY_MB: { total: 8192 }, DISK_GB: { total: 20 } }),
    ];
    const consumers = Array.from({ length: 12 }, () => randomUUID());
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pickRp = () => rps[rand(rps.length)]?.uuid ?? '';
    const ops: Array<() => Promise<unknown>> = [];
    for (let i = 0; i < 150; i++) {
      const c = consumers[rand(consumers.length)] ?? '';
      const kind = rand(5);
      const resources = { VCPU: 1 + rand(3), MEMORY_MB: 256 * (1 + rand(4)) };
      if (kind <= 1) {
        ops.push(() =>
          pl.claimAllocations('service', {
            consumerId: c,
            projectId: P,
            userId: U,
            allocations: [{ providerId: pickRp(), resources }],
          }),
        );
      } else if (kind === 2) {
        // Split over two providers (as a migration holds the source and the destination).
        const [x, y] = [pickRp(), pickRp()];
        ops.push(() =>
          pl.claimAllocations('service', {
            consumerId: c,
            projectId: P,
            userId: U,
            allocations:
              x === y
                ? [{ providerId: x, resources }]
                : [
                    { providerId: x, resources: { VCPU: 1 } },
                    { providerId: y, resources: { MEMORY_MB: 512 } },
                  ],
          }),
        );
      } else if (kind === 3) {
        const other = consumers[rand(consumers.length)] ?? '';
        ops.push(() =>
          pl.replaceManyAllocations('service', [
            { consumerId: c, projectId: P, userId: U, allocations: [{ providerId: pickRp(), resources }] },
            ...(other === c
              ? []
              : [{ consumerId: other, projectId: P, userId: U, allocations: [] as pl.ProviderAllocation[] }]),
          ]),
        );
      } else {
        ops.push(() => pl.deleteAllocations('service', c));
      }
    }
    const results = await Promise.allSettled(ops.map((op) => op()));
    for (const r of results) {
      if (r.status === 'rejected')
        expect(r.reason).toMatchObject({ code: expect.stringMatching(/^(Conflict|NotFound)$/) });
    }
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(30);
    for (const rp of rps) {
      const { usages } = await pl.getProviderUsages('service', rp.uuid);
      const { allocations } = await pl.getProviderAllocations('service', rp.uuid);
      const sums: Record<string, number> = {};
      for (const r of Object.values(allocations))
        for (const [rc, n] of Object.entries(r)) sums[rc] = (sums[rc] ?? 0) + n;
      for (const [rc, used] of Object.entries(usages)) expect(used, rc).toBe(sums[rc] ?? 0);
      const inv = (await pl.getInventories('service', rp.uuid)).inventories;
      for (const [rc, used] of Object.entries(usages)) {
        const i = inv[rc];
        if (!i) throw new Error(`no inventory ${rc}`);
        expect(used).toBeLessThanOrEqual(Math.floor((i.total - i.reserved) * i.allocationRatio));
      }
    }
    // Everything given back: counters back to zero.
    await Promise.allSettled(consumers.map((c) => pl.deleteAllocations('service', c)));
    for (const rp of rps) {
      expect(Object.values((await pl.getProviderUsages('service', rp.uuid)).usages).every((u) => u === 0)).toBe(true);
    }
  });

  it('allocation candidates: capacity, traits, aggregates, summaries and limit', async () => {
    const agg = randomUUID();
    const trait = `CUSTOM_${unique('T')
      .replace(/[^A-Z0-9]/gi, '_')
      .toUpperCase()}`;
    expect(await pl.createTrait(admin, trait)).toBe('created');
    expect(await pl.createTrait(admin, trait)).toBe('exists');
    const big = await provider({ VCPU: { total: 16 }, MEMORY_MB: { total: 65536 }, DISK_GB: { total: 100 } });
    const small = await provider({ VCPU: { total: 1 }, MEMORY_MB: { total: 256 }, DISK_GB: { total: 100 } });
    const t = await pl.setProviderTraits(admin, big.uuid, {
      resourceProviderGeneration: big.generation,
      traits: [trait, 'HW_CPU_X86_AVX2'],
    });
    await pl.setProviderAggregates(admin, big.uuid, {
      resourceProviderGeneration: t.resourceProviderGeneration,
      aggregates: [agg],
    });
    await expect(
      pl.setProviderTraits(admin, small.uuid, {
        resourceProviderGeneration: small.generation,
        traits: ['CUSTOM_NOPE_NOT_THERE'],
      }),
    ).rejects.toMatchObject({ code: 'BadRequest' });
    const agg2 = randomUUID();
    await pl.setProviderAggregates(admin, small.uuid, {
      resourceProviderGeneration: small.generation,
      aggregates: [agg2],
    });
    const both = [big.uuid, small.uuid];
    const r = await pl.getAllocationCandidates(admin, { resources: { VCPU: 1, MEMORY_MB: 512 }, memberOf: [[agg]] });
    expect(Object.keys(r.providerSummaries)).toEqual([big.uuid]);
    expect(r.allocationRequests).toEqual([
      { allocations: [{ providerId: big.uuid, resources: { VCPU: 1, MEMORY_MB: 512 } }] },
    ]);
    expect(r.providerSummaries[big.uuid]).toMatchObject({
      resources: {
        VCPU: { capacity: 16, used: 0 },
        MEMORY_MB: { capacity: 65536, used: 0 },
        DISK_GB: { capacity: 100, used: 0 },
      },
      traits: [trait, 'HW_CPU_X86_AVX2'].sort(),
      aggregates: [agg],
    });
    const withTrait = await pl.getAllocationCandidates(admin, { resources: { VCPU: 1 }, requiredTraits: [trait] });
    expect(Object.keys(withTrait.providerSummaries)).toEqual([big.uuid]);
    const without = await pl.getAllocationCandidates(admin, { resources: { VCPU: 1 }, forbiddenTraits: [trait] });
    expect(Object.keys(without.providerSummaries)).toContain(small.uuid);
    expect(Object.keys(without.providerSummaries)).not.toContain(big.uuid);
    const tiny = await pl.getAllocationCandidates(admin, { resources: { VCPU: 1, MEMORY_MB: 128 } });
    expect(both.every((u) => u in tiny.providerSummaries)).toBe(true);
    expect(
      Object.keys((await pl.getAllocationCandidates(admin, { resources: { VCPU: 1 }, limit: 1 })).providerSummaries),
    ).toHaveLength(1);
    // randomize: a limit of 1 picks among every fitting provider, not always the first by id.
    const seen = new Set<string>();
    for (let i = 0; i < 40 && seen.size < 2; i++) {
      const one = await pl.getAllocationCandidates(admin, {
        resources: { VCPU: 1 },
        requiredTraits: [],
        memberOf: [[agg, agg2]],
        limit: 1,
        randomize: true,
      });
      for (const id of Object.keys(one.providerSummaries)) seen.add(id);
    }
    expect(seen).toEqual(new Set([big.uuid, small.uuid]));
    const listed = await pl.listResourceProviders(admin, { resources: { MEMORY_MB: 1024 }, requiredTraits: [trait] });
    expect(listed.map((x) => x.uuid)).toEqual([big.uuid]);
    expect(await conflictOf(pl.deleteTrait(admin, trait))).toBe('placement.undefined_code');
  });
});

describe('scheduler against placement', () => {
  function source(hosts: Map<string, ComputeHostInfo>): ComputeInfoSource {
    return {
      hostsForProviders: async (ids) =>
        new Map(
          ids.flatMap((id) => {
            const h = hosts.get(id);
            return h ? [[id, h] as const] : [];
          }),
        ),
    };
  }
  it('selectDestinations spreads by free RAM, honours anti-affinity, claims, and rolls back on NoValidHost', async () => {
    const zone = unique('az');
    const infos = new Map<string, ComputeHostInfo>();
    const rps = [];
    for (const [i, mem] of [4096, 8192, 2048].entries()) {
      const rp = await provider({ VCPU: { total: 4 }, MEMORY_MB: { total: mem }, DISK_GB: { total: 50 } });
      infos.set(rp.uuid, {
        host: `${zone}-h${i}`,
        serviceDisabled: false,
        lastHeartbeat: new Date(),
        hypervisorType: 'qemu',
        cpuArch: 'x86_64',
        availabilityZone: zone,
        aggregates: [],
      });
      rps.push(rp);
    }
    const request = {
      projectId: P,
      userId: U,
      resources: { VCPU: 1, MEMORY_MB: 1024, DISK_GB: 1 },
      flavor: { vcpus: 1, memoryMb: 1024, diskGb: 1 },
      image: { properties: { hw_architecture: 'x86_64' } },
      availabilityZone: zone,
    };
    const [first] = await selectDestinations({ request, source: source(infos) });
    expect(first?.host).toBe(`${zone}-h1`);
    expect(first?.alternates.map((a) => a.host)).toEqual([`${zone}-h0`, `${zone}-h2`]);
    expect((await pl.getConsumerAllocations('service', first?.consumerId ?? '')).allocations[0]?.providerId).toBe(
      rps[1]?.uuid,
    );

    const anti = await selectDestinations({
      request: { ...request, serverGroup: { id: randomUUID(), policy: 'anti-affinity', memberHosts: [] } },
      count: 3,
      source: source(infos),
    });
    expect(new Set(anti.map((s) => s.host)).size).toBe(3);

    const before = await Promise.all(rps.map(async (rp) => (await pl.getProviderUsages('service', rp.uuid)).usages));
    await expect(
      selectDestinations({
        request: { ...request, serverGroup: { id: randomUUID(), policy: 'anti-affinity', memberHosts: [] } },
        count: 4,
        source: source(infos),
      }),
    ).rejects.toMatchObject({ code: 'Conflict', details: { noValidHost: true } });
    const after = await Promise.all(rps.map(async (rp) => (await pl.getProviderUsages('service', rp.uuid)).usages));
    expect(after).toEqual(before);
  });

  it('with the candidate cache, parallel decisions fill the room exactly and never over-commit', async () => {
    const zone = unique('az');
    const infos = new Map<string, ComputeHostInfo>();
    const rps = [];
    for (let i = 0; i < 3; i++) {
      const rp = await provider({ VCPU: { total: 4 }, MEMORY_MB: { total: 4096 } });
      rps.push(rp);
      infos.set(rp.uuid, {
        host: `${zone}-h${i}`,
        serviceDisabled: false,
        lastHeartbeat: new Date(),
        hypervisorType: 'qemu',
        availabilityZone: zone,
        aggregates: [],
      });
    }
    const request = {
      projectId: P,
      userId: U,
      resources: { VCPU: 1, MEMORY_MB: 512 },
      flavor: { vcpus: 1, memoryMb: 512 },
      image: {},
      availabilityZone: zone,
    };
    // Room for 12 (3 × 4 VCPU); 20 decisions at once, all sharing one cached candidate list.
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, () =>
        selectDestinations({
          request,
          source: source(infos),
          settings: { candidateCacheMs: 60_000, hostSubsetSize: 3 },
        }),
      ),
    );
    const placed = results.filter((r) => r.status === 'fulfilled');
    expect(placed).toHaveLength(12);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toMatchObject({ details: { noValidHost: true } });
    for (const rp of rps) expect((await pl.getProviderUsages('service', rp.uuid)).usages.VCPU).toBe(4);
  });

  it('a random sample of candidates that the filters empty is followed by a decision over every provider', async () => {
    const zone = unique('az');
    const infos = new Map<string, ComputeHostInfo>();
    for (let i = 0; i < 6; i++) {
      const rp = await provider({ VCPU: { total: 8 }, MEMORY_MB: { total: 8192 } });
      infos.set(rp.uuid, {
        host: `${zone}-h${i}`,
        serviceDisabled: false,
        lastHeartbeat: new Date(),
        hypervisorType: 'qemu',
        availabilityZone: i === 4 ? zone : `${zone}-other`,
        aggregates: [],
      });
    }
    for (let i = 0; i < 5; i++) {
      const [sel] = await selectDestinations({
        request: {
          projectId: P,
          userId: U,
          resources: { VCPU: 1, MEMORY_MB: 256 },
          flavor: { vcpus: 1, memoryMb: 256 },
          image: {},
          availabilityZone: zone,
        },
        source: source(infos),
        settings: { maxPlacementResults: 1 },
      });
      expect(sel?.host).toBe(`${zone}-h4`);
    }
  });
});
