import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AuthContext,
  addAggregateHost,
  confirmResize,
  createAggregate,
  createServerGroup,
  createServers,
  deleteServer,
  getConsumerAllocations,
  loadConfig,
  migrateServer,
  revertResize,
} from '@stratus/core';
import { projectWithMember, unique } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { runTool } from '../drivers/compute/libvirt.ts';
import { testFlavor } from './compute/test-support.ts';
import {
  BOOT_MARKER,
  bootCount,
  deleteServersQuietly,
  expectGuestGone,
  GUEST_LIMIT_MS,
  guestStack,
  isRoot,
  waitDeleted,
  waitForNextBoot,
  waitForServer,
} from './guest-test-support.ts';

/*
 * Two hosts: two REAL worker processes (apps/worker/src/main.ts, the product's worker)
 * started with different STRATUS_HOST and state directories against the test database,
 * each registering its compute node and heartbeating. An anti-affinity group of two
 * servers must land one on each host, and each guest boots (real libvirt, TCG) under its
 * host's state directory. Both workers and everything they made are removed afterwards.
 * The workers share the image store (STRATUS_IMAGE_STORE_DIR), as hosts share Glance.
 * A running guest is then cold-migrated between them: VERIFY_RESIZE on the other host
 * with its disk copied into that host's instance directory and booting from there;
 * confirm leaves nothing on the source; a second migration reverted runs it where it was.
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const tag = randomUUID().slice(0, 6);
const hosts = [`mh-a-${tag}`, `mh-b-${tag}`];
const zone = `mh-${tag}`;
const figures: Record<string, number> = {};

describe.skipIf(!isRoot)('two compute hosts', () => {
  const workers: ChildProcess[] = [];
  const dirs: string[] = [];
  const logs: string[] = ['', ''];
  let member: AuthContext;
  let admin: AuthContext;
  let imageId: string;
  let flavorId: string;
  const created: string[] = [];

  beforeAll(async () => {
    // This process runs no guests (the two workers do): the stack's own driver stays unused.
    const stack = await guestStack('stratusmh-');
    const { url, db, stateDir, imageId: image } = stack;
    admin = stack.admin;
    imageId = image;
    member = (await projectWithMember(admin)).auth.context;
    flavorId = (await testFlavor(admin)).id;
    // A worker's start-up network pass makes every external network's bridge; a leftover
    // from another test would then be wired by these workers too. There must be none.
    expect(await db.network.count({ where: { external: true } }), 'external networks left by other tests').toBe(0);

    const imageStore = loadConfig().imageStoreDir ?? join(stateDir, 'images');
    hosts.forEach((host, i) => {
      const dir = mkdtempSync(join(tmpdir(), `stratus-${host}-`));
      chmodSync(dir, 0o711);
      dirs.push(dir);
      const child = spawn(process.execPath, ['--import', 'tsx', 'apps/worker/src/main.ts'], {
        cwd: root,
        env: {
          ...process.env,
          DATABASE_URL: url,
          STRATUS_STATE_DIR: dir,
          STRATUS_HOST: host,
          STRATUS_WORKER_ROLES: 'compute,scheduler,conductor',
          STRATUS_IMAGE_STORE_DIR: imageStore,
          STRATUS_NETWORK_MARKER: `mh${tag}${i}`,
          STRATUS_HEARTBEAT_SECONDS: '2',
          STRATUS_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (d: Buffer) => {
        logs[i] += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        logs[i] += d.toString();
      });
      workers.push(child);
    });
    for (const [i, host] of hosts.entries()) {
      await waitFor(() => logs[i]?.includes(`stratus-worker ready on host ${host}`), {
        timeoutMs: 120_000,
        what: `worker ${host} ready (log: ${logs[i]?.slice(-500)})`,
      });
      await waitFor(async () => (await db.computeNode.findUnique({ where: { host } })) ?? undefined, {
        timeoutMs: 60_000,
        what: `compute node ${host} registered`,
      });
    }
    // Their own zone: hosts of earlier test files may still look up, without a worker.
    const agg = await createAggregate(admin, { name: unique('mh'), availabilityZone: zone });
    for (const host of hosts) await addAggregateHost(admin, agg.id, host);
  });

  afterAll(async () => {
    const { db } = testDb();
    await deleteServersQuietly(
      db,
      created.map((id) => ({ ctx: member, id })),
    );
    // Take both hosts out of the scheduler's view before their workers stop.
    await db.service.updateMany({ where: { host: { in: hosts } }, data: { disabled: true } });
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null) return resolve();
            w.once('exit', () => resolve());
            w.kill('SIGTERM');
            setTimeout(() => w.kill('SIGKILL'), 20_000).unref();
          }),
      ),
    );
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    console.log('multi-host figures (ms):', JSON.stringify(figures));
  });

  it('registers two compute nodes and places an anti-affinity group across both; both guests boot', async () => {
    const { db } = testDb();
    const nodes = await db.computeNode.findMany({ where: { host: { in: hosts } } });
    expect(nodes.map((n) => n.host).sort()).toEqual([...hosts].sort());
    expect(new Set(nodes.map((n) => n.resourceProviderUuid)).size).toBe(2);

    const group = await createServerGroup(member, { name: unique('spread'), policy: 'anti-affinity' });
    const t = performance.now();
    // Each server is scheduled alone (its own job); anti-affinity sees the first one's host.
    for (const name of ['mh-1', 'mh-2']) {
      const { servers } = await createServers(member, {
        name,
        imageRef: imageId,
        flavorRef: flavorId,
        serverGroupId: group.id,
        availabilityZone: zone,
      });
      const id = servers[0]?.id ?? '';
      created.push(id);
      await waitForServer(member, id, 'ACTIVE', { anyTaskState: true });
    }
    figures.bothActive = Math.round(performance.now() - t);
    const placed = await db.server.findMany({ where: { id: { in: created } }, select: { id: true, host: true } });
    expect(placed.map((s) => s.host).sort()).toEqual([...hosts].sort());

    // Each guest runs under its own host's state directory and boots to the banner.
    for (const s of placed) {
      const dir = dirs[hosts.indexOf(s.host ?? '')] ?? '';
      expect(existsSync(join(dir, 'instances', s.id, 'disk'))).toBe(true);
      // Read on the host itself: the API reads console logs from its own state directory.
      const log = join(dir, 'instances', s.id, 'console.log');
      await waitFor(() => existsSync(log) && readFileSync(log, 'utf8').includes('STRATUS-BOOT-OK'), {
        timeoutMs: 300_000,
        intervalMs: 1000,
        what: `STRATUS-BOOT-OK in ${log}`,
      });
    }
    figures.bothBooted = Math.round(performance.now() - t);

    for (const id of created) await deleteServer(member, id);
    for (const s of placed) await waitDeleted(db, s.id);
    for (const s of placed) {
      const dir = dirs[hosts.indexOf(s.host ?? '')] ?? '';
      await expectGuestGone(db, s.id, join(dir, 'instances', s.id));
    }
  });
  it('cold-migrates a running guest to the other host; confirm cleans the source, a reverted migration runs it back home, a delete in VERIFY_RESIZE cleans both', async () => {
    const { db } = testDb();
    const virsh = (...args: string[]) => runTool('virsh', ['-c', 'qemu:///system', ...args]);
    const dirOf = (host: string) => dirs[hosts.indexOf(host)] ?? '';
    const instanceDir = (host: string, id: string) => join(dirOf(host), 'instances', id);
    const consoleOn = (host: string, id: string) => {
      const log = join(instanceDir(host, id), 'console.log');
      return existsSync(log) ? readFileSync(log, 'utf8') : '';
    };
    /** Resources the consumer holds, per host. */
    const heldOn = async (consumer: string) => {
      const nodes = await db.computeNode.findMany({ where: { host: { in: hosts } } });
      const out: Record<string, Record<string, number>> = {};
      for (const a of (await getConsumerAllocations('service', consumer)).allocations)
        out[nodes.find((n) => n.resourceProviderUuid === a.providerId)?.host ?? a.providerId] = a.resources;
      return out;
    };
    /** The running domain of the server and the disk it runs from. */
    const domain = async (id: string) => {
      const state = (await virsh('domstate', `stratus-${id}`)).stdout.trim();
      const xml = (await virsh('dumpxml', `stratus-${id}`)).stdout;
      const disk = /<source file='([^']+\/disk)'/.exec(xml)?.[1];
      return { state, disk };
    };

    const { servers } = await createServers(member, {
      name: 'mh-mig',
      imageRef: imageId,
      flavorRef: flavorId,
      availabilityZone: zone,
    });
    const id = servers[0]?.id ?? '';
    created.push(id);
    const first = await waitForServer(member, id, 'ACTIVE');
    const a = first.host ?? '';
    const b = hosts.find((h) => h !== a) ?? '';
    expect(hosts).toContain(a);
    await waitFor(() => consoleOn(a, id).includes(BOOT_MARKER), {
      timeoutMs: GUEST_LIMIT_MS,
      intervalMs: 1000,
      what: `${BOOT_MARKER} on ${a}`,
    });
    const flavor = await heldOn(id);
    expect(Object.keys(flavor)).toEqual([a]);

    // 1. migrate: the only other host is picked; the guest runs there from that host's own copy.
    let t = performance.now();
    await migrateServer(admin, id);
    const moved = await waitForServer(member, id, 'VERIFY_RESIZE', { timeoutMs: GUEST_LIMIT_MS });
    figures.migrateToVerify = Math.round(performance.now() - t);
    expect(moved.host).toBe(b);
    const m1 = await db.migration.findFirstOrThrow({ where: { serverId: id }, orderBy: { createdAt: 'desc' } });
    expect(m1).toMatchObject({ migrationType: 'migration', status: 'finished', sourceHost: a, destHost: b });
    expect(await domain(id)).toEqual({ state: 'running', disk: join(instanceDir(b, id), 'disk') });
    // The source keeps its disk for a revert; the destination's is a copy backed by its own image cache.
    expect(existsSync(join(instanceDir(a, id), 'disk'))).toBe(true);
    const info = JSON.parse(
      (await runTool('qemu-img', ['info', '-U', '--output=json', join(instanceDir(b, id), 'disk')])).stdout,
    ) as {
      'backing-filename'?: string;
    };
    expect(info['backing-filename']?.startsWith(`${dirOf(b)}/`)).toBe(true);
    expect(existsSync(join(instanceDir(b, id), 'disk.part'))).toBe(false);
    await waitFor(() => consoleOn(b, id).includes(BOOT_MARKER), {
      timeoutMs: GUEST_LIMIT_MS,
      intervalMs: 1000,
      what: `${BOOT_MARKER} on ${b} after the migration`,
    });
    figures.migrateToBoot = Math.round(performance.now() - t);
    // The server holds the destination, the migration the source.
    expect(await heldOn(id)).toEqual({ [b]: flavor[a] });
    expect(await heldOn(m1.id)).toEqual(flavor);

    // 2. confirm: the source's allocations and its kept instance directory go.
    await confirmResize(member, id);
    await waitForServer(member, id, 'ACTIVE');
    await waitFor(() => !existsSync(instanceDir(a, id)) || undefined, {
      timeoutMs: 120_000,
      what: `${instanceDir(a, id)} removed after the confirm`,
    });
    expect(await heldOn(id)).toEqual({ [b]: flavor[a] });
    expect(await heldOn(m1.id)).toEqual({});
    expect((await db.migration.findUniqueOrThrow({ where: { id: m1.id } })).status).toBe('confirmed');
    expect(await domain(id)).toEqual({ state: 'running', disk: join(instanceDir(b, id), 'disk') });

    // 3. migrate back, then revert: it runs on b again from b's disk; nothing stays on a.
    const bootsOnB = bootCount(consoleOn(b, id));
    t = performance.now();
    await migrateServer(admin, id);
    const back = await waitForServer(member, id, 'VERIFY_RESIZE', { timeoutMs: GUEST_LIMIT_MS });
    expect(back.host).toBe(a);
    expect(await domain(id)).toEqual({ state: 'running', disk: join(instanceDir(a, id), 'disk') });
    await revertResize(member, id);
    const reverted = await waitForServer(member, id, 'ACTIVE', { timeoutMs: GUEST_LIMIT_MS });
    figures.migrateAndRevert = Math.round(performance.now() - t);
    expect(reverted.host).toBe(b);
    const m2 = await db.migration.findFirstOrThrow({ where: { serverId: id }, orderBy: { createdAt: 'desc' } });
    expect(m2).toMatchObject({ status: 'reverted', sourceHost: b, destHost: a });
    expect(await domain(id)).toEqual({ state: 'running', disk: join(instanceDir(b, id), 'disk') });
    expect(existsSync(instanceDir(a, id))).toBe(false);
    expect(existsSync(join(instanceDir(b, id), 'libvirt.xml.pre-migrate'))).toBe(false);
    expect(await heldOn(id)).toEqual({ [b]: flavor[a] });
    expect(await heldOn(m2.id)).toEqual({});
    // Started again from b's kept definition: it boots once more there.
    await waitForNextBoot(async () => consoleOn(b, id), bootsOnB, GUEST_LIMIT_MS);

    // 4. Deleted while a third migration waits in VERIFY_RESIZE: the destination's guest
    // and the source's kept copy both go, and neither consumer holds anything.
    await migrateServer(admin, id);
    expect((await waitForServer(member, id, 'VERIFY_RESIZE', { timeoutMs: GUEST_LIMIT_MS })).host).toBe(a);
    const m3 = await db.migration.findFirstOrThrow({ where: { serverId: id }, orderBy: { createdAt: 'desc' } });
    expect(existsSync(join(instanceDir(b, id), 'libvirt.xml.pre-migrate'))).toBe(true);
    await deleteServer(member, id);
    await waitDeleted(db, id);
    await expectGuestGone(db, id, instanceDir(a, id));
    await waitFor(() => !existsSync(instanceDir(b, id)) || undefined, {
      timeoutMs: 120_000,
      what: `${instanceDir(b, id)} removed after the delete`,
    });
    expect(await heldOn(m3.id)).toEqual({});
  });
});
