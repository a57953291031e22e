import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  accountOfProject,
  type AuthContext,
  backupObjectCaller,
  createBackup,
  createVolume,
  deleteBackup,
  deleteVolume,
  getBackup,
  getVolume,
  headContainer,
  listContainer,
  loadConfig,
  type ObjectCaller,
  putContainer,
  restoreBackup,
  setConfig,
  setObjectBackend,
  type BackupView,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import { startTestObjectCluster, type TestObjectCluster } from '@stratus/core/objectstore/test-support';
import type { PrismaClient } from '@stratus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { ObjectStoreBackupTarget } from '../drivers/volume/backup-object.ts';
import type { VolumeDeps } from './volume.ts';
import { code, startVolumeTestWorker, untilVolume, type VolumeTestWorker } from './volume-test-support.ts';

/*
 * Volume backups to the object store, as Cinder's swift driver: the real volume jobs, queue,
 * PostgreSQL and file backend (qemu-img), and a REAL replicated object store (three object
 * servers on temp dirs, startTestObjectCluster) behind the Swift API's core functions. A
 * full and an incremental backup land as objects in the owner's account, the incremental
 * stores only changed chunks, restores to a new and to an existing volume are
 * byte-identical (qemu-img compare), deletes remove exactly the backup's own objects, and
 * a backup keeps its target when the configuration changes.
 */
const tag = randomUUID().slice(0, 8);
const host = `bko-${tag}`;
const MiB = 1024 * 1024;
let admin: AuthContext;
let member: AuthContext;
let worker: VolumeTestWorker;
let deps: VolumeDeps;
let db: PrismaClient;
let cluster: TestObjectCluster;
let dir = '';
let typeName = '';
let owner: ObjectCaller;
let account = '';

const until = (id: string, status: string) => untilVolume(member, id, status);

async function backupDone(id: string): Promise<BackupView> {
  return waitFor(
    async () => {
      const b = await getBackup(member, id);
      if (b.status === 'error') throw new Error(b.failReason ?? 'backup error');
      return b.status === 'available' && b.progress === 100 ? b : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 50, what: `backup ${id}` },
  );
}

const file = (id: string) => deps.backend.locate(id, 'qcow2').path;
const write = (id: string, cmd: string) => execFileSync('qemu-io', ['-f', 'qcow2', '-c', cmd, file(id)]);
/** Byte-identical guest-visible contents (qemu-img compare exits 0 only then). */
function identical(a: string, b: string): boolean {
  try {
    execFileSync('qemu-img', ['compare', '-q', '-f', 'qcow2', '-F', 'qcow2', a, b]);
    return true;
  } catch {
    return false;
  }
}

async function objectsIn(container: string, prefix = ''): Promise<Map<string, number>> {
  const r = await listContainer(owner, account, container, { prefix });
  return new Map(r.entries.flatMap((e) => (e.kind === 'item' ? [[e.item.name, e.item.bytes] as const] : [])));
}

async function driverOf(id: string): Promise<string | undefined> {
  return (await db.volumeBackup.findUnique({ where: { id } }))?.driver;
}

function useTarget(t: 'auto' | 'object' | 'filesystem') {
  setConfig({ ...loadConfig(), backupTarget: t });
}

beforeAll(async () => {
  const { url } = testDb();
  await setupIdentityTest(url, { STRATUS_HOST: host, STRATUS_BACKUP_TARGET: 'object' });
  admin = await adminContext();
  member = (await projectWithMember(admin)).auth.context;
  const projectId = member.projectId ?? '';
  account = accountOfProject(projectId);
  owner = { kind: 'token', ctx: member };
  cluster = await startTestObjectCluster();
  setObjectBackend(cluster.backend);
  worker = await startVolumeTestWorker({
    url,
    host,
    admin,
    backendName: `file-${tag}`,
    typeName: `bko-${tag}`,
    dirPrefix: 'stratus-bko',
    deps: () => ({
      objectBackups: (b) => new ObjectStoreBackupTarget({ caller: backupObjectCaller(b), projectId: b.projectId }),
      backupChunkBytes: MiB,
    }),
  });
  ({ db, deps, dir, typeName } = worker);
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  setObjectBackend(undefined);
  await cluster?.close();
});

describe('volume backups in the object store', () => {
  it('stores a full and an incremental backup as objects and restores both byte for byte', async () => {
    const v = await createVolume(member, { size: 1, name: 'src', volumeType: typeName });
    await until(v.id, 'available');
    write(v.id, 'write -P 0x11 0 3M');
    write(v.id, 'write -P 0x5c 700M 1536k'); // a chunk and a half far into the volume

    const full = await createBackup(member, { volumeId: v.id, name: 'full' });
    expect(full.container).toBe('volumebackups');
    const f = await backupDone(full.id);
    expect(await driverOf(full.id)).toBe('object');
    expect(f.storedBytes).toBe(5 * MiB); // 3 + 2 touched chunks; the zero chunks are not stored
    expect(f.objectCount).toBe(6); // 5 chunks + the metadata object
    await until(v.id, 'available');
    const fullState = join(dir, 'full-state.qcow2');
    copyFileSync(file(v.id), fullState);

    // The owner sees the backup's objects in their account, as `swift list volumebackups` shows.
    const fullObjects = await objectsIn('volumebackups', `${full.id}/`);
    expect(fullObjects.size).toBe(6);
    expect(fullObjects.has(`${full.id}/metadata.json`)).toBe(true);
    expect(fullObjects.get(`${full.id}/chunk-00000000`)).toBe(MiB);
    // Nothing lands on the filesystem target.
    expect(existsSync(join(dir, 'backups'))).toBe(false);

    write(v.id, 'write -P 0x22 5M 1M');
    write(v.id, 'write -P 0x33 1000M 4k');
    const inc = await createBackup(member, { volumeId: v.id, name: 'inc', incremental: true });
    const i = await backupDone(inc.id);
    expect(i.isIncremental).toBe(true);
    expect(i.parentId).toBe(full.id);
    expect(await driverOf(inc.id)).toBe('object');
    expect(i.storedBytes).toBe(2 * MiB); // only the two changed chunks
    expect((await objectsIn('volumebackups', `${inc.id}/`)).size).toBe(3);
    await until(v.id, 'available');

    // The container's counters hold exactly the stored chunks plus the metadata objects.
    const info = await headContainer(owner, account, 'volumebackups');
    const all = await objectsIn('volumebackups');
    expect(info.objectCount).toBe(9);
    expect(info.bytesUsed).toBe([...all.values()].reduce((a, b) => a + b, 0));

    // Restore the incremental (reads the chain: its own chunks and the parent's) to a new volume.
    const r = await restoreBackup(member, inc.id, { name: 'restored' });
    const restored = await until(r.volumeId, 'available');
    expect(identical(file(v.id), file(restored.id))).toBe(true);
    expect((await getBackup(member, inc.id)).status).toBe('available');

    // Restore the full backup over an existing volume: its data at the full backup's time.
    const target = await createVolume(member, { size: 1, name: 'target', volumeType: typeName });
    await until(target.id, 'available');
    write(target.id, 'write -P 0x99 0 8M');
    await restoreBackup(member, full.id, { volumeId: target.id });
    expect((await getVolume(member, target.id)).status).toBe('restoring-backup');
    await until(target.id, 'available');
    expect(identical(fullState, file(target.id))).toBe(true);
    expect(identical(file(v.id), file(target.id))).toBe(false);

    // Cinder's rule: a backup with dependent incrementals cannot be deleted (400), nothing removed.
    expect(await code(deleteBackup(member, full.id))).toBe('400');
    expect((await getBackup(member, full.id)).status).toBe('available');
    expect((await objectsIn('volumebackups')).size).toBe(9);
    // Deleting the incremental removes its own objects only; the parent's stay.
    await deleteBackup(member, inc.id);
    await waitFor(async () => (await code(getBackup(member, inc.id))) === '404', { what: 'inc gone' });
    const left = await objectsIn('volumebackups');
    expect([...left.keys()].every((n) => n.startsWith(`${full.id}/`))).toBe(true);
    expect(left.size).toBe(6);
    await deleteBackup(member, full.id);
    await waitFor(async () => (await code(getBackup(member, full.id))) === '404', { what: 'full gone' });
    expect((await objectsIn('volumebackups')).size).toBe(0);

    for (const id of [v.id, restored.id, target.id]) await deleteVolume(member, id);
    await waitFor(async () => (await code(getVolume(member, v.id))) === '404', { what: 'volumes gone' });
  }, 300_000);

  it('uses the container the user names; an incremental stays in its parent’s container', async () => {
    const v = await createVolume(member, { size: 1, name: 'named', volumeType: typeName });
    await until(v.id, 'available');
    write(v.id, 'write -P 0x42 0 2M');
    const b = await createBackup(member, { volumeId: v.id, container: `mine-${tag}` });
    expect(b.container).toBe(`mine-${tag}`);
    await backupDone(b.id);
    await until(v.id, 'available');
    expect((await objectsIn(`mine-${tag}`, `${b.id}/`)).size).toBe(3);
    expect((await objectsIn('volumebackups', `${b.id}/`)).size).toBe(0);

    expect(await code(createBackup(member, { volumeId: v.id, incremental: true, container: 'elsewhere' }))).toBe('400');
    expect((await getVolume(member, v.id)).status).toBe('available');
    const inc = await createBackup(member, { volumeId: v.id, incremental: true });
    expect(inc.container).toBe(`mine-${tag}`);
    await backupDone(inc.id);
    await until(v.id, 'available');
    expect((await objectsIn(`mine-${tag}`, `${inc.id}/`)).size).toBe(1); // nothing changed: metadata only

    for (const id of [inc.id, b.id]) {
      await deleteBackup(member, id);
      await waitFor(async () => (await code(getBackup(member, id))) === '404', { what: `backup ${id} gone` });
    }
    expect((await objectsIn(`mine-${tag}`)).size).toBe(0);

    // The objects count against the owner's object-store quotas like any upload: a backup
    // into a container with a 1 MiB quota fails with the 413's message and leaves nothing.
    await putContainer(owner, account, `small-${tag}`, { meta: { set: { 'quota-bytes': String(MiB) }, remove: [] } });
    const over = await createBackup(member, { volumeId: v.id, container: `small-${tag}` });
    const failed = await waitFor(
      async () => {
        const b = await getBackup(member, over.id);
        return b.status === 'error' ? b : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 50, what: 'over-quota backup error' },
    );
    expect(failed.failReason).toMatch(/quota|too large/i);
    await until(v.id, 'available');
    expect((await objectsIn(`small-${tag}`)).size).toBe(0);
    await deleteBackup(member, over.id);
    await waitFor(async () => (await code(getBackup(member, over.id))) === '404', { what: 'failed backup gone' });
    await deleteVolume(member, v.id);
  }, 300_000);

  it('keeps each backup where it was made when the configured target changes', async () => {
    const v = await createVolume(member, { size: 1, name: 'switch', volumeType: typeName });
    await until(v.id, 'available');
    write(v.id, 'write -P 0x61 0 2M');

    useTarget('filesystem');
    const onDisk = await createBackup(member, { volumeId: v.id, name: 'on-disk' });
    await backupDone(onDisk.id);
    await until(v.id, 'available');
    expect(await driverOf(onDisk.id)).toBe('file');
    expect(readdirSync(join(dir, 'backups', 'volumebackups', onDisk.id))).toContain('metadata.json');
    // An incremental follows its parent, whatever the configuration says now.
    useTarget('object');
    const inc = await createBackup(member, { volumeId: v.id, incremental: true });
    await backupDone(inc.id);
    await until(v.id, 'available');
    expect(await driverOf(inc.id)).toBe('file');
    expect((await objectsIn('volumebackups').catch(() => new Map())).size).toBe(0);

    // `auto` picks the object store only when the ring has a device with weight.
    useTarget('auto');
    write(v.id, 'write -P 0x62 0 1M');
    const noRing = await createBackup(member, { volumeId: v.id, name: 'auto-file' });
    await backupDone(noRing.id);
    await until(v.id, 'available');
    expect(await driverOf(noRing.id)).toBe('file');
    await db.objectRingDevice.create({
      data: { ringName: `test-${tag}`, id: 1, host: '127.0.0.1', port: 1, device: 'd1', server: host },
    });
    try {
      const viaRing = await createBackup(member, { volumeId: v.id, name: 'auto-object' });
      const done = await backupDone(viaRing.id);
      await until(v.id, 'available');
      expect(await driverOf(viaRing.id)).toBe('object');
      expect((await objectsIn('volumebackups', `${viaRing.id}/`)).size).toBe(done.objectCount);

      // With the configuration saying filesystem, the object backup still restores from the
      // object store and the filesystem one from the disk.
      useTarget('filesystem');
      const fromObject = await restoreBackup(member, viaRing.id, { name: 'from-object' });
      const fromDisk = await restoreBackup(member, inc.id, { name: 'from-disk' });
      const a = await until(fromObject.volumeId, 'available');
      const d = await until(fromDisk.volumeId, 'available');
      expect(identical(file(v.id), file(a.id))).toBe(true);
      write(a.id, 'write -P 0x61 0 1M'); // what the volume held at the file incremental
      expect(identical(file(a.id), file(d.id))).toBe(true);

      for (const id of [viaRing.id, noRing.id, inc.id, onDisk.id]) {
        await deleteBackup(member, id);
        await waitFor(async () => (await code(getBackup(member, id))) === '404', { what: `backup ${id} gone` });
      }
      expect(existsSync(join(dir, 'backups', 'volumebackups', onDisk.id))).toBe(false);
      expect((await objectsIn('volumebackups')).size).toBe(0);
      for (const id of [v.id, a.id, d.id]) await deleteVolume(member, id);
    } finally {
      await db.objectRingDevice.deleteMany({ where: { ringName: `test-${tag}` } });
      useTarget('object');
    }
  }, 300_000);
});
