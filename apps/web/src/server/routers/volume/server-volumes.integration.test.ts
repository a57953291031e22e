import { randomUUID } from 'node:crypto';
import { createFlavor, createServers, createVolumeType } from '@stratus/core';
import type { AuthContext } from '@stratus/core/identity/index';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { volumeTestBackend } from '@stratus/core/volume/test-support';
import { beforeAll, describe, expect, it } from 'vitest';
import { FAKE_IMAGE_ID, useFakeImage } from '../../../../../worker/src/jobs/compute/test-support.ts';
import { testDb } from '../../../../../../test/helpers.ts';
import { createCallerFactory } from '../../trpc/init';
import { adminRouter } from '../admin/index';
import { caller, db, finish, refusal } from './test-support';

/*
 * What the instance page, the Change Type dialog and the project Overview read from the
 * volume side, against real PostgreSQL and core: an instance's volumes with their devices
 * (and nothing for another project), retype within a backend and core's refusal when the
 * type needs another backend, and the block-storage quota section counting the project's
 * volumes and gigabytes. No worker runs: the "worker finished" steps are status writes.
 */
let admin: AuthContext;
let a: AuthContext;
let b: AuthContext;
let typeName: string;
let sameBackendType: string;
let otherBackendType: string;
let flavorId: string;
const adminCaller = (auth: AuthContext) => createCallerFactory(adminRouter)({ auth });

beforeAll(async () => {
  const { url } = testDb();
  await setupIdentityTest(url);
  useFakeImage();
  admin = await adminContext();
  a = (await projectWithMember(admin)).auth.context;
  b = (await projectWithMember(admin)).auth.context;
  const t = await volumeTestBackend(admin, { prefix: 'sv' });
  typeName = t.typeName;
  const spec = { volume_backend_name: t.backendName };
  sameBackendType = (await createVolumeType(admin, { name: unique('sv-gold'), extraSpecs: spec })).name;
  otherBackendType = (
    await createVolumeType(admin, { name: unique('sv-far'), extraSpecs: { volume_backend_name: 'elsewhere' } })
  ).name;
  flavorId = (await createFlavor(admin, { name: unique('sv.tiny'), vcpus: 1, ramMb: 128, diskGb: 1 })).id;
});

/** What an attach leaves behind once the worker has hot-plugged the disk. */
async function attachRows(volumeId: string, serverId: string, projectId: string, device: string) {
  await db().volumeAttachment.create({
    data: { id: randomUUID(), volumeId, serverId, projectId, device, status: 'attached', attachedAt: new Date() },
  });
  await db().volume.update({ where: { id: volumeId }, data: { status: 'in-use', attachStatus: 'attached' } });
}

describe('volume router: instance page, retype, overview quotas', () => {
  it("lists an instance's volumes with device and volume facts; another project gets NOT_FOUND", async () => {
    const m = caller(a);
    const { servers } = await createServers(a, {
      name: unique('sv-vm'),
      imageRef: FAKE_IMAGE_ID,
      flavorRef: flavorId,
      networks: 'none',
    });
    const serverId = servers[0]?.id ?? '';
    expect(serverId).not.toBe('');
    expect(await m.volumes.forServer({ serverId })).toEqual([]);

    const v1 = await m.volumes.create({ name: unique('sv-d1'), size: 1, volumeType: typeName });
    const v2 = await m.volumes.create({ name: unique('sv-d2'), size: 2, volumeType: typeName });
    await finish(v1.id);
    await finish(v2.id);
    await attachRows(v1.id, serverId, a.projectId ?? '', '/dev/vdb');
    await attachRows(v2.id, serverId, a.projectId ?? '', '/dev/vdc');

    const list = await m.volumes.forServer({ serverId });
    expect(list.map((x) => [x.volumeId, x.device, x.status])).toEqual([
      [v1.id, '/dev/vdb', 'attached'],
      [v2.id, '/dev/vdc', 'attached'],
    ]);
    expect(list[1]?.volume).toMatchObject({ id: v2.id, name: v2.name, size: 2, status: 'in-use' });
    expect(list[0]?.deleteOnTermination).toBe(false);

    expect((await refusal(caller(b).volumes.forServer({ serverId }))).code).toBe('NOT_FOUND');
    expect((await refusal(m.volumes.forServer({ serverId: randomUUID() }))).code).toBe('NOT_FOUND');
  });

  it('retypes within the backend, refuses a type on another backend with core’s message, and the same type', async () => {
    const m = caller(a);
    const v = await m.volumes.create({ name: unique('sv-rt'), size: 1, volumeType: typeName });
    await finish(v.id);
    const far = await refusal(m.volumes.retype({ volumeId: v.id, volumeType: otherBackendType }));
    expect(far.code).toBe('BAD_REQUEST');
    expect(far.message).toMatch(/Retype requires migration/);
    expect((await m.volumes.get({ volumeId: v.id })).volumeTypeName).toBe(typeName);

    const done = await m.volumes.retype({ volumeId: v.id, volumeType: sameBackendType });
    expect(done).toMatchObject({ id: v.id, volumeTypeName: sameBackendType, status: 'available' });
    const same = await refusal(m.volumes.retype({ volumeId: v.id, volumeType: sameBackendType }));
    expect(same.code).toBe('BAD_REQUEST');
    expect(same.message).toMatch(/same volume type/);
    expect((await refusal(caller(b).volumes.retype({ volumeId: v.id, volumeType: typeName }))).code).toBe('NOT_FOUND');
  });

  it("puts the project's block-storage usage on the Overview's quota sections", async () => {
    const c = (await projectWithMember(admin)).auth.context;
    const before = (await adminCaller(c).projectQuotas()).find((s) => s.service === 'volume');
    expect(before).toMatchObject({ title: 'Block storage', error: null });
    expect(before?.gauges?.map((g) => g.resource)).toEqual([
      'volumes',
      'gigabytes',
      'snapshots',
      'backups',
      'backup_gigabytes',
    ]);
    expect(before?.gauges?.find((g) => g.resource === 'volumes')?.used).toBe(0);

    const v = await caller(c).volumes.create({ name: unique('sv-q'), size: 3, volumeType: typeName });
    const after = (await adminCaller(c).projectQuotas()).find((s) => s.service === 'volume');
    const gauge = (r: string) => after?.gauges?.find((g) => g.resource === r);
    expect(gauge('volumes')).toMatchObject({ used: 1, limit: expect.any(Number) });
    expect(gauge('gigabytes')).toMatchObject({ used: 3, unit: 'gb' });
    expect(gauge('volumes')?.limit).toBeGreaterThan(0);
    // Another project's overview does not count it.
    const other = (await adminCaller(b).projectQuotas()).find((s) => s.service === 'volume');
    expect(other?.gauges?.find((g) => g.resource === 'gigabytes')?.used).toBe(0);
    await db().volume.delete({ where: { id: v.id } });
  });
});
