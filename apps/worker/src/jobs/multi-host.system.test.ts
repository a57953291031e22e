import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AuthContext,
  addAggregateHost,
  createAggregate,
  createServerGroup,
  createServers,
  deleteServer,
  loadConfig,
} from '@stratus/core';
import { projectWithMember, unique } from '@stratus/core/identity/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { testFlavor } from './compute/test-support.ts';
import {
  deleteServersQuietly,
  expectGuestGone,
  guestStack,
  isRoot,
  waitDeleted,
  waitForServer,
} from './guest-test-support.ts';

/*
 * Two hosts: two REAL worker processes (apps/worker/src/main.ts, the product's worker)
 * started with different STRATUS_HOST and state directories against the test database,
 * each registering its compute node and heartbeating. An anti-affinity group of two
 * servers must land one on each host, and each guest boots (real libvirt, TCG) under its
 * host's state directory. Both workers and everything they made are removed afterwards.
 * The workers share the image store (STRATUS_IMAGE_STORE_DIR), as hosts share Glance.
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
  let imageId: string;
  let flavorId: string;
  const created: string[] = [];

  beforeAll(async () => {
    // This process runs no guests (the two workers do): the stack's own driver stays unused.
    const { url, db, stateDir, admin, imageId: image } = await guestStack('stratusmh-');
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
});
