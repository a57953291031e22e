import { updateVolumeQuotas } from '@stratus/core';
import type { AuthContext } from '@stratus/core/identity/index';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { volumeTestBackend } from '@stratus/core/volume/test-support';
import { type EventListener, listenEvents, type StratusEvent } from '@stratus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../../../test/helpers.ts';
import { createCallerFactory } from '../../trpc/init';
import { sessionRouter } from '../identity/session';
import { caller, db, finish, refusal } from './test-support';

/*
 * The volume router as the dashboard calls it, against real PostgreSQL and core: create,
 * paged and filtered lists, the quota the create form reads and core's 413, extend
 * refusing a smaller size with core's message, snapshots, delete refusing a volume with
 * snapshots unless cascade, project isolation, transfers (key shown once, wrong key
 * refused, accepted into another project), and the live events the panels follow.
 * No worker runs: the "worker finished" step is a status write, as the worker would do.
 */
let admin: AuthContext;
let a: AuthContext;
let b: AuthContext;
let typeName: string;
let listener: EventListener;
const events: StratusEvent[] = [];
/** The dashboard's shared permission check (identity.session.can), with project-scoped rules. */
const session = (auth: AuthContext) => createCallerFactory(sessionRouter)({ auth });

beforeAll(async () => {
  const { url } = testDb();
  await setupIdentityTest(url);
  admin = await adminContext();
  a = (await projectWithMember(admin)).auth.context;
  b = (await projectWithMember(admin)).auth.context;
  typeName = (await volumeTestBackend(admin, { prefix: 'rtr' })).typeName;
  listener = await listenEvents(url, (e) => events.push(e));
});
afterAll(async () => {
  await listener.close();
});

describe('volume router', () => {
  it('creates a volume, lists it with filters and paging, and emits its live event', async () => {
    const m = caller(a);
    const prefix = unique('v');
    const made: Array<{ id: string; createdAt: string }> = [];
    for (const i of [1, 2, 3])
      made.push(await m.volumes.create({ name: `${prefix}-${i}`, size: 1, volumeType: typeName }));
    expect(made[0]).toMatchObject({ status: 'creating', size: 1, volumeTypeName: typeName, attachments: [] });
    expect(typeof made[0]?.createdAt).toBe('string');
    await waitFor(() => events.some((e) => e.type === 'volume.created' && e.resourceId === made[2]?.id));

    const first = await m.volumes.list({ limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.next).toBe(first.items[1]?.id);
    const second = await m.volumes.list({ limit: 2, marker: first.next ?? undefined });
    expect(second.items.map((v) => v.id)).toContain(made[0]?.id);
    expect(second.next).toBeNull();

    const byName = await m.volumes.list({ name: `${prefix}-2`, limit: 20 });
    expect(byName.items.map((v) => v.id)).toEqual([made[1]?.id]);
    await finish(made[1]?.id ?? '');
    const available = await m.volumes.list({ status: 'available', limit: 20 });
    expect(available.items.map((v) => v.id)).toEqual([made[1]?.id]);

    // Another project sees none of it.
    expect((await caller(b).volumes.list({ limit: 20 })).items).toEqual([]);
    expect((await refusal(caller(b).volumes.get({ volumeId: made[0]?.id ?? '' }))).code).toBe('NOT_FOUND');
  });

  it('reads the quota for the create form; over quota is 413 with nothing written', async () => {
    const m = caller(b);
    await updateVolumeQuotas(admin, b.projectId ?? '', { gigabytes: 3 });
    const q = await m.quotas();
    expect(q.gigabytes).toEqual({ limit: 3, inUse: 0 });
    expect(q.volumes.inUse).toBe(0);
    const r = await refusal(m.volumes.create({ name: 'too-big', size: 4, volumeType: typeName }));
    expect(r.code).toBe('PAYLOAD_TOO_LARGE');
    expect(r.message).toContain('gigabytes');
    expect((await m.volumes.list({ limit: 20 })).items).toEqual([]);
    expect((await m.quotas()).volumes.inUse).toBe(0);
  });

  it('extends only to a larger size, with core’s message', async () => {
    const m = caller(a);
    const v = await m.volumes.create({ name: unique('ext'), size: 2, volumeType: typeName });
    await finish(v.id);
    const r = await refusal(m.volumes.extend({ volumeId: v.id, newSize: 2 }));
    expect(r.code).toBe('BAD_REQUEST');
    expect(r.message).toContain('New size for extend must be greater than current size');
    await m.volumes.extend({ volumeId: v.id, newSize: 3 });
    expect((await m.volumes.get({ volumeId: v.id })).status).toBe('extending');
  });

  it('edits name, description and bootable; replaces metadata', async () => {
    const m = caller(a);
    const v = await m.volumes.create({ name: unique('edit'), size: 1, volumeType: typeName });
    await finish(v.id);
    const u = await m.volumes.update({ volumeId: v.id, name: 'renamed', description: 'd', bootable: true });
    expect(u).toMatchObject({ name: 'renamed', description: 'd', bootable: true });
    await m.volumes.setMetadata({ volumeId: v.id, metadata: { a: '1', b: '2' } });
    await m.volumes.setMetadata({ volumeId: v.id, metadata: { b: '3' } });
    expect((await m.volumes.get({ volumeId: v.id })).metadata).toEqual({ b: '3' });
  });

  it('snapshots a volume; deleting it needs cascade while snapshots exist', async () => {
    const m = caller(a);
    const v = await m.volumes.create({ name: unique('snapvol'), size: 1, volumeType: typeName });
    await finish(v.id);
    const s = await m.snapshots.create({ volumeId: v.id, name: unique('snap') });
    expect(s).toMatchObject({ volumeId: v.id, status: 'creating', size: 1 });
    expect((await m.snapshots.list({ volumeId: v.id, limit: 20 })).items.map((x) => x.id)).toEqual([s.id]);
    await db().volumeSnapshot.update({ where: { id: s.id }, data: { status: 'available', progress: 100 } });
    const r = await refusal(m.volumes.delete({ volumeId: v.id }));
    expect(r.code).toBe('BAD_REQUEST');
    expect(r.message).toContain('dependent snapshots');
    await m.volumes.delete({ volumeId: v.id, cascade: true });
    expect((await m.volumes.get({ volumeId: v.id })).status).toBe('deleting');
    expect((await m.snapshots.get({ snapshotId: s.id })).status).toBe('deleting');
  });

  it('transfers a volume: the key once, a wrong key refused, accepted into another project', async () => {
    const m = caller(a);
    const v = await m.volumes.create({ name: unique('xfer'), size: 1, volumeType: typeName });
    await finish(v.id);
    const t = await m.transfers.create({ volumeId: v.id, name: 'to b' });
    expect(t.authKey).toMatch(/^[0-9a-f]{16}$/);
    expect((await m.volumes.get({ volumeId: v.id })).status).toBe('awaiting-transfer');
    const listed = await m.transfers.list();
    expect(listed.find((x) => x.id === t.id)).toEqual({
      id: t.id,
      volumeId: v.id,
      name: 'to b',
      createdAt: t.createdAt,
    });
    const wrong = await refusal(caller(b).transfers.accept({ transferId: t.id, authKey: '0000000000000000' }));
    expect(wrong.code).toBe('BAD_REQUEST');
    expect((await m.volumes.get({ volumeId: v.id })).status).toBe('awaiting-transfer');
    await caller(b).transfers.accept({ transferId: t.id, authKey: t.authKey });
    const moved = await caller(b).volumes.get({ volumeId: v.id });
    expect(moved).toMatchObject({ status: 'available', projectId: b.projectId });
    expect((await refusal(m.volumes.get({ volumeId: v.id }))).code).toBe('NOT_FOUND');
  });

  it('tells a member (not only an admin) which actions the panels may offer', async () => {
    const member = await session(a).can({
      actions: ['volume:create', 'volume:accept_transfer', 'volume:force_delete'],
    });
    expect(member).toEqual({ 'volume:create': true, 'volume:accept_transfer': true, 'volume:force_delete': false });
    const reader = (await projectWithMember(admin, 'reader')).auth.context;
    expect(await session(reader).can({ actions: ['volume:create', 'volume:get_all'] })).toEqual({
      'volume:create': false,
      'volume:get_all': true,
    });
    expect((await refusal(session(a).can({ actions: ['Not a rule!'] }))).code).toBe('BAD_REQUEST');
  });

  it('lists volume types and zones for the create form', async () => {
    const m = caller(a);
    expect((await m.types()).map((t) => t.name)).toContain(typeName);
    expect((await m.zones()).some((z) => z.name === 'nova' && z.available)).toBe(true);
  });
});
