import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../test/helpers.ts';
import { adminContext, projectWithMember, setupIdentityTest } from '../identity/test-support.ts';
import type { AuthContext } from '../identity/types.ts';
import { isStratusError } from '../platform/errors.ts';
import { listBackups } from './backups.ts';
import { listSnapshots } from './snapshots.ts';
import { listVolumeTransfers } from './transfers.ts';
import { listVolumes, type VolumeListOptions } from './volumes.ts';

/*
 * The volume lists page in the database (platform/paging.ts): walking any sort order a
 * page at a time gives exactly the one-call list — through equal sort values, NULL names
 * and equal creation times — a marker outside the caller's list is Cinder's 400, the
 * filters (metadata too) apply before paging, and other projects see nothing.
 * Rows are written directly: no backend or worker is needed to list them.
 */
let a: AuthContext;
let b: AuthContext;
const db = () => testDb().db;
const volumeIds: string[] = [];
const snapshotIds: string[] = [];

async function refusal(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!isStratusError(e)) throw new Error(`expected a StratusError, got ${String(e)}`);
  return { code: e.code, message: e.message };
}

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  const admin = await adminContext();
  a = (await projectWithMember(admin)).auth.context;
  b = (await projectWithMember(admin)).auth.context;
  const projectId = a.projectId ?? '';
  const typeId = randomUUID();
  // Two creation times shared by several rows; names with NULLs and repeats; sizes repeat.
  const t1 = new Date('2030-01-01T00:00:00.000Z');
  const t2 = new Date('2030-01-02T00:00:00.000Z');
  const rows = [
    { name: 'beta', size: 2, createdAt: t1, metadata: { tier: 'gold' } },
    { name: null, size: 1, createdAt: t1, metadata: {} },
    { name: 'alpha', size: 2, createdAt: t2, metadata: { tier: 'gold', zone: 'x' } },
    { name: 'beta', size: 3, createdAt: t2, metadata: { tier: 'silver' } },
    { name: null, size: 2, createdAt: t2, metadata: {} },
    { name: 'gamma', size: 1, createdAt: t1, metadata: { tier: 'gold' } },
    { name: 'alpha', size: 1, createdAt: t2, metadata: {} },
  ];
  for (const r of rows) {
    const id = randomUUID();
    volumeIds.push(id);
    await db().volume.create({
      data: {
        id,
        ...r,
        projectId,
        userId: a.userId,
        status: 'available',
        volumeTypeId: typeId,
        availabilityZone: 'nova',
      },
    });
  }
  for (const [i, createdAt] of [t1, t2, t2, t1, t2].entries()) {
    const id = randomUUID();
    snapshotIds.push(id);
    await db().volumeSnapshot.create({
      data: {
        id,
        volumeId: volumeIds[i] ?? '',
        projectId,
        userId: a.userId,
        size: 1,
        status: 'available',
        createdAt,
      },
    });
  }
});
afterAll(async () => {
  await db().volumeSnapshot.deleteMany({ where: { id: { in: snapshotIds } } });
  await db().volume.deleteMany({ where: { id: { in: volumeIds } } });
});

/** Every id of a list walked `size` rows at a time. */
async function walk<T extends { id: string }>(
  list: (o: { marker?: string; limit: number }) => Promise<T[]>,
  size: number,
): Promise<string[]> {
  const out: string[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await list({ limit: size, ...(marker ? { marker } : {}) });
    expect(page.length).toBeLessThanOrEqual(size);
    out.push(...page.map((r) => r.id));
    if (page.length < size) return out;
    marker = page.at(-1)?.id;
  }
}

describe('volume lists page in the database', () => {
  const orders: Array<Pick<VolumeListOptions, 'sortKey' | 'sortDir'>> = [
    {},
    { sortKey: 'name', sortDir: 'asc' },
    { sortKey: 'name', sortDir: 'desc' },
    { sortKey: 'size', sortDir: 'asc' },
    { sortKey: 'created_at', sortDir: 'asc' },
    { sortKey: 'id', sortDir: 'desc' },
  ];
  for (const order of orders) {
    it(`walks volumes sorted ${order.sortKey ?? 'created_at'} ${order.sortDir ?? 'desc'} page by page`, async () => {
      const all = (await listVolumes(a, order)).map((v) => v.id);
      expect([...all].sort()).toEqual([...volumeIds].sort());
      for (const size of [1, 2, 3]) expect(await walk((p) => listVolumes(a, { ...order, ...p }), size)).toEqual(all);
    });
  }

  it('orders names as PostgreSQL does: NULLs last ascending, first descending', async () => {
    const asc = await listVolumes(a, { sortKey: 'name', sortDir: 'asc' });
    expect(asc.map((v) => v.name)).toEqual(['alpha', 'alpha', 'beta', 'beta', 'gamma', null, null]);
    const desc = await listVolumes(a, { sortKey: 'name', sortDir: 'desc' });
    expect(desc.map((v) => v.name)).toEqual([null, null, 'gamma', 'beta', 'beta', 'alpha', 'alpha']);
  });

  it('filters before paging: metadata, name, offset after the marker', async () => {
    const gold = await listVolumes(a, { metadata: { tier: 'gold' } });
    expect(gold.map((v) => v.id).sort()).toEqual([volumeIds[0], volumeIds[2], volumeIds[5]].sort());
    expect((await listVolumes(a, { metadata: { tier: 'gold', zone: 'x' } })).map((v) => v.id)).toEqual([volumeIds[2]]);
    expect(await walk((p) => listVolumes(a, { metadata: { tier: 'gold' }, ...p }), 1)).toEqual(gold.map((v) => v.id));
    const betas = await listVolumes(a, { name: 'beta' });
    expect(betas.map((v) => v.id).sort()).toEqual([volumeIds[0], volumeIds[3]].sort());
    const all = (await listVolumes(a)).map((v) => v.id);
    const after = await listVolumes(a, { marker: all[1], offset: 2, limit: 2 });
    expect(after.map((v) => v.id)).toEqual(all.slice(4, 6));
    expect(await listVolumes(a, { limit: 0 })).toEqual([]);
  });

  it('refuses a marker outside the list with Cinder’s 400', async () => {
    for (const marker of ['nope', randomUUID()]) {
      expect(await refusal(listVolumes(a, { marker }))).toEqual({
        code: 'BadRequest',
        message: `marker [${marker}] not found`,
      });
    }
    // A row of the list, but not of this filtered list; another project's row.
    const gold = volumeIds[0] ?? '';
    expect((await refusal(listVolumes(a, { name: 'alpha', marker: gold }))).message).toBe(`marker [${gold}] not found`);
    expect((await refusal(listVolumes(b, { marker: gold }))).message).toBe(`marker [${gold}] not found`);
    expect((await refusal(listSnapshots(a, { marker: volumeIds[0] ?? '' }))).code).toBe('BadRequest');
  });

  it('pages snapshots newest first through equal creation times; scopes backups and transfers', async () => {
    const all = (await listSnapshots(a)).map((s) => s.id);
    expect([...all].sort()).toEqual([...snapshotIds].sort());
    expect(all.slice(0, 3).sort()).toEqual([snapshotIds[1], snapshotIds[2], snapshotIds[4]].sort());
    for (const size of [1, 2]) expect(await walk((p) => listSnapshots(a, p), size)).toEqual(all);
    expect((await listSnapshots(a, { volumeId: volumeIds[1] ?? '' })).map((s) => s.id)).toEqual([snapshotIds[1]]);
    expect(await listSnapshots(b)).toEqual([]);
    // all_tenants from a member is ignored: still the caller's own project only.
    expect(await listSnapshots(b, { allTenants: true })).toEqual([]);
    expect(await listBackups(a)).toEqual([]);
    expect(await listVolumeTransfers(b, { allTenants: true })).toEqual([]);
  });
});
