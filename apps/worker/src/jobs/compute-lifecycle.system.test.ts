import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  type AuthContext,
  confirmResize,
  createServers,
  getServer,
  hasAllocation,
  rebuildServer,
  resizeServer,
  revertResize,
} from '@stratus/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { testFlavor } from './compute/test-support.ts';
import {
  deleteServerAndWait,
  destroyGuests,
  expectGuestGone,
  type GuestStack,
  type GuestWorker,
  guestStack,
  isRoot,
  startGuestWorker,
  waitForBoot,
  waitForServer,
} from './guest-test-support.ts';

/*
 * Rebuild and resize with the REAL libvirt driver and the test image (TCG): rebuild
 * boots the new root disk to the banner again; resize → VERIFY_RESIZE with the new
 * vCPUs/RAM in the domain XML and the grown disk; revert restores the old definition and
 * disk; resize again and confirm keeps the new flavor and drops the kept disk; delete
 * leaves no domain, file or allocation (neither the server's nor the migration's).
 * Limits are generous; timings are printed, never asserted.
 */
const PREFIX = 'stratuslife-';
const figures: Record<string, number> = {};
const GiB = 1024 ** 3;

describe.skipIf(!isRoot)('rebuild and resize with real libvirt', () => {
  let stack: GuestStack;
  let worker: GuestWorker | undefined;
  let admin: AuthContext;
  let small: string;
  let big: string;

  beforeAll(async () => {
    stack = await guestStack(PREFIX);
    admin = stack.admin;
    small = (await testFlavor(admin, { vcpus: 1, ramMb: 128, diskGb: 1 })).id;
    big = (await testFlavor(admin, { vcpus: 2, ramMb: 192, diskGb: 2 })).id;
    // As a worker does: a host whose heartbeat is older than serviceDownSeconds is not
    // schedulable, and a resize is scheduled again (onto this host) minutes after the build.
    worker = await startGuestWorker(stack, { keepAliveMs: 5_000 });
  });

  afterAll(async () => {
    await worker?.stop();
    await destroyGuests(stack?.driver);
    console.log('rebuild/resize system figures (ms):', JSON.stringify(figures));
  });

  const until = (id: string, status: string) => waitForServer(admin, id, status, { failOnNewFault: true });
  const banner = (id: string) => waitForBoot(admin, id);
  const domainXml = (id: string) =>
    execFileSync('virsh', ['-c', 'qemu:///system', 'dumpxml', `${PREFIX}${id}`], { encoding: 'utf8' });
  const flavorInXml = (xml: string) => ({
    vcpus: Number(/<vcpu\b[^>]*>(\d+)<\/vcpu>/.exec(xml)?.[1]),
    memoryKiB: Number(/<memory\b[^>]*>(\d+)<\/memory>/.exec(xml)?.[1]),
  });
  const diskSize = (id: string) =>
    (
      JSON.parse(
        execFileSync(
          'qemu-img',
          ['info', '-U', '--output=json', '-f', 'qcow2', join(stack.driver.instanceDir(id), 'disk')],
          {
            encoding: 'utf8',
          },
        ),
      ) as { 'virtual-size': number }
    )['virtual-size'];

  it('rebuild reboots to the banner; resize/revert/confirm change the domain and disk; delete leaves nothing', async () => {
    const { db } = testDb();
    const { driver, host, imageId } = stack;
    const { servers } = await createServers(admin, {
      name: 'life-vm',
      imageRef: imageId,
      flavorRef: small,
      availabilityZone: `nova:${host}`,
    });
    const id = servers[0]?.id ?? '';
    await until(id, 'ACTIVE');
    await banner(id);
    expect(flavorInXml(domainXml(id))).toEqual({ vcpus: 1, memoryKiB: 128 * 1024 });

    // Rebuild: a new root disk from the image, booted again (the console log starts over).
    let t = performance.now();
    await rebuildServer(admin, id, { imageRef: imageId });
    expect((await getServer(admin, id)).status).toBe('REBUILD');
    await until(id, 'ACTIVE');
    await banner(id);
    figures.rebuildToBanner = Math.round(performance.now() - t);

    // Resize: stopped, disk grown, domain redefined, started again → VERIFY_RESIZE.
    t = performance.now();
    await resizeServer(admin, id, big);
    let s = await until(id, 'VERIFY_RESIZE');
    figures.resizeToVerify = Math.round(performance.now() - t);
    expect(s.flavor).toMatchObject({ vcpus: 2, ramMb: 192 });
    expect(s.powerState).toBe(1);
    expect(flavorInXml(domainXml(id))).toEqual({ vcpus: 2, memoryKiB: 192 * 1024 });
    expect(diskSize(id)).toBe(2 * GiB);
    const m = await db.migration.findFirstOrThrow({ where: { serverId: id }, orderBy: { createdAt: 'desc' } });
    expect(await hasAllocation(db, m.id)).toBe(true);

    // Revert: the old definition and the kept disk come back.
    t = performance.now();
    await revertResize(admin, id);
    s = await until(id, 'ACTIVE');
    figures.revert = Math.round(performance.now() - t);
    expect(s.flavor).toMatchObject({ vcpus: 1, ramMb: 128 });
    expect(flavorInXml(domainXml(id))).toEqual({ vcpus: 1, memoryKiB: 128 * 1024 });
    expect(diskSize(id)).toBe(1 * GiB);
    expect(await hasAllocation(db, m.id)).toBe(false);

    // Resize again and confirm: the new flavor stays, the kept disk goes.
    await resizeServer(admin, id, big);
    await until(id, 'VERIFY_RESIZE');
    t = performance.now();
    await confirmResize(admin, id);
    s = await until(id, 'ACTIVE');
    figures.confirm = Math.round(performance.now() - t);
    expect(s.flavor).toMatchObject({ vcpus: 2, ramMb: 192 });
    expect(flavorInXml(domainXml(id))).toEqual({ vcpus: 2, memoryKiB: 192 * 1024 });
    await waitFor(() => !existsSync(join(driver.instanceDir(id), 'disk.pre-resize')), {
      timeoutMs: 60_000,
      what: 'the kept disk dropped',
    });
    await banner(id);

    await deleteServerAndWait(admin, db, id);
    await expectGuestGone(db, id, driver.instanceDir(id));
    const migrations = await db.migration.findMany({ where: { serverId: id } });
    for (const mig of migrations) expect(await hasAllocation(db, mig.id)).toBe(false);
  });
});
