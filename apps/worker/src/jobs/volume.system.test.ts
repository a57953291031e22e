import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  attachVolumeToServer,
  type AuthContext,
  createBackup,
  createServers,
  createSnapshot,
  createVolume,
  createVolumeType,
  deleteBackup,
  deleteSnapshot,
  deleteVolume,
  detachVolumeFromServer,
  extendVolume,
  getBackup,
  getConsoleOutput,
  getSnapshot,
  getVolume,
  loadConfig,
  type VolumeView,
} from '@stratus/core';
import { projectWithMember, unique } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { FilesystemBackupTarget } from '../drivers/volume/backup.ts';
import { FileVolumeBackend } from '../drivers/volume/file.ts';
import { LibvirtLiveDisk } from '../drivers/volume/live.ts';
import { testFlavor } from './compute/test-support.ts';
import {
  deleteServersQuietly,
  destroyGuests,
  type GuestStack,
  type GuestWorker,
  guestStack,
  isRoot,
  runOnSerial,
  startGuestWorker,
  waitForBoot,
  waitForServer,
} from './guest-test-support.ts';
import { prepareBootVolumes, registerThisBackend, type VolumeDeps, volumeJobs } from './volume.ts';

/*
 * Volumes with REAL libvirt guests (the test image) and the real file backend: a volume
 * hot-plugged into a running guest shows up as a virtio disk carrying the volume id as
 * its serial; the guest writes to it; it grows live (blockresize) and is snapshotted
 * live (blockcopy) while attached; it is detached and attached to a second guest, which
 * reads the data the first one wrote. Timings are printed, never asserted.
 */
const PREFIX = 'stratusvol-';
const figures: Record<string, number> = {};

describe.skipIf(!isRoot)('volumes on real libvirt guests', () => {
  let stack: GuestStack;
  let worker: GuestWorker | undefined;
  let member: AuthContext;
  let flavorId: string;
  let typeName: string;
  let deps: VolumeDeps;
  const servers: string[] = [];

  beforeAll(async () => {
    stack = await guestStack(PREFIX);
    const { db, host, stateDir, admin, driver, images } = stack;
    member = (await projectWithMember(admin)).auth.context;
    flavorId = (await testFlavor(admin)).id;
    const backendName = unique('sysfile')
      .replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 60);
    deps = {
      db,
      host,
      backend: new FileVolumeBackend({ dir: join(stateDir, 'volumes'), stateDir }),
      backendName,
      availabilityZone: loadConfig().defaultAvailabilityZone,
      overSubscription: 20,
      live: new LibvirtLiveDisk({ namePrefix: PREFIX }),
      compute: driver,
      images,
      backups: new FilesystemBackupTarget(join(stateDir, 'backups')),
      backupChunkBytes: 4 * 1024 * 1024,
    };
    // The worker's heartbeat, which the volume scheduler reads (a backend must be up).
    worker = await startGuestWorker(stack, {
      roles: ['compute', 'volume', 'scheduler', 'conductor'],
      keepAliveMs: 5000,
      compute: { volumes: (id) => prepareBootVolumes(deps, id) },
      jobs: volumeJobs(() => deps),
    });
    await registerThisBackend(deps);
    typeName = (
      await createVolumeType(admin, { name: unique('sys'), extraSpecs: { volume_backend_name: backendName } })
    ).name;
  });

  afterAll(async () => {
    await deleteServersQuietly(
      testDb().db,
      servers.map((id) => ({ ctx: member, id })),
    );
    await worker?.stop();
    await destroyGuests(stack?.driver);
    console.log('volume system figures (ms):', JSON.stringify(figures));
  });

  const bootGuest = async (name: string) => {
    const { servers: made } = await createServers(member, { name, imageRef: stack.imageId, flavorRef: flavorId });
    const id = made[0]?.id ?? '';
    servers.push(id);
    await waitForServer(member, id, 'ACTIVE');
    await waitForBoot(member, id);
    return id;
  };

  const volumeStatus = (id: string, status: string) =>
    waitFor<VolumeView>(
      async () => {
        const v = await getVolume(member, id);
        if (v.status.startsWith('error')) throw new Error(`volume ${v.status}: ${v.errorMessage}`);
        return v.status === status ? v : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 100, what: `volume ${status}` },
    );

  it('a volume written in one guest is read back in another; it grows and is snapshotted while attached', async () => {
    const [vm1, vm2] = await Promise.all([bootGuest('vol-vm1'), bootGuest('vol-vm2')]);
    const v = await createVolume(member, { size: 1, name: 'sysvol', volumeType: typeName });
    await volumeStatus(v.id, 'available');
    const marker = `VOLDATA-${v.id.slice(0, 8)}`;
    const serial = v.id.slice(0, 20);
    const log1 = () => getConsoleOutput(member, vm1);
    const { driver } = stack;
    const pty1 = await driver.serialPty(vm1);

    let t = performance.now();
    const a = await attachVolumeToServer(member, vm1, { volumeId: v.id });
    expect(a.device).toBe('/dev/vdb');
    await volumeStatus(v.id, 'in-use');
    figures.attachToInUse = Math.round(performance.now() - t);
    await runOnSerial(pty1, 'echo VDB-SERIAL=$(cat /sys/block/vdb/serial)', `VDB-SERIAL=${serial}`, log1);
    figures.attachToVisibleInGuest = Math.round(performance.now() - t);
    await runOnSerial(
      pty1,
      `printf ${marker} | dd of=/dev/vdb bs=${marker.length} count=1 conv=fsync 2>/dev/null && echo WROTE=$((40+2))`,
      'WROTE=42',
      log1,
    );

    // Live extend: the guest sees 2 GiB (4194304 sectors) without a reboot.
    t = performance.now();
    await extendVolume(member, v.id, 2, { allowAttached: true });
    expect((await volumeStatus(v.id, 'in-use')).size).toBe(2);
    figures.liveExtend = Math.round(performance.now() - t);
    await runOnSerial(pty1, 'echo VDB-SECTORS=$(cat /sys/block/vdb/size)', 'VDB-SECTORS=4194304', log1);

    // Live snapshot while attached (blockcopy): it holds what the guest wrote.
    t = performance.now();
    const snap = await createSnapshot(member, { volumeId: v.id, force: true, name: 'live' });
    await waitFor(
      async () => {
        const s = await getSnapshot(member, snap.id);
        if (s.status === 'error') throw new Error(`snapshot error: ${s.errorMessage}`);
        return s.status === 'available';
      },
      { timeoutMs: 120_000, what: 'live snapshot' },
    );
    figures.liveSnapshot = Math.round(performance.now() - t);
    const snapDump = execFileSync(
      'qemu-io',
      ['-r', '-f', 'qcow2', '-c', `read -v 0 ${marker.length}`, deps.backend.snapshotLocation(snap.id).path],
      {
        encoding: 'utf8',
      },
    );
    // qemu-io's dump: hex bytes, then the printable characters ('-' shows as '.').
    const hex = [...Buffer.from(marker)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
    expect(snapDump).toContain(hex);

    // Backup of the attached volume (read through blockcopy while the guest runs).
    t = performance.now();
    const bk = await createBackup(member, { volumeId: v.id, force: true, name: 'live-backup' });
    const done = await waitFor(
      async () => {
        const x = await getBackup(member, bk.id);
        if (x.status === 'error') throw new Error(`backup error: ${x.failReason}`);
        return x.status === 'available' ? x : undefined;
      },
      { timeoutMs: 300_000, what: 'live backup' },
    );
    figures.liveBackup2GiB = Math.round(performance.now() - t);
    expect(done.storedBytes).toBeGreaterThan(0);
    await volumeStatus(v.id, 'in-use');

    t = performance.now();
    await detachVolumeFromServer(member, vm1, v.id);
    await volumeStatus(v.id, 'available');
    figures.detach = Math.round(performance.now() - t);

    const pty2 = await driver.serialPty(vm2);
    const log2 = () => getConsoleOutput(member, vm2);
    t = performance.now();
    await attachVolumeToServer(member, vm2, { volumeId: v.id });
    await volumeStatus(v.id, 'in-use');
    await runOnSerial(pty2, 'echo VDB-SERIAL=$(cat /sys/block/vdb/serial)', `VDB-SERIAL=${serial}`, log2);
    figures.attachToVisibleInGuest2 = Math.round(performance.now() - t);
    await runOnSerial(
      pty2,
      `echo GOT=$(dd if=/dev/vdb bs=${marker.length} count=1 2>/dev/null)`,
      `GOT=${marker}`,
      log2,
    );

    // Baseline in the same run: the compute driver's hot-plug alone (no API, queue or
    // database) of a plain file, until the guest shows it.
    const plain = join(deps.backend.locate(v.id, 'qcow2').path, '..', 'baseline-plain.qcow2');
    execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', plain, '64M']);
    t = performance.now();
    await driver.attachVolume(vm2, { path: plain, format: 'qcow2', targetDev: 'vdc', serial: 'baselinevdc' });
    await runOnSerial(pty2, 'echo VDC-SERIAL=$(cat /sys/block/vdc/serial)', 'VDC-SERIAL=baselinevdc', log2);
    figures.baselineDriverAttachToVisible = Math.round(performance.now() - t);
    await driver.detachVolume(vm2, 'vdc');
    execFileSync('rm', ['-f', plain]);

    await detachVolumeFromServer(member, vm2, v.id);
    await volumeStatus(v.id, 'available');
    await deleteBackup(member, bk.id);
    await deleteSnapshot(member, snap.id);
    await waitFor(async () => !(await getSnapshot(member, snap.id).catch(() => undefined)), { what: 'snapshot gone' });
    await deleteVolume(member, v.id);
    await waitFor(async () => !existsSync(deps.backend.locate(v.id, 'qcow2').path), { what: 'volume file gone' });
  });
});
