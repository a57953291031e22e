import { randomInt } from 'node:crypto';
import {
  addRouterInterface,
  type AuthContext,
  createFloatingIp,
  createNetwork,
  createRouter,
  createSecurityGroupRule,
  createServers,
  createSubnet,
  deleteFloatingIp,
  deleteNetwork,
  deleteRouter,
  deleteSecurityGroupRule,
  getConsoleOutput,
  listSecurityGroups,
  listServerAddresses,
  removeRouterInterface,
  updateFloatingIp,
  updateRouter,
} from '@stratus/core';
import { projectWithMember, unique } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { testFlavor } from './compute/test-support.ts';
import {
  consoleShows,
  deleteServersQuietly,
  destroyGuests,
  expectNoGuestsLeft,
  type GuestNetwork,
  type GuestStack,
  type GuestWorker,
  guestStack,
  isRoot,
  ping,
  startGuestNetwork,
  startGuestWorker,
  waitForServer,
} from './guest-test-support.ts';

/*
 * Root only. Real guests (the test image under libvirt, TCG on a busy host) on real
 * tenant networks built by the Linux network driver, through the API and the queue as
 * in production:
 *  - A1 and A2 (project A, one network) get the addresses Neutron assigned over DHCP and
 *    ping each other (their user-data scripts report on the serial console);
 *  - B1, on project B's network with the same CIDR, cannot reach A1 or A2 (while it
 *    does reach its own DHCP server, so its network works);
 *  - the host reaches A1 through a floating IP only while an ICMP rule allows it:
 *    allowed → rule deleted → blocked → allowed again.
 * Everything is deleted in afterAll; domains carry the `stratusgnet-` prefix and host
 * links a random marker, and nothing of either may remain.
 */
const PREFIX = 'stratusgnet-';
const b = randomInt(100, 250);
const TENANT = `10.${b}.21`;
const EXTERNAL = `10.${b}.23`;
const A1 = `${TENANT}.10`;
const A2 = `${TENANT}.11`;
const B1 = `${TENANT}.30`;
// Real guests boot slowly under TCG on a loaded machine: generous limits, polled.
const BOOT_MS = 600_000;

const hostPing = (ip: string) => ping(null, ip);

/** A user-data script that reports, on the console, each peer it could ping (retrying for a while). */
function pinger(tag: string, reach: string[], tries: number): string {
  const script = `#!/bin/sh
for ip in ${reach.join(' ')}; do
  ( n=0; while [ $n -lt ${tries} ]; do
      if ping -c 1 -W 2 "$ip" >/dev/null 2>&1; then echo "STRATUS-${tag}-REACH $ip"; exit 0; fi
      n=$((n + 1)); sleep 1
    done; echo "STRATUS-${tag}-NOREACH $ip" ) &
done
wait
`;
  return Buffer.from(script).toString('base64');
}

describe.skipIf(!isRoot)('real guests on tenant networks: DHCP, reachability, isolation, floating IP', () => {
  let stack: GuestStack;
  let network: GuestNetwork | undefined;
  let worker: GuestWorker | undefined;
  let admin: AuthContext;
  let a: AuthContext;
  let bCtx: AuthContext;
  let flavorId = '';
  const servers: { ctx: AuthContext; id: string }[] = [];
  const made: { ext?: string; netA?: string; netB?: string; subnetA?: string; router?: string; fip?: string } = {};

  beforeAll(async () => {
    stack = await guestStack(PREFIX);
    admin = stack.admin;
    a = (await projectWithMember(admin)).auth.context;
    bCtx = (await projectWithMember(admin)).auth.context;
    flavorId = (await testFlavor(admin)).id;
    network = await startGuestNetwork(stack.host, 'gnet');
    // This test outlives the service-down window: keep the host alive for the scheduler.
    worker = await startGuestWorker(stack, { ...network.worker, keepAliveMs: 10_000, concurrency: 3 });
  }, BOOT_MS);

  afterAll(async () => {
    await deleteServersQuietly(testDb().db, servers, 180_000);
    await destroyGuests(stack?.driver);
    await worker?.stop();
    if (made.fip) await deleteFloatingIp(a, made.fip).catch(() => {});
    if (made.router && made.subnetA)
      await removeRouterInterface(a, made.router, { subnet_id: made.subnetA }).catch(() => {});
    if (made.router) await updateRouter(a, made.router, { external_gateway_info: null }).catch(() => {});
    if (made.router) await deleteRouter(a, made.router).catch(() => {});
    if (made.netA) await deleteNetwork(a, made.netA).catch((e: unknown) => console.error('delete net A', e));
    if (made.netB) await deleteNetwork(bCtx, made.netB).catch((e: unknown) => console.error('delete net B', e));
    if (made.ext) await deleteNetwork(admin, made.ext).catch((e: unknown) => console.error('delete ext', e));
    await network?.cleanup();
    if (stack) await expectNoGuestsLeft(stack.driver);
  }, BOOT_MS);

  /** Boots a guest with a fixed address and a user-data script; returns its id. */
  async function boot(ctx: AuthContext, name: string, networkId: string, ip: string, userData: string) {
    const { servers: made } = await createServers(ctx, {
      name,
      imageRef: stack.imageId,
      flavorRef: flavorId,
      networks: [{ uuid: networkId, fixed_ip: ip }],
      userData,
    });
    const id = made[0]?.id ?? '';
    servers.push({ ctx, id });
    return id;
  }

  const active = (ctx: AuthContext, id: string) =>
    waitForServer(ctx, id, 'ACTIVE', { timeoutMs: BOOT_MS, intervalMs: 500 });
  /** Waits until the console log shows every one of `marks` (lines starting with them); returns the log. */
  const shows = (ctx: AuthContext, id: string, marks: string[], never: string[] = []) =>
    consoleShows(ctx, id, marks, never, { timeoutMs: BOOT_MS });

  it(
    'two guests lease their Neutron addresses and ping each other; another project cannot reach them; ICMP rule gates the floating IP',
    async () => {
      // An external network of our own (host-only bridge, random range) and project A's router.
      const ext = await createNetwork(admin, { name: unique('gnet-ext'), 'router:external': true });
      made.ext = ext.id;
      await createSubnet(admin, { network_id: ext.id, cidr: `${EXTERNAL}.0/24`, enable_dhcp: false });
      const netA = await createNetwork(a, { name: unique('gnet-a') });
      made.netA = netA.id;
      const subnetA = await createSubnet(a, { network_id: netA.id, cidr: `${TENANT}.0/24` });
      made.subnetA = subnetA.id;
      const router = await createRouter(a, { name: unique('gnet-r'), external_gateway_info: { network_id: ext.id } });
      made.router = router.id;
      await addRouterInterface(a, router.id, { subnet_id: subnetA.id });
      // Project B: its own network with the same CIDR (separate L2 segment).
      const netB = await createNetwork(bCtx, { name: unique('gnet-b') });
      made.netB = netB.id;
      await createSubnet(bCtx, { network_id: netB.id, cidr: `${TENANT}.0/24` });

      // A1 and A2 each ping the other (the default group admits its own members).
      const a1 = await boot(a, 'gnet-a1', netA.id, A1, pinger('A1', [A2], 600));
      const a2 = await boot(a, 'gnet-a2', netA.id, A2, pinger('A2', [A1], 600));
      await active(a, a1);
      await active(a, a2);
      const addrs = await listServerAddresses([a1, a2]);
      expect(addrs[a1]?.[netA.name]?.[0]?.addr).toBe(A1);
      expect(addrs[a2]?.[netA.name]?.[0]?.addr).toBe(A2);

      // DHCP gave each guest the address Neutron assigned (the boot banner prints it).
      const log1 = await shows(a, a1, ['STRATUS-A1-', 'STRATUS-BOOT-OK'], ['STRATUS-A1-NOREACH']);
      const log2 = await shows(a, a2, ['STRATUS-A2-', 'STRATUS-BOOT-OK'], ['STRATUS-A2-NOREACH']);
      expect(log1).toContain(`stratus: eth0 bound ${A1}/24`);
      expect(log2).toContain(`stratus: eth0 bound ${A2}/24`);
      expect(log1).toContain(`STRATUS-A1-REACH ${A2}`);
      expect(log2).toContain(`STRATUS-A2-REACH ${A1}`);

      // B1 boots only now (A1 and A2 are up and answering) and tries them, plus its own
      // DHCP server as a control (the network's DHCP port: the first pool address).
      const dhcpB =
        (
          await testDb().db.port.findFirstOrThrow({
            where: { networkId: netB.id, deviceOwner: 'network:dhcp' },
            include: { fixedIps: true },
          })
        ).fixedIps[0]?.ip ?? '';
      expect(dhcpB).not.toBe('');
      const b1 = await boot(bCtx, 'gnet-b1', netB.id, B1, pinger('B1', [A1, A2, dhcpB], 30));
      await active(bCtx, b1);
      const logB = await shows(
        bCtx,
        b1,
        [`STRATUS-B1-REACH ${dhcpB}`, `STRATUS-B1-NOREACH ${A1}`, `STRATUS-B1-NOREACH ${A2}`, 'STRATUS-BOOT-OK'],
        [`STRATUS-B1-REACH ${A1}`, `STRATUS-B1-REACH ${A2}`],
      ).catch(async (e: unknown) => {
        // Say what B1 did report rather than only that the wait ran out.
        const seen = (await getConsoleOutput(bCtx, b1)).split('\n').filter((l) => l.includes('STRATUS-B1-'));
        throw new Error(`${String(e)}; B1 reported: ${seen.join(' | ') || 'nothing'}`);
      });
      expect(logB).toContain(`stratus: eth0 bound ${B1}/24`);
      expect(logB).toContain(`STRATUS-B1-REACH ${dhcpB}`);
      expect(logB).toContain(`STRATUS-B1-NOREACH ${A1}`);
      expect(logB).toContain(`STRATUS-B1-NOREACH ${A2}`);

      // Floating IP on A1: the host reaches it only while an ICMP rule allows it.
      const fip = await createFloatingIp(a, { floating_network_id: ext.id });
      made.fip = fip.id;
      await updateFloatingIp(a, fip.id, {
        port_id: (await testDb().db.port.findFirstOrThrow({ where: { deviceId: a1 } })).id,
      });
      const def = (await listSecurityGroups(a)).find((g) => g.name === 'default');
      const icmp = () =>
        createSecurityGroupRule(a, {
          security_group_id: def?.id ?? '',
          direction: 'ingress',
          protocol: 'icmp',
          remote_ip_prefix: '0.0.0.0/0',
        });
      let rule = await icmp();
      await waitFor(() => hostPing(fip.floatingIp), { timeoutMs: 180_000, intervalMs: 1000, what: 'ping to the FIP' });
      await deleteSecurityGroupRule(a, rule.id);
      await waitFor(async () => !(await hostPing(fip.floatingIp)), {
        timeoutMs: 180_000,
        intervalMs: 1000,
        what: 'ping blocked without the ICMP rule',
      });
      // Blocked for good, not a lost packet: three more tries all fail.
      for (const _ of [1, 2, 3]) expect(await hostPing(fip.floatingIp)).toBe(false);
      rule = await icmp();
      await waitFor(() => hostPing(fip.floatingIp), {
        timeoutMs: 180_000,
        intervalMs: 1000,
        what: 'ping to the FIP again',
      });
      await deleteSecurityGroupRule(a, rule.id);
      console.log(`guest-network: A1 ${A1} ⇄ A2 ${A2}; B1 ${B1} isolated; host → ${fip.floatingIp} → A1 gated by ICMP`);
    },
    4 * BOOT_MS,
  );
});
