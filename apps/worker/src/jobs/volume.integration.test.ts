import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  acceptVolumeTransfer,
  attachVolumeToServer,
  type AuthContext,
  createBackup,
  createServers,
  createSnapshot,
  createVolume,
  createVolumeTransfer,
  createVolumeType,
  deleteBackup,
  deleteServer,
  deleteSnapshot,
  deleteVolume,
  detachVolumeFromServer,
  extendVolume,
  getBackup,
  getServer,
  getSnapshot,
  getVolume,
  isStratusError,
  listServerVolumeAttachments,
  listVolumes,
  restoreBackup,
  retypeVolume,
  setVolumeBootable,
  setVolumeMetadata,
  setVolumeTypeExtraSpecs,
  updateVolumeQuotas,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { computeJobs } from './compute.ts';
import { type FakeComputeDriver, fakeImageCache } from './compute/fake-driver.ts';
import { FAKE_IMAGE_ID, fakeHost, testFlavor, useFakeImage } from './compute/test-support.ts';
import { prepareBootVolumes, type VolumeDeps } from './volume.ts';
import { code, startVolumeTestWorker, tinyQcow2, untilVolume, type VolumeTestWorker } from './volume-test-support.ts';

/*
 * Block storage through core, the real queue and database, and the REAL file backend
 * (qemu-img files in a temporary folder); the hypervisor is the in-memory compute driver
 * (attach/detach with real libvirt is the system test's job). Covers quotas under
 * parallel creates, the volume lifecycle, snapshots, full and incremental backups with
 * restore, transfers, attach/detach and boot from volume, and the 4xx refusals that
 * must leave nothing half-done.
 */
const tag = randomUUID().slice(0, 8);
const host = `vol-${tag}`;
let admin: AuthContext;
let member: AuthContext;
let other: AuthContext;
let worker: VolumeTestWorker;
let deps: VolumeDeps;
let typeName = '';
let compute: FakeComputeDriver;
let flavorId: string;

const until = untilVolume;

function qemuIo(path: string, cmd: string): string {
  return execFileSync('qemu-io', ['-f', 'qcow2', '-c', cmd, path], { encoding: 'utf8' });
}

beforeAll(async () => {
  const { url } = testDb();
  await setupIdentityTest(url, {
    STRATUS_QUOTA_INSTANCES: '100',
    STRATUS_QUOTA_CORES: '200',
    STRATUS_QUOTA_RAM_MB: '1000000',
    STRATUS_HOST: host,
  });
  useFakeImage();
  admin = await adminContext();
  member = (await projectWithMember(admin)).auth.context;
  other = (await projectWithMember(admin)).auth.context;
  flavorId = (await testFlavor(admin)).id;
  compute = await fakeHost(url, host);
  worker = await startVolumeTestWorker({
    url,
    host,
    admin,
    backendName: `file-${tag}`,
    typeName: `ci-${tag}`,
    dirPrefix: 'stratus-vol',
    roles: ['compute', 'volume', 'scheduler', 'conductor'],
    concurrency: 4,
    // The fake image's bytes as the host's image cache would hold them: a small real qcow2.
    deps: (dir) => {
      const tiny = tinyQcow2(join(dir, 'tiny.qcow2'));
      return { compute, images: { ensureBaseImage: async () => tiny } };
    },
    jobs: (volumeDeps) =>
      computeJobs(() => ({
        db: volumeDeps().db,
        host,
        driver: compute,
        images: fakeImageCache,
        volumes: (id) => prepareBootVolumes(volumeDeps(), id, { pollMs: 50 }),
      })),
  });
  deps = worker.deps;
  typeName = worker.typeName;
});

afterAll(async () => {
  await worker?.stop();
});

describe('volumes with the file backend', () => {
  it('holds the volumes quota under 12 parallel creates (limit 5), nothing half-made', async () => {
    const projectId = member.projectId ?? '';
    await updateVolumeQuotas(admin, projectId, { volumes: 5, gigabytes: 100 });
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) => createVolume(member, { size: 1, name: `q${i}`, volumeType: typeName })),
    );
    const made = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(made).toHaveLength(5);
    for (const r of refused) expect(isStratusError(r.reason) && r.reason.status).toBe(413);
    expect(await listVolumes(member)).toHaveLength(5);
    for (const r of made) await until(member, r.value.id, 'available');
    // gigabytes: 5 used of 6 → a 2 GB volume is refused, the row count unchanged.
    await updateVolumeQuotas(admin, projectId, { volumes: 10, gigabytes: 6 });
    expect(await code(createVolume(member, { size: 2, volumeType: typeName }))).toBe('413');
    expect(await listVolumes(member)).toHaveLength(5);
    for (const r of made) await deleteVolume(member, r.value.id);
    await waitFor(async () => (await listVolumes(member)).length === 0, { what: 'quota volumes deleted' });
    await updateVolumeQuotas(admin, projectId, { volumes: 20, gigabytes: 200 });
  });

  it('creates, extends, sets metadata, retypes, snapshots, clones and deletes', async () => {
    const v = await createVolume(member, { size: 1, name: 'life', volumeType: typeName, metadata: { a: '1' } });
    expect(v.status).toBe('creating');
    await until(member, v.id, 'available');
    const file = deps.backend.locate(v.id, 'qcow2').path;
    expect(existsSync(file)).toBe(true);
    qemuIo(file, 'write -P 0x5a 0 64k');

    expect(await code(extendVolume(member, v.id, 1))).toBe('400');
    await extendVolume(member, v.id, 2);
    const ext = await until(member, v.id, 'available');
    expect(ext.size).toBe(2);
    expect(execFileSync('qemu-img', ['info', file], { encoding: 'utf8' })).toContain('virtual size: 2 GiB');

    expect(await setVolumeMetadata(member, v.id, { b: '2' })).toEqual({ a: '1', b: '2' });
    expect(await setVolumeMetadata(member, v.id, { c: '3' }, { replace: true })).toEqual({ c: '3' });
    await setVolumeBootable(member, v.id, true);
    expect((await getVolume(member, v.id)).bootable).toBe(true);

    // A type that needs another backend cannot be taken without migration; a compatible one can.
    const far = await createVolumeType(admin, { name: `far-${tag}`, extraSpecs: { volume_backend_name: 'elsewhere' } });
    expect(await code(retypeVolume(member, v.id, far.id))).toBe('400');
    const near = await createVolumeType(admin, { name: `near-${tag}` });
    await setVolumeTypeExtraSpecs(admin, near.id, { volume_backend_name: `file-${tag}`, multiattach: '<is> True' });
    await retypeVolume(member, v.id, near.name);
    const rt = await getVolume(member, v.id);
    expect(rt.volumeTypeName).toBe(near.name);
    expect(rt.multiattach).toBe(true);

    const s = await createSnapshot(member, { volumeId: v.id, name: 'snap1' });
    await waitFor(async () => (await getSnapshot(member, s.id)).status === 'available', { what: 'snapshot' });
    expect((await getSnapshot(member, s.id)).progress).toBe(100);
    // A volume with snapshots is not deleted (no cascade).
    expect(await code(deleteVolume(member, v.id))).toBe('400');

    const fromSnap = await createVolume(member, { snapshotId: s.id, name: 'from-snap' });
    expect(fromSnap.size).toBe(2);
    await until(member, fromSnap.id, 'available');
    expect(qemuIo(deps.backend.locate(fromSnap.id, 'qcow2').path, 'read -P 0x5a 0 64k')).not.toContain(
      'Pattern verification failed',
    );
    expect(await code(createVolume(member, { snapshotId: s.id, size: 1 }))).toBe('400');

    const clone = await createVolume(member, { sourceVolId: v.id, size: 3, name: 'clone' });
    await until(member, clone.id, 'available');
    expect(
      execFileSync('qemu-img', ['info', deps.backend.locate(clone.id, 'qcow2').path], { encoding: 'utf8' }),
    ).toContain('virtual size: 3 GiB');

    await deleteSnapshot(member, s.id);
    await waitFor(async () => (await code(getSnapshot(member, s.id))) === '404', { what: 'snapshot gone' });
    for (const id of [v.id, fromSnap.id, clone.id]) await deleteVolume(member, id);
    await waitFor(async () => (await code(getVolume(member, v.id))) === '404', { what: 'volume gone' });
    expect(existsSync(file)).toBe(false);
  });

  it('backs up fully and incrementally, with progress, and restores to new and existing volumes', async () => {
    const v = await createVolume(member, { size: 1, name: 'bk', volumeType: typeName });
    await until(member, v.id, 'available');
    const file = deps.backend.locate(v.id, 'qcow2').path;
    qemuIo(file, 'write -P 0x11 0 3M');
    const full = await createBackup(member, { volumeId: v.id, name: 'full' });
    expect((await getVolume(member, v.id)).status).toBe('backing-up');
    const f = await waitFor(
      async () => {
        const b = await getBackup(member, full.id);
        if (b.status === 'error') throw new Error(b.failReason ?? 'backup error');
        return b.status === 'available' ? b : undefined;
      },
      { what: 'full backup' },
    );
    expect(f.progress).toBe(100);
    expect(f.storedBytes).toBe(3 * 1024 * 1024);
    await until(member, v.id, 'available');

    qemuIo(file, 'write -P 0x22 5M 1M');
    const inc = await createBackup(member, { volumeId: v.id, name: 'inc', incremental: true });
    const i = await waitFor(
      async () => {
        const b = await getBackup(member, inc.id);
        return b.status === 'available' ? b : undefined;
      },
      { what: 'incremental backup' },
    );
    expect(i.isIncremental).toBe(true);
    expect(i.parentId).toBe(full.id);
    expect(i.storedBytes).toBe(1024 * 1024);
    expect((await getBackup(member, full.id)).hasDependentBackups).toBe(true);
    expect(await code(deleteBackup(member, full.id))).toBe('400');

    const r = await restoreBackup(member, inc.id, { name: 'restored' });
    const restored = await until(member, r.volumeId, 'available');
    const rp = deps.backend.locate(restored.id, 'qcow2').path;
    expect(qemuIo(rp, 'read -P 0x11 0 3M')).not.toContain('verification failed');
    expect(qemuIo(rp, 'read -P 0x22 5M 1M')).not.toContain('verification failed');
    expect((await getBackup(member, inc.id)).status).toBe('available');

    // Into an existing volume: smaller than the backup is refused; the right size works.
    const target = await createVolume(member, { size: 1, name: 'target', volumeType: typeName });
    await until(member, target.id, 'available');
    await restoreBackup(member, full.id, { volumeId: target.id });
    await until(member, target.id, 'available');
    const tp = deps.backend.locate(target.id, 'qcow2').path;
    expect(qemuIo(tp, 'read -P 0x11 0 3M')).not.toContain('verification failed');
    expect(qemuIo(tp, 'read -P 0x0 5M 1M')).not.toContain('verification failed');

    await deleteBackup(member, inc.id);
    await waitFor(async () => (await code(getBackup(member, inc.id))) === '404', { what: 'inc gone' });
    await deleteBackup(member, full.id);
    await waitFor(async () => (await code(getBackup(member, full.id))) === '404', { what: 'full gone' });
    for (const id of [v.id, restored.id, target.id]) await deleteVolume(member, id);
  });

  it('transfers a volume to another project with its auth key', async () => {
    const v = await createVolume(member, { size: 1, name: 'tx', volumeType: typeName });
    await until(member, v.id, 'available');
    const t = await createVolumeTransfer(member, { volumeId: v.id, name: 'to-other' });
    expect((await getVolume(member, v.id)).status).toBe('awaiting-transfer');
    expect(await code(deleteVolume(member, v.id))).toBe('400');
    expect(await code(acceptVolumeTransfer(other, t.id, 'wrong-key'))).toBe('400');
    await acceptVolumeTransfer(other, t.id, t.authKey);
    const moved = await getVolume(other, v.id);
    expect(moved.projectId).toBe(other.projectId);
    expect(moved.status).toBe('available');
    expect(await code(getVolume(member, v.id))).toBe('404');
    await deleteVolume(other, v.id);
  });

  it('attaches and detaches on a server, refuses bad requests, and frees volumes on server delete', async () => {
    const { servers } = await createServers(member, { name: 'att', imageRef: FAKE_IMAGE_ID, flavorRef: flavorId });
    const sid = servers[0]?.id ?? '';
    await waitFor(async () => (await getServer(member, sid)).status === 'ACTIVE', { what: 'server ACTIVE' });
    const v = await createVolume(member, { size: 1, name: 'att', volumeType: typeName });
    await until(member, v.id, 'available');

    const a = await attachVolumeToServer(member, sid, { volumeId: v.id });
    expect(a.device).toBe('/dev/vdb');
    const inUse = await until(member, v.id, 'in-use');
    expect(inUse.attachStatus).toBe('attached');
    expect(inUse.attachments[0]?.serverId).toBe(sid);
    expect(await listServerVolumeAttachments(member, sid)).toHaveLength(1);

    // Delete in-use, extend smaller, attach twice, another project's server or volume: refused, state unchanged.
    expect(await code(deleteVolume(member, v.id))).toBe('400');
    expect(await code(extendVolume(member, v.id, 1, { allowAttached: true }))).toBe('400');
    expect(await code(attachVolumeToServer(member, sid, { volumeId: v.id }))).toBe('400');
    expect(await code(attachVolumeToServer(other, sid, { volumeId: v.id }))).toBe('404');
    const foreign = await createVolume(other, { size: 1, volumeType: typeName });
    await until(other, foreign.id, 'available');
    expect(await code(attachVolumeToServer(member, sid, { volumeId: foreign.id }))).toBe('404');
    expect((await getVolume(member, v.id)).status).toBe('in-use');
    expect((await getVolume(other, foreign.id)).status).toBe('available');

    await detachVolumeFromServer(member, sid, v.id);
    const back = await until(member, v.id, 'available');
    expect(back.attachStatus).toBe('detached');
    expect(await listServerVolumeAttachments(member, sid)).toHaveLength(0);

    await attachVolumeToServer(member, sid, { volumeId: v.id });
    await until(member, v.id, 'in-use');
    await deleteServer(member, sid);
    await until(member, v.id, 'available');
    await deleteVolume(member, v.id);
    await deleteVolume(other, foreign.id);
  });

  it('boots from a volume made from an image; it survives the server unless delete_on_termination', async () => {
    const keep = await createServers(member, {
      name: 'bfv-keep',
      imageRef: '',
      flavorRef: flavorId,
      blockDeviceMapping: [
        {
          boot_index: 0,
          uuid: FAKE_IMAGE_ID,
          source_type: 'image',
          destination_type: 'volume',
          volume_size: 1,
          delete_on_termination: false,
        },
      ],
    });
    const sid = keep.servers[0]?.id ?? '';
    expect(keep.servers[0]?.imageId).toBe('');
    const s = await waitFor(
      async () => {
        const x = await getServer(member, sid);
        if (x.status === 'ERROR') throw new Error(`server ERROR ${x.fault?.message}`);
        return x.status === 'ACTIVE' ? x : undefined;
      },
      { what: 'bfv ACTIVE' },
    );
    const spec = compute.domains.get(s.id)?.spec;
    const atts = await listServerVolumeAttachments(member, sid);
    expect(atts).toHaveLength(1);
    const volId = atts[0]?.volumeId ?? '';
    expect(spec?.rootVolume?.path).toBe(deps.backend.locate(volId, 'qcow2').path);
    const root = await until(member, volId, 'in-use');
    expect(root.bootable).toBe(true);
    expect(await code(detachVolumeFromServer(member, sid, volId))).toBe('400');
    await deleteServer(member, sid);
    await until(member, volId, 'available');

    // Boot from the existing volume, this time deleted with the server.
    const again = await createServers(member, {
      name: 'bfv-vol',
      imageRef: '',
      flavorRef: flavorId,
      blockDeviceMapping: [
        { boot_index: 0, uuid: volId, source_type: 'volume', destination_type: 'volume', delete_on_termination: true },
      ],
    });
    const sid2 = again.servers[0]?.id ?? '';
    expect((await getVolume(member, volId)).status).toBe('reserved');
    await waitFor(async () => (await getServer(member, sid2)).status === 'ACTIVE', { what: 'bfv2 ACTIVE' });
    await until(member, volId, 'in-use');
    await deleteServer(member, sid2);
    await waitFor(async () => (await code(getVolume(member, volId))) === '404', {
      what: 'root volume deleted with server',
    });

    // A volume that is not available cannot be booted from; nothing is created.
    const before = (await listVolumes(member)).length;
    expect(
      await code(
        createServers(member, {
          name: 'bad',
          imageRef: '',
          flavorRef: flavorId,
          blockDeviceMapping: [
            { boot_index: 0, uuid: randomUUID(), source_type: 'volume', destination_type: 'volume' },
          ],
        }),
      ),
    ).toBe('400');
    expect((await listVolumes(member)).length).toBe(before);
  });
});
