import { spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AuthContext,
  createConsole,
  createNetwork,
  createPort,
  createSubnet,
  deleteNetwork,
  getPort,
  listServerAddresses,
  createKeyPair,
  createServers,
  metadataFor,
  metadataPath,
  deleteServer,
  getConsumerAllocations,
  getInstanceAction,
  hasAllocation,
  getServer,
  listInstanceActions,
  serverPowerAction,
  syncPowerStates,
  updateQuotas,
} from '@stratus/core';
import { adminContext, projectWithMember, setupIdentityTest } from '@stratus/core/identity/test-support';
import { releaseHostLocks } from '@stratus/db';
import type { Runner } from 'graphile-worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { PowerState } from '../drivers/compute/types.ts';
import { FakeComputeDriver } from './compute/fake-driver.ts';
import { startMetadataServer } from './compute/host.ts';
import {
  FAKE_IMAGE_ID,
  fakeHost as registerFakeHost,
  keepAlive,
  startComputeWorker,
  testFlavor,
  useFakeImage,
} from './compute/test-support.ts';

/*
 * The compute jobs through the real queue and database, with an in-memory driver:
 * schedule → build → ACTIVE, power actions, power sync, delete, rescheduling after a
 * failed build, and recovery of a build whose worker was killed.
 */
const fixture = fileURLToPath(new URL('../../test/fixtures/hang-build-worker.ts', import.meta.url));
const tag = randomUUID().slice(0, 8);
const runners: Runner[] = [];
let admin: AuthContext;
let member: AuthContext;
let flavorId: string;
// Every fake host this file registers keeps heartbeating, as its worker would: a slow
// test must not let an earlier host go down (and out of scheduling) under a later one.
const hosts: string[] = [];
let beat: NodeJS.Timeout | undefined;
const fakeHost: typeof registerFakeHost = async (url, host, driver) => {
  hosts.push(host);
  return registerFakeHost(url, host, driver);
};

async function until(ctx: AuthContext, id: string, status: string, timeoutMs = 60_000) {
  return waitFor(
    async () => {
      const s = await getServer(ctx, id);
      if (s.status === 'ERROR' && status !== 'ERROR') throw new Error(`server went to ERROR: ${s.fault?.message}`);
      return s.status === status && s.taskState === null ? s : undefined;
    },
    { timeoutMs, intervalMs: 50, what: `server ${id} ${status}` },
  );
}

beforeAll(async () => {
  const { url } = testDb();
  await setupIdentityTest(url, {
    STRATUS_QUOTA_INSTANCES: '100',
    STRATUS_QUOTA_CORES: '200',
    STRATUS_QUOTA_RAM_MB: '1000000',
  });
  useFakeImage();
  admin = await adminContext();
  member = (await projectWithMember(admin)).auth.context;
  flavorId = (await testFlavor(admin)).id;
  beat = keepAlive(testDb().url, hosts);
});

afterAll(async () => {
  clearInterval(beat);
  await Promise.all(runners.map((r) => r.stop()));
});

describe('compute jobs with a fake driver', () => {
  it('schedules, builds to ACTIVE, runs power actions, syncs power state and deletes', async () => {
    const { url, db } = testDb();
    const host = `fake-a-${tag}`;
    const driver = await fakeHost(url, host);
    runners.push(await startComputeWorker(url, host, driver));

    const { servers } = await createServers(member, { name: 'vm1', imageRef: FAKE_IMAGE_ID, flavorRef: flavorId });
    const id = servers[0]?.id ?? '';
    expect(servers[0]?.status).toBe('BUILD');
    const s = await until(member, id, 'ACTIVE');
    expect(s.powerState).toBe(PowerState.RUNNING);
    expect(s.launchedAt).not.toBeNull();
    expect(driver.domains.has(id)).toBe(true);
    const alloc = await getConsumerAllocations('service', id);
    expect(alloc.allocations[0]?.resources).toMatchObject({ VCPU: 1, MEMORY_MB: 128, DISK_GB: 1 });

    const [create] = await listInstanceActions(member, id);
    const detail = await getInstanceAction(member, id, create?.requestId ?? '');
    expect(detail.events?.map((e) => [e.event, e.result])).toEqual([
      ['compute_schedule', 'Success'],
      ['compute_block_device_mapping', 'Success'],
      ['compute_spawn', 'Success'],
    ]);
    expect(detail.finishTime).not.toBeNull();

    const con = await createConsole(member, { serverId: id, protocol: 'vnc', type: 'novnc' });
    expect(con.url).toMatch(/^http/);

    await serverPowerAction(member, id, 'stop');
    expect((await getServer(member, id)).taskState).not.toBeUndefined();
    await until(member, id, 'SHUTOFF');
    await serverPowerAction(member, id, 'start');
    await until(member, id, 'ACTIVE');
    await serverPowerAction(member, id, 'reboot_hard');
    await until(member, id, 'ACTIVE');
    await serverPowerAction(member, id, 'pause');
    await until(member, id, 'PAUSED');
    await serverPowerAction(member, id, 'unpause');
    await until(member, id, 'ACTIVE');
    await serverPowerAction(member, id, 'suspend');
    await until(member, id, 'SUSPENDED');
    await serverPowerAction(member, id, 'resume');
    await until(member, id, 'ACTIVE');
    await expect(serverPowerAction(member, id, 'start')).rejects.toMatchObject({ code: 'Conflict' });

    // The guest powers itself off: the sync marks it SHUTOFF.
    const dom = driver.domains.get(id);
    if (dom) dom.state = PowerState.SHUTDOWN;
    expect(await syncPowerStates(host, await driver.listDomains(), db)).toBe(1);
    expect((await getServer(member, id)).status).toBe('SHUTOFF');

    await deleteServer(member, id);
    await waitFor(async () => (await db.server.findUnique({ where: { id } }))?.deleted, { what: 'deleted' });
    expect(driver.domains.has(id)).toBe(false);
    expect(await hasAllocation(db, id)).toBe(false);
    await expect(getServer(member, id)).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('serves metadata for a server: OpenStack and EC2 layouts, over the unix socket', async () => {
    const kp = await createKeyPair(member, { name: `meta-${tag}` });
    const { servers } = await createServers(member, {
      name: 'Meta VM',
      imageRef: FAKE_IMAGE_ID,
      flavorRef: flavorId,
      keyName: kp.name,
      metadata: { role: 'web' },
      userData: Buffer.from('#!/bin/sh\necho hi\n').toString('base64'),
    });
    const id = servers[0]?.id ?? '';
    const docs = await metadataFor({ serverId: id });
    const meta = JSON.parse(metadataPath(docs, 'openstack/latest/meta_data.json') ?? '{}');
    expect(meta).toMatchObject({
      uuid: id,
      name: 'Meta VM',
      hostname: 'meta-vm',
      launch_index: 0,
      meta: { role: 'web' },
      public_keys: { [kp.name]: kp.publicKey },
    });
    expect(metadataPath(docs, 'openstack/latest/user_data')).toBe('#!/bin/sh\necho hi\n');
    expect(metadataPath(docs, 'latest/meta-data/public-keys/0/openssh-key')).toBe(kp.publicKey);
    expect(metadataPath(docs, 'latest/meta-data/')).toContain('instance-id');

    const sock = join(mkdtempSync(join(tmpdir(), 'md-')), 'metadata.sock');
    const srv = await startMetadataServer(sock);
    try {
      const body = await new Promise<string>((resolve, reject) => {
        const req = httpRequest(
          { socketPath: sock, path: '/latest/meta-data/hostname', headers: { 'x-stratus-server-id': id } },
          (res) => {
            let b = '';
            res.on('data', (d: Buffer) => (b += d.toString()));
            res.on('end', () => resolve(b));
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(body).toBe('meta-vm');
    } finally {
      srv.close();
    }
    await deleteServer(member, id);
  });

  it('boots a server on a tenant network: port with a fixed IP, nic, addresses, metadata by IP, delete', async () => {
    const { url, db } = testDb();
    const host = `fake-net-${tag}`;
    // The most free RAM of all test hosts so far: the builds land here.
    const driver = await fakeHost(
      url,
      host,
      new FakeComputeDriver({ vcpus: 256, memoryMb: 64 * 1024 * 1024, diskGbTotal: 100_000 }),
    );
    let syncs = 0;
    runners.push(
      await startComputeWorker(url, host, driver, 4, {
        syncNetwork: async () => {
          syncs++;
        },
      }),
    );
    const project = await projectWithMember(admin);
    const ctx = project.auth.context;
    try {
      await expect(
        createServers(ctx, {
          name: 'nonet',
          imageRef: FAKE_IMAGE_ID,
          flavorRef: flavorId,
          networks: [{ uuid: randomUUID() }],
        }),
      ).rejects.toMatchObject({
        code: 'BadRequest',
        message: expect.stringMatching(/^Network .* could not be found\.$/),
      });

      const net = await createNetwork(ctx, { name: `net-${tag}` });
      const x = Math.floor(Math.random() * 200) + 20;
      await createSubnet(ctx, { network_id: net.id, cidr: `10.${x}.7.0/24`, ip_version: 4 });

      const { servers } = await createServers(ctx, {
        name: 'netvm',
        imageRef: FAKE_IMAGE_ID,
        flavorRef: flavorId,
        networks: [{ uuid: net.id }],
      });
      const id = servers[0]?.id ?? '';
      const s = await until(ctx, id, 'ACTIVE');
      expect(s.host).toBe(host);
      const ports = await db.port.findMany({ where: { deviceId: id }, include: { fixedIps: true } });
      expect(ports).toHaveLength(1);
      const port = ports[0];
      const ip = port?.fixedIps[0]?.ip ?? '';
      expect(ip).toMatch(new RegExp(`^10\\.${x}\\.7\\.\\d+$`));
      expect(port?.bindingHost).toBe(host);
      expect(driver.domains.get(id)?.spec.nics).toEqual([
        {
          mac: port?.macAddress,
          bridge: `brq${net.id.slice(0, 11)}`,
          tapName: `tap${port?.id.slice(0, 11)}`,
          mtu: net.mtu,
        },
      ]);
      expect(syncs).toBeGreaterThan(0);
      const addrs = (await listServerAddresses([id]))[id] ?? {};
      expect(addrs[net.name]).toEqual([
        { addr: ip, version: 4, 'OS-EXT-IPS:type': 'fixed', 'OS-EXT-IPS-MAC:mac_addr': port?.macAddress },
      ]);

      // The metadata service finds the guest by its address on the network.
      const sock = join(mkdtempSync(join(tmpdir(), 'md-')), 'metadata.sock');
      const srv = await startMetadataServer(sock);
      try {
        const docs = await metadataFor({ fixedIp: ip, networkId: net.id });
        expect(metadataPath(docs, 'latest/meta-data/hostname')).toBe('netvm');
        expect(metadataPath(docs, 'latest/meta-data/local-ipv4')).toBe(ip);
      } finally {
        srv.close();
      }

      // 'auto' (and no networks at all): the project's only network. A user's port is kept on delete.
      const own = await createPort(ctx, { network_id: net.id });
      const { servers: more } = await createServers(ctx, {
        name: 'portvm',
        imageRef: FAKE_IMAGE_ID,
        flavorRef: flavorId,
        networks: [{ port: own.id }],
      });
      const { servers: auto } = await createServers(ctx, {
        name: 'autovm',
        imageRef: FAKE_IMAGE_ID,
        flavorRef: flavorId,
      });
      const portVm = more[0]?.id ?? '';
      const autoVm = auto[0]?.id ?? '';
      await until(ctx, portVm, 'ACTIVE');
      await until(ctx, autoVm, 'ACTIVE');
      expect((await getPort(ctx, own.id)).deviceId).toBe(portVm);
      expect(await db.port.count({ where: { deviceId: autoVm, networkId: net.id } })).toBe(1);
      await expect(
        createServers(ctx, {
          name: 'taken',
          imageRef: FAKE_IMAGE_ID,
          flavorRef: flavorId,
          networks: [{ port: own.id }],
        }),
      ).rejects.toMatchObject({ code: 'Conflict' });

      for (const vm of [id, portVm, autoVm]) await deleteServer(ctx, vm);
      for (const vm of [id, portVm, autoVm])
        await waitFor(async () => (await db.server.findUnique({ where: { id: vm } }))?.deleted, { what: 'deleted' });
      expect(await db.port.count({ where: { id: port?.id ?? '' } })).toBe(0);
      expect(await db.port.count({ where: { deviceId: autoVm } })).toBe(0);
      const kept = await getPort(ctx, own.id);
      expect(kept.deviceId).toBe('');
      expect(kept.fixedIps).toHaveLength(1);
    } finally {
      await db.service.updateMany({ where: { host }, data: { disabled: true } });
    }
  });

  it('faults the build at once (no reschedule) when its network vanished', async () => {
    const { url, db } = testDb();
    const host = `fake-gone-${tag}`;
    // The most free RAM so far; its worker starts only after the network is gone.
    const driver = await fakeHost(
      url,
      host,
      new FakeComputeDriver({ vcpus: 256, memoryMb: 128 * 1024 * 1024, diskGbTotal: 100_000 }),
    );
    const project = await projectWithMember(admin);
    const ctx = project.auth.context;
    try {
      const net = await createNetwork(ctx, { name: `gone-${tag}` });
      const { servers } = await createServers(ctx, {
        name: 'orphan',
        imageRef: FAKE_IMAGE_ID,
        flavorRef: flavorId,
        networks: [{ uuid: net.id }],
      });
      const id = servers[0]?.id ?? '';
      await waitFor(async () => (await db.server.findUnique({ where: { id } }))?.host === host, {
        what: 'scheduled to the stopped host',
      });
      await deleteNetwork(ctx, net.id);
      runners.push(await startComputeWorker(url, host, driver));
      const s = await until(ctx, id, 'ERROR');
      expect(s.fault?.message).toMatch(new RegExp(`Network ${net.id} could not be found`));
      const row = await db.server.findUniqueOrThrow({ where: { id } });
      expect(row.triedHosts).toEqual([host]);
      expect(driver.domains.has(id)).toBe(false);
      await deleteServer(ctx, id);
    } finally {
      await db.service.updateMany({ where: { host }, data: { disabled: true } });
    }
  });

  it('reschedules a failed build to another host and records the failure', async () => {
    const { url, db } = testDb();
    const bad = `fake-bad-${tag}`;
    // The failing host has the most free RAM, so it is tried first.
    const badDriver = await fakeHost(
      url,
      bad,
      new FakeComputeDriver({ vcpus: 256, memoryMb: 4 * 1024 * 1024, diskGbTotal: 100_000 }),
    );
    badDriver.failSpawn = true;
    runners.push(await startComputeWorker(url, bad, badDriver));
    try {
      const { servers } = await createServers(member, {
        name: 'vm-resched',
        imageRef: FAKE_IMAGE_ID,
        flavorRef: flavorId,
      });
      const id = servers[0]?.id ?? '';
      const s = await until(member, id, 'ACTIVE');
      expect(s.host).not.toBe(bad);
      const row = await db.server.findUniqueOrThrow({ where: { id } });
      expect(row.triedHosts).toContain(bad);
      expect(badDriver.destroyCalls).toBeGreaterThan(0);
      await deleteServer(member, id);
    } finally {
      // Take the failing host out of scheduling for the rest of the run.
      await db.service.updateMany({ where: { host: bad }, data: { disabled: true } });
    }
  });

  it('goes to ERROR with "No valid host was found" when nothing fits', async () => {
    const huge = await testFlavor(admin, { vcpus: 100_000 });
    const project = await projectWithMember(admin);
    await updateQuotas(admin, project.project.id, { cores: -1 });
    const { servers } = await createServers(project.auth.context, {
      name: 'too-big',
      imageRef: FAKE_IMAGE_ID,
      flavorRef: huge.id,
    });
    const id = servers[0]?.id ?? '';
    const s = await until(project.auth.context, id, 'ERROR');
    expect(s.fault?.message).toMatch(/No valid host was found/);
    await deleteServer(project.auth.context, id);
  });

  it('finishes a build whose worker was killed mid-spawn, after the host restarts', async () => {
    const { url, db } = testDb();
    const host = `fake-crash-${tag}`;
    // Most free RAM of all test hosts: the build lands here.
    await fakeHost(url, host, new FakeComputeDriver({ vcpus: 256, memoryMb: 16 * 1024 * 1024, diskGbTotal: 100_000 }));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fixture, url, host, mkdtempSync(join(tmpdir(), 'crash-'))],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    try {
      const { servers } = await createServers(member, {
        name: 'vm-crash',
        imageRef: FAKE_IMAGE_ID,
        flavorRef: flavorId,
      });
      const id = servers[0]?.id ?? '';
      await waitFor(() => out.includes('spawning'), { timeoutMs: 60_000, what: 'spawn in the child' });
      expect((await db.server.findUniqueOrThrow({ where: { id } })).host).toBe(host);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      expect((await getServer(member, id)).taskState).toBe('spawning');

      // The host's worker comes back: it releases its dead predecessor's locks and re-runs the build.
      expect(await releaseHostLocks(db, host)).toBeGreaterThan(0);
      const driver = new FakeComputeDriver();
      runners.push(await startComputeWorker(url, host, driver));
      await until(member, id, 'ACTIVE');
      expect(driver.domains.has(id)).toBe(true);
      await deleteServer(member, id);
      await waitFor(async () => (await db.server.findUnique({ where: { id } }))?.deleted, { what: 'deleted' });
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await db.service.updateMany({ where: { host }, data: { disabled: true } });
    }
  });
});
