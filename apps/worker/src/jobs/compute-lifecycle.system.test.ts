import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AuthContext,
  confirmResize,
  createFlavor,
  createServers,
  deleteServer,
  getConsoleOutput,
  getServer,
  hasAllocation,
  heartbeat,
  type JobDefinition,
  loadConfig,
  rebuildServer,
  registerTestImage,
  resizeServer,
  revertResize,
  toTask,
} from '@stratus/core';
import { adminContext, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { startQueueWorker } from '@stratus/db';
import type { Runner } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { ImageCache } from '../drivers/compute/image-cache.ts';
import { LibvirtDriver } from '../drivers/compute/libvirt.ts';
import { computeJobs } from './compute.ts';
import { registerThisHost } from './compute/host.ts';

/*
 * Rebuild and resize with the REAL libvirt driver and the test image (TCG): rebuild
 * boots the new root disk to the banner again; resize → VERIFY_RESIZE with the new
 * vCPUs/RAM in the domain XML and the grown disk; revert restores the old definition and
 * disk; resize again and confirm keeps the new flavor and drops the kept disk; delete
 * leaves no domain, file or allocation (neither the server's nor the migration's).
 * Limits are generous; timings are printed, never asserted.
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const PREFIX = 'stratuslife-';
const figures: Record<string, number> = {};
const GiB = 1024 ** 3;

describe.skipIf(process.getuid?.() !== 0)('rebuild and resize with real libvirt', () => {
  let driver: LibvirtDriver;
  let runner: Runner | undefined;
  let admin: AuthContext;
  let imageId: string;
  let small: string;
  let big: string;
  let host: string;
  let beat: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    const out = execFileSync('bash', [join(root, 'images/build-test-image.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const imagePath = out.trim().split('\n').pop() ?? '';
    expect(existsSync(imagePath)).toBe(true);

    const { url, db } = testDb();
    const { stateDir } = await setupIdentityTest(url);
    host = loadConfig().host;
    admin = await adminContext();
    imageId = (await registerTestImage({ path: imagePath, name: unique('stratus-test') })).id;
    small = (await createFlavor(admin, { name: unique('ci.small'), vcpus: 1, ramMb: 128, diskGb: 1 })).id;
    big = (await createFlavor(admin, { name: unique('ci.big'), vcpus: 2, ramMb: 192, diskGb: 2 })).id;

    driver = new LibvirtDriver({ stateDir, namePrefix: PREFIX });
    await heartbeat(
      db,
      { binary: 'stratus-worker', host, roles: ['compute', 'scheduler', 'conductor'] },
      { starting: true },
    );
    await registerThisHost(db, host, driver);
    // As a worker does: a host whose heartbeat is older than serviceDownSeconds is not
    // schedulable, and a resize is scheduled again (onto this host) minutes after the build.
    beat = setInterval(() => {
      heartbeat(db, { binary: 'stratus-worker', host, roles: ['compute', 'scheduler', 'conductor'] }).catch(() => {});
    }, 5_000);
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
    clearInterval(beat);
    await runner?.stop();
    for (const d of (await driver?.listDomains().catch(() => [])) ?? []) {
      if (d.domainName.startsWith(PREFIX)) await driver.destroy(d.uuid).catch(() => {});
    }
    console.log('rebuild/resize system figures (ms):', JSON.stringify(figures));
  });

  const until = (id: string, status: string, limitMs = 300_000, since = new Date().toISOString()) =>
    waitFor(
      async () => {
        const s = await getServer(admin, id);
        if (s.status === 'ERROR') throw new Error(`server ERROR: ${s.fault?.message} ${s.fault?.details}`);
        if (s.taskState === null && s.status !== status && s.fault && s.fault.created > since)
          throw new Error(`server ${s.status} with a new fault: ${s.fault.message} ${s.fault.details}`);
        return s.status === status && s.taskState === null ? s : undefined;
      },
      { timeoutMs: limitMs, intervalMs: 250, what: `${id} ${status}` },
    );
  const banner = (id: string) =>
    waitFor(async () => (await getConsoleOutput(admin, id)).includes('STRATUS-BOOT-OK'), {
      timeoutMs: 300_000,
      intervalMs: 500,
      what: 'STRATUS-BOOT-OK on the console',
    });
  const domainXml = (id: string) =>
    execFileSync('virsh', ['-c', 'qemu:///system', 'dumpxml', `${PREFIX}${id}`], { encoding: 'utf8' });
  const flavorInXml = (xml: string) => ({
    vcpus: Number(/<vcpu\b[^>]*>(\d+)<\/vcpu>/.exec(xml)?.[1]),
    memoryKiB: Number(/<memory\b[^>]*>(\d+)<\/memory>/.exec(xml)?.[1]),
  });
  const diskSize = (id: string) =>
    (
      JSON.parse(
        execFileSync('qemu-img', ['info', '-U', '--output=json', '-f', 'qcow2', join(driver.instanceDir(id), 'disk')], {
          encoding: 'utf8',
        }),
      ) as { 'virtual-size': number }
    )['virtual-size'];

  it('rebuild reboots to the banner; resize/revert/confirm change the domain and disk; delete leaves nothing', async () => {
    const { db } = testDb();
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

    await deleteServer(admin, id);
    await waitFor(async () => (await db.server.findUnique({ where: { id } }))?.deleted, {
      timeoutMs: 120_000,
      what: 'deleted',
    });
    const names = execFileSync('virsh', ['-c', 'qemu:///system', 'list', '--all', '--name'], { encoding: 'utf8' });
    expect(names).not.toContain(id);
    expect(existsSync(driver.instanceDir(id))).toBe(false);
    expect(await hasAllocation(db, id)).toBe(false);
    const migrations = await db.migration.findMany({ where: { serverId: id } });
    for (const mig of migrations) expect(await hasAllocation(db, mig.id)).toBe(false);
  });
});
