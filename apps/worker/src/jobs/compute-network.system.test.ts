import { execFile, execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AuthContext,
  createFlavor,
  createNetwork,
  createServers,
  createSubnet,
  deleteNetwork,
  deleteServer,
  getConsoleOutput,
  getServer,
  heartbeat,
  type JobDefinition,
  listServerAddresses,
  loadConfig,
  registerTestImage,
  toTask,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest, unique } from '@stratus/core/identity/test-support';
import { startQueueWorker } from '@stratus/db';
import type { Runner } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { ImageCache } from '../drivers/compute/image-cache.ts';
import { LibvirtDriver } from '../drivers/compute/libvirt.ts';
import { LinuxNetworkDriver } from '../drivers/network/linux.ts';
import { computeJobs } from './compute.ts';
import { registerThisHost, startMetadataServer } from './compute/host.ts';
import { type NetworkDeps, networkJobsWith, syncHostSerialized } from './network.ts';

/*
 * Root only. A real guest (the test image, real libvirt) on a tenant network built by
 * the real Linux network driver: the build makes and binds its port and runs the
 * agent pass, the guest gets its Neutron address from the network's dnsmasq and its
 * hostname from the metadata service through the qdhcp namespace's proxy (found by
 * its fixed IP). Everything carries a random marker or the `stratuscmp-` prefix and is
 * removed in afterAll. One guest at a time.
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const PREFIX = 'stratuscmp-';
const isRoot = process.getuid?.() === 0;
const hex = randomBytes(3).toString('hex');
const marker = `cnet${hex}`;
const b = randomInt(100, 200);

function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000, encoding: 'utf8' }, (_err, out) => resolve(out ?? ''));
  });
}

describe.skipIf(!isRoot)('a server on a tenant network (real libvirt and dataplane)', () => {
  let compute: LibvirtDriver;
  let net: NetworkDeps;
  let runner: Runner | undefined;
  let metadata: HttpServer | undefined;
  let member: AuthContext;
  let imageId: string;
  let flavorId: string;
  let networkId: string | undefined;
  let dir = '';

  beforeAll(async () => {
    const out = execFileSync('bash', [join(root, 'images/build-test-image.sh')], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const imagePath = out.trim().split('\n').pop() ?? '';
    expect(existsSync(imagePath)).toBe(true);

    const { url, db } = testDb();
    const { stateDir } = await setupIdentityTest(url);
    const host = loadConfig().host;
    const admin = await adminContext();
    member = (await projectWithMember(admin)).auth.context;
    imageId = (await registerTestImage({ path: imagePath, name: unique('stratus-test') })).id;
    flavorId = (await createFlavor(admin, { name: unique('ci.net'), vcpus: 1, ramMb: 128, diskGb: 1 })).id;

    dir = mkdtempSync(join(tmpdir(), 'stratus-cnet-'));
    const socket = join(dir, 'metadata.sock');
    metadata = await startMetadataServer(socket);
    net = {
      host,
      driver: new LinuxNetworkDriver({ stateDir: join(dir, 'network'), metadataSocket: socket, marker }),
    };
    compute = new LibvirtDriver({ stateDir, namePrefix: PREFIX });
    await heartbeat(
      db,
      { binary: 'stratus-worker', host, roles: ['compute', 'scheduler', 'conductor'] },
      { starting: true },
    );
    await registerThisHost(db, host, compute);
    const jobs: JobDefinition[] = [
      ...computeJobs(() => ({
        db,
        host,
        driver: compute,
        images: new ImageCache({ stateDir }),
        syncNetwork: async () => {
          await syncHostSerialized(net);
        },
      })),
      ...networkJobsWith(() => net),
    ];
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
    for (const d of (await compute?.listDomains().catch(() => [])) ?? []) {
      if (d.domainName.startsWith(PREFIX)) await compute.destroy(d.uuid).catch(() => {});
    }
    await runner?.stop();
    metadata?.close();
    if (networkId) await deleteNetwork(member, networkId).catch((e: unknown) => console.error('delete network', e));
    await net?.driver.cleanup({}).catch((e: unknown) => console.error('cleanup', e));
    if (dir) rmSync(dir, { recursive: true, force: true });
    const left = (await sh('ip', ['-o', 'link', 'show'])).split('\n').filter((l) => l.includes(marker));
    expect(left).toEqual([]);
  });

  it('boots on the network: DHCP gives the Neutron address, metadata the hostname', async () => {
    const { db } = testDb();
    const n = await createNetwork(member, { name: unique('cnet') });
    networkId = n.id;
    await createSubnet(member, { network_id: n.id, cidr: `10.${b}.9.0/24` });

    const t0 = performance.now();
    const { servers } = await createServers(member, {
      name: 'netguest',
      imageRef: imageId,
      flavorRef: flavorId,
      networks: [{ uuid: n.id }],
    });
    const id = servers[0]?.id ?? '';
    await waitFor(
      async () => {
        const s = await getServer(member, id);
        if (s.status === 'ERROR') throw new Error(`server ERROR: ${s.fault?.message} ${s.fault?.details}`);
        return s.status === 'ACTIVE' && s.taskState === null;
      },
      { timeoutMs: 300_000, intervalMs: 250, what: 'ACTIVE' },
    );
    const active = performance.now() - t0;
    const ip = (await listServerAddresses([id]))[id]?.[n.name]?.[0]?.addr ?? '';
    expect(ip).toMatch(new RegExp(`^10\\.${b}\\.9\\.\\d+$`));
    const port = await db.port.findFirstOrThrow({ where: { deviceId: id } });
    expect(port.status).toBe('ACTIVE');

    const log = await waitFor(
      async () => {
        const text = await getConsoleOutput(member, id);
        return text.includes('STRATUS-BOOT-OK') ? text : undefined;
      },
      { timeoutMs: 300_000, intervalMs: 500, what: 'STRATUS-BOOT-OK on the console' },
    );
    const banner = log.split('\n').find((l) => l.includes('Stratus test image')) ?? '';
    console.log(
      `compute+network: ACTIVE in ${active.toFixed(0)} ms, boot ok in ${(performance.now() - t0).toFixed(0)} ms; ${banner.trim()}`,
    );
    expect(banner).toContain(`ip: ${ip}`);
    expect(banner).toContain('hostname: netguest');

    await deleteServer(member, id);
    await waitFor(async () => (await db.server.findUnique({ where: { id } }))?.deleted, {
      timeoutMs: 120_000,
      what: 'deleted',
    });
    expect(await db.port.count({ where: { deviceId: id } })).toBe(0);
  });
});
