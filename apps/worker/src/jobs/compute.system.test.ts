import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AuthContext,
  createFlavor,
  createServers,
  deleteServer,
  getConsoleOutput,
  getServer,
  hasAllocation,
  heartbeat,
  type JobDefinition,
  loadConfig,
  registerTestImage,
  serverPowerAction,
  toTask,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { startQueueWorker } from '@stratus/db';
import type { Runner } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { ImageCache } from '../drivers/compute/image-cache.ts';
import { LibvirtDriver } from '../drivers/compute/libvirt.ts';
import { computeJobs } from './compute.ts';
import { registerThisHost } from './compute/host.ts';

/*
 * The whole build path with the REAL libvirt driver and the test image: create through
 * core, a real queue worker in this process, ACTIVE, STRATUS-BOOT-OK on the serial
 * console, stop/start/reboot, delete; afterwards no domain, disk or allocation remains.
 * Limits are generous (TCG on 2 busy cores); timings are printed, never asserted.
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const PREFIX = 'stratuscmp-';
const figures: Record<string, number> = {};

describe.skipIf(process.getuid?.() !== 0)('compute with real libvirt', () => {
  let driver: LibvirtDriver;
  let runner: Runner | undefined;
  let member: AuthContext;
  let imageId: string;
  let flavorId: string;
  let host: string;

  beforeAll(async () => {
    const out = execFileSync('bash', [join(root, 'images/build-test-image.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const imagePath = out.trim().split('\n').pop() ?? '';
    expect(existsSync(imagePath)).toBe(true);

    const { url, db } = testDb();
    const { stateDir } = await setupIdentityTest(url);
    const config = loadConfig();
    host = config.host;
    const admin = await adminContext();
    member = (await projectWithMember(admin)).auth.context;
    imageId = (await registerTestImage({ path: imagePath, name: unique('stratus-test') })).id;
    flavorId = (await createFlavor(admin, { name: unique('ci.tiny'), vcpus: 1, ramMb: 128, diskGb: 1 })).id;

    driver = new LibvirtDriver({ stateDir, namePrefix: PREFIX });
    await heartbeat(
      db,
      { binary: 'stratus-worker', host, roles: ['compute', 'scheduler', 'conductor'] },
      { starting: true },
    );
    await registerThisHost(db, host, driver);
    const jobs: JobDefinition[] = computeJobs(() => ({ db, host, driver, images: new ImageCache({ stateDir }) }));
    const tasks = (f: (j: JobDefinition) => boolean) =>
      Object.fromEntries(jobs.filter(f).map((j) => [j.name, toTask(j)]));
    runner = await startQueueWorker({
      connectionString: url,
      host,
      concurrency: 2,
      shared: tasks((j) => !j.hostBound),
      hostBound: tasks((j) => j.hostBound),
    });
  });

  afterAll(async () => {
    await runner?.stop();
    for (const d of (await driver?.listDomains().catch(() => [])) ?? []) {
      if (d.domainName.startsWith(PREFIX)) await driver.destroy(d.uuid).catch(() => {});
    }
    console.log('compute system figures (ms):', JSON.stringify(figures));
  });

  const until = (id: string, status: string, limitMs = 300_000) =>
    waitFor(
      async () => {
        const s = await getServer(member, id);
        if (s.status === 'ERROR') throw new Error(`server ERROR: ${s.fault?.message} ${s.fault?.details}`);
        return s.status === status && s.taskState === null ? s : undefined;
      },
      { timeoutMs: limitMs, intervalMs: 250, what: `${id} ${status}` },
    );

  it('boots the test image to ACTIVE and STRATUS-BOOT-OK, runs power actions, deletes cleanly', async () => {
    const { db } = testDb();
    let t = performance.now();
    const { servers } = await createServers(member, { name: 'sys-vm', imageRef: imageId, flavorRef: flavorId });
    const id = servers[0]?.id ?? '';
    await until(id, 'ACTIVE');
    figures.createToActive = Math.round(performance.now() - t);
    t = performance.now();
    await waitFor(async () => (await getConsoleOutput(member, id)).includes('STRATUS-BOOT-OK'), {
      timeoutMs: 300_000,
      intervalMs: 500,
      what: 'STRATUS-BOOT-OK on the console',
    });
    figures.activeToBootOk = Math.round(performance.now() - t);
    expect((await getConsoleOutput(member, id, 5)).split('\n').length).toBeLessThanOrEqual(6);

    for (const [op, status] of [
      ['stop', 'SHUTOFF'],
      ['start', 'ACTIVE'],
      ['reboot_soft', 'ACTIVE'],
    ] as const) {
      t = performance.now();
      await serverPowerAction(member, id, op);
      const s = await until(id, status);
      figures[op] = Math.round(performance.now() - t);
      expect(s.powerState).toBe(status === 'SHUTOFF' ? 4 : 1);
    }

    t = performance.now();
    await deleteServer(member, id);
    await waitFor(async () => (await db.server.findUnique({ where: { id } }))?.deleted, {
      timeoutMs: 120_000,
      what: 'deleted',
    });
    figures.delete = Math.round(performance.now() - t);
    const names = execFileSync('virsh', ['-c', 'qemu:///system', 'list', '--all', '--name'], { encoding: 'utf8' });
    expect(names).not.toContain(id);
    expect(existsSync(driver.instanceDir(id))).toBe(false);
    expect(await hasAllocation(db, id)).toBe(false);
  });
});
