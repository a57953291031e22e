import { randomInt } from 'node:crypto';
import {
  type AuthContext,
  createNetwork,
  createServers,
  createSubnet,
  deleteNetwork,
  listServerAddresses,
} from '@stratus/core';
import { projectWithMember, unique } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb } from '../../../../test/helpers.ts';
import { testFlavor } from './compute/test-support.ts';
import {
  deleteServerAndWait,
  destroyGuests,
  type GuestNetwork,
  type GuestStack,
  type GuestWorker,
  guestStack,
  isRoot,
  startGuestNetwork,
  startGuestWorker,
  waitForBoot,
  waitForServer,
} from './guest-test-support.ts';

/*
 * Root only. A real guest (the test image, real libvirt) on a tenant network built by
 * the real Linux network driver: the build makes and binds its port and runs the
 * agent pass, the guest gets its Neutron address from the network's dnsmasq and its
 * hostname from the metadata service through the qdhcp namespace's proxy (found by
 * its fixed IP). Everything carries a random marker or the `stratuscmp-` prefix and is
 * removed in afterAll. One guest at a time.
 */
const b = randomInt(100, 200);

describe.skipIf(!isRoot)('a server on a tenant network (real libvirt and dataplane)', () => {
  let stack: GuestStack;
  let network: GuestNetwork | undefined;
  let worker: GuestWorker | undefined;
  let member: AuthContext;
  let flavorId: string;
  let networkId: string | undefined;

  beforeAll(async () => {
    stack = await guestStack('stratuscmp-');
    member = (await projectWithMember(stack.admin)).auth.context;
    flavorId = (await testFlavor(stack.admin)).id;
    network = await startGuestNetwork(stack.host, 'cnet');
    worker = await startGuestWorker(stack, network.worker);
  });

  afterAll(async () => {
    await destroyGuests(stack?.driver);
    await worker?.stop();
    if (networkId) await deleteNetwork(member, networkId).catch((e: unknown) => console.error('delete network', e));
    await network?.cleanup();
  });

  it('boots on the network: DHCP gives the Neutron address, metadata the hostname', async () => {
    const { db } = testDb();
    const n = await createNetwork(member, { name: unique('cnet') });
    networkId = n.id;
    await createSubnet(member, { network_id: n.id, cidr: `10.${b}.9.0/24` });

    const t0 = performance.now();
    const { servers } = await createServers(member, {
      name: 'netguest',
      imageRef: stack.imageId,
      flavorRef: flavorId,
      networks: [{ uuid: n.id }],
    });
    const id = servers[0]?.id ?? '';
    await waitForServer(member, id, 'ACTIVE');
    const active = performance.now() - t0;
    const ip = (await listServerAddresses([id]))[id]?.[n.name]?.[0]?.addr ?? '';
    expect(ip).toMatch(new RegExp(`^10\\.${b}\\.9\\.\\d+$`));
    const port = await db.port.findFirstOrThrow({ where: { deviceId: id } });
    expect(port.status).toBe('ACTIVE');

    const log = await waitForBoot(member, id);
    const banner = log.split('\n').find((l) => l.includes('Stratus test image')) ?? '';
    console.log(
      `compute+network: ACTIVE in ${active.toFixed(0)} ms, boot ok in ${(performance.now() - t0).toFixed(0)} ms; ${banner.trim()}`,
    );
    expect(banner).toContain(`ip: ${ip}`);
    expect(banner).toContain('hostname: netguest');

    await deleteServerAndWait(member, db, id);
    expect(await db.port.count({ where: { deviceId: id } })).toBe(0);
  });
});
