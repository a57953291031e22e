import { randomUUID } from 'node:crypto';
import { taskName } from '@stratus/db';
import { beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../test/helpers.ts';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '../identity/test-support.ts';
import type { AuthContext } from '../identity/types.ts';
import { restoreBackup } from './backups.ts';
import { volumeCreateJobDef, volumeQueue } from './jobs.ts';
import { type TestVolumeBackend, volumeTestBackend } from './test-support.ts';
import { createVolume, getVolume } from './volumes.ts';

/*
 * Where a restore into a NEW volume lands. An object-store backup (driver `object`) is read
 * from the ring by any volume host, so the scheduler places the volume as it would a blank
 * one: by type, room and availability zone (here: the backend with the most room, or the
 * zone asked for). A filesystem backup's data is only on the host that made it, so its
 * volume goes there or, when that host cannot take it, to `error` with the scheduler's
 * reason. No worker runs: the backups are rows as the backup job leaves them, and what is
 * asserted is the placement written with the volume (its backend and the create job's host).
 */
const db = () => testDb().db;
let a: AuthContext;
/** Little room: the host the backups were made on. */
let small: TestVolumeBackend;
/** The most room, same backend name: the scheduler's pick for a new volume. */
let big: TestVolumeBackend;
/** Another availability zone. */
let far: TestVolumeBackend;

/** A backup row as the worker's backup job leaves it, on `small`'s host. */
async function backupOn(driver: 'object' | 'file', size = 1): Promise<string> {
  const id = randomUUID();
  await db().volumeBackup.create({
    data: {
      id,
      volumeId: randomUUID(),
      projectId: a.projectId ?? '',
      userId: a.userId,
      name: unique(`rp-${driver}`),
      size,
      status: 'available',
      progress: 100,
      container: 'volumebackups',
      driver,
      objectCount: 2,
      availabilityZone: 'nova',
      host: small.host,
    },
  });
  return id;
}

beforeAll(async () => {
  await setupIdentityTest(testDb().url);
  const admin = await adminContext();
  a = (await projectWithMember(admin)).auth.context;
  small = await volumeTestBackend(admin, { prefix: 'rp-small', totalGb: 1 });
  big = await volumeTestBackend(admin, { prefix: 'rp-big', backendName: small.backendName, totalGb: 500 });
  far = await volumeTestBackend(admin, {
    prefix: 'rp-far',
    backendName: small.backendName,
    availabilityZone: 'az-far',
    totalGb: 500,
  });
});

describe('restoring a backup into a new volume', () => {
  it('places an object-store backup by the scheduler, not on the backup host', async () => {
    const backupId = await backupOn('object');
    const r = await restoreBackup(a, backupId, { name: unique('rp-restored') });
    const v = await getVolume(a, r.volumeId);
    expect(v.status).toBe('creating');
    expect(v.backend).toBe(big.backend);
    expect(v.backupId).toBe(backupId);
    expect(v.host).toBe(big.host);
    const b = await db().volumeBackup.findUniqueOrThrow({ where: { id: backupId } });
    expect(b).toMatchObject({ status: 'restoring', restoreVolumeId: v.id });
    // The create job goes to the chosen host's worker, which reads the chunks from the ring.
    const jobs = await db().$queryRaw<Array<{ task: string }>>`
      SELECT task_identifier AS task FROM graphile_worker.jobs WHERE queue_name = ${volumeQueue(v.id)}`;
    expect(jobs.map((j) => j.task)).toEqual([taskName(volumeCreateJobDef.name, big.host)]);
  });

  it('honours the availability zone asked for (create from backup, 3.47) for an object-store backup', async () => {
    const backupId = await backupOn('object');
    const v = await createVolume(a, { backupId, availabilityZone: 'az-far', name: unique('rp-far') });
    expect(v.status).toBe('creating');
    expect(v.backend).toBe(far.backend);
    expect(v.availabilityZone).toBe('az-far');
  });

  it('keeps a filesystem backup on its host', async () => {
    const backupId = await backupOn('file');
    const r = await restoreBackup(a, backupId, { name: unique('rp-file') });
    const v = await getVolume(a, r.volumeId);
    expect(v.status).toBe('creating');
    expect(v.backend).toBe(small.backend);
    expect(v.host).toBe(small.host);
  });

  it("puts a filesystem backup's volume in error when its host cannot take it, and leaves the backup usable", async () => {
    // 1 GB × 20 over-subscription on the small backend: a 25 GB backup does not fit there,
    // though the big backend would take it.
    const backupId = await backupOn('file', 25);
    const r = await restoreBackup(a, backupId, { name: unique('rp-nofit') });
    const v = await getVolume(a, r.volumeId);
    expect(v.status).toBe('error');
    expect(v.backend).toBeNull();
    expect(v.errorMessage).toContain(`${small.backend}:`);
    expect(v.errorMessage).not.toContain(big.backend);
    const b = await db().volumeBackup.findUniqueOrThrow({ where: { id: backupId } });
    expect(b).toMatchObject({ status: 'available', restoreVolumeId: null });

    // The same size from the object store goes to the backend with room.
    const objectId = await backupOn('object', 25);
    const r2 = await restoreBackup(a, objectId, { name: unique('rp-fit') });
    expect((await getVolume(a, r2.volumeId)).backend).toBe(big.backend);
  });
});
