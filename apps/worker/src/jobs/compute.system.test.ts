import { type AuthContext, createServers, deleteServer, getConsoleOutput, serverPowerAction } from '@stratus/core';
import { projectWithMember } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../test/helpers.ts';
import { testFlavor } from './compute/test-support.ts';
import {
  destroyGuests,
  expectGuestGone,
  type GuestStack,
  type GuestWorker,
  guestStack,
  isRoot,
  startGuestWorker,
  waitDeleted,
  waitForBoot,
  waitForServer,
} from './guest-test-support.ts';

/*
 * The whole build path with the REAL libvirt driver and the test image: create through
 * core, a real queue worker in this process, ACTIVE, STRATUS-BOOT-OK on the serial
 * console, stop/start/reboot, delete; afterwards no domain, disk or allocation remains.
 * Limits are generous (TCG on 2 busy cores); timings are printed, never asserted.
 */
const figures: Record<string, number> = {};

describe.skipIf(!isRoot)('compute with real libvirt', () => {
  let stack: GuestStack;
  let worker: GuestWorker | undefined;
  let member: AuthContext;
  let flavorId: string;

  beforeAll(async () => {
    stack = await guestStack('stratuscmp-');
    member = (await projectWithMember(stack.admin)).auth.context;
    flavorId = (await testFlavor(stack.admin)).id;
    worker = await startGuestWorker(stack);
  });

  afterAll(async () => {
    await worker?.stop();
    await destroyGuests(stack?.driver);
    console.log('compute system figures (ms):', JSON.stringify(figures));
  });

  it('boots the test image to ACTIVE and STRATUS-BOOT-OK, runs power actions, deletes cleanly', async () => {
    const { db } = testDb();
    const { driver, imageId } = stack;
    let t = performance.now();
    const { servers } = await createServers(member, { name: 'sys-vm', imageRef: imageId, flavorRef: flavorId });
    const id = servers[0]?.id ?? '';
    await waitForServer(member, id, 'ACTIVE');
    figures.createToActive = Math.round(performance.now() - t);
    t = performance.now();
    await waitForBoot(member, id);
    figures.activeToBootOk = Math.round(performance.now() - t);
    expect((await getConsoleOutput(member, id, 5)).split('\n').length).toBeLessThanOrEqual(6);

    for (const [op, status] of [
      ['stop', 'SHUTOFF'],
      ['start', 'ACTIVE'],
      ['reboot_soft', 'ACTIVE'],
    ] as const) {
      t = performance.now();
      await serverPowerAction(member, id, op);
      const s = await waitForServer(member, id, status);
      figures[op] = Math.round(performance.now() - t);
      expect(s.powerState).toBe(status === 'SHUTOFF' ? 4 : 1);
    }

    t = performance.now();
    await deleteServer(member, id);
    await waitDeleted(db, id);
    figures.delete = Math.round(performance.now() - t);
    await expectGuestGone(db, id, driver.instanceDir(id));
  });
});
