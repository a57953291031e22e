import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { readdir } from 'node:fs/promises';
import {
  createObjectBackend,
  ensureRing,
  registerRingDevices,
  loadRing,
  openObjectBackend,
  parseConfig,
  setRingDeviceWeight,
  swiftTimestamp,
  watchRing,
} from '@stratus/core';
import { hashDir } from '@stratus/core/objectstore/node/diskfile';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDb, waitFor } from '../../../../test/helpers.ts';
import { type ObjectStorage, startObjectStorage } from './index.ts';

/*
 * The object role of two worker "hosts" against the real PostgreSQL: devices registered in
 * the ring at start, the ring reloaded everywhere when it changes, objects written through the
 * proxy backend land on both hosts, and the replicator moves data when a device is drained.
 */

const log = { info: () => {}, warn: () => {}, error: () => {} };
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('object role (ring in PostgreSQL, two hosts)', () => {
  const { db, url } = testDb();
  const ringName = `test-${randomUUID().slice(0, 8)}`;
  const dirs: string[] = [];
  const hosts: ObjectStorage[] = [];
  let objects: Awaited<ReturnType<typeof openObjectBackend>> | undefined;

  const start = async (name: string, devices: string) => {
    const stateDir = mkdtempSync(join(tmpdir(), 'stratus-objrole-'));
    dirs.push(stateDir);
    const config = parseConfig({
      STRATUS_STATE_DIR: stateDir,
      STRATUS_HOST: name,
      STRATUS_OBJECT_DEVICES: devices,
      STRATUS_OBJECT_PART_POWER: '6',
      STRATUS_OBJECT_MIN_PART_HOURS: '0',
    });
    const h = await startObjectStorage({
      config: { ...config, objectServerPort: 0 },
      db,
      databaseUrl: url,
      log,
      ringName,
    });
    hosts.push(h);
    return h;
  };

  beforeAll(async () => {
    await start('objhost-a', 'd1,d2,d3');
  });
  afterAll(async () => {
    await objects?.close();
    for (const h of hosts) await h.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
    await db.objectRingDevice.deleteMany({ where: { ringName } });
    await db.objectRing.deleteMany({ where: { name: ringName } });
  });

  it('registers the host devices at start (folders with their mount marker) and builds the ring', async () => {
    const [a] = hosts;
    if (!a) throw new Error('no host');
    for (const d of ['d1', 'd2', 'd3']) expect(existsSync(join(a.devicesRoot, d, '.stratus-device'))).toBe(true);
    const ring = await loadRing(db, ringName);
    expect(ring?.devices.map((d) => `${d.host}:${d.port}/${d.device}`).sort()).toEqual(
      ['d1', 'd2', 'd3'].map((d) => `127.0.0.1:${a.port}/${d}`),
    );
    expect(ring?.primaries(0)).toHaveLength(3);
  });

  it('a second host joins: every watcher reloads the new version; data written before is moved by the replicator', async () => {
    const a = hosts[0];
    if (!a) throw new Error('no host');
    const proxyRing = await watchRing(db, url, { name: ringName });
    const backend = createObjectBackend({ ring: proxyRing });
    try {
      const items = Array.from({ length: 40 }, (_, i) => ({
        path: { account: 'AUTH_p', container: 'c', object: `o${i}` },
        data: randomBytes(2000 + i),
      }));
      for (const it of items) {
        await backend.put(it.path, {
          body: Readable.from([it.data]),
          contentLength: it.data.length,
          contentType: 'application/octet-stream',
          userMeta: {},
          sysMeta: {},
          timestamp: swiftTimestamp(),
        });
      }
      const v1 = proxyRing.version;
      const b = await start('objhost-b', 'd1,d2,d3');
      // The NOTIFY reaches the other watchers (no reload called by hand).
      await waitFor(() => proxyRing.version > v1 && a.ring.version === proxyRing.version, { what: 'ring reload' });
      const ring = proxyRing.current();
      expect(ring.devices).toHaveLength(6);
      expect(ring.devices.filter((d) => d.port === b.port && d.weight > 0)).toHaveLength(3);
      // Moved partitions: reads still work at once (two replicas stay put), and after both
      // hosts' replicators ran, every object is on all three of its new primaries.
      for (const it of items)
        expect(md5(await readAll((await backend.get(it.path))?.body ?? Readable.from([])))).toBe(md5(it.data));
      // Replicator passes until the ring stops changing: a pass first finishes a rebalance the
      // one-replica-per-partition rule held back (minPartHours is 0 here), then moves data.
      let final = ring;
      for (let round = 0; round < 6; round++) {
        const v = a.ring.version;
        await a.replicateNow();
        await b.replicateNow();
        await waitFor(() => b.ring.version === a.ring.version && proxyRing.version === a.ring.version, {
          what: 'ring agreement',
        });
        final = a.ring.current();
        if (final.version === v) break;
      }
      expect(final.version).toBeGreaterThanOrEqual(ring.version);
      for (const it of items)
        expect(md5(await readAll((await backend.get(it.path))?.body ?? Readable.from([])))).toBe(md5(it.data));
      for (const it of items) {
        const { hash, partition } = final.locate(it.path);
        for (const d of final.primaries(partition)) {
          const host = d.port === a.port ? a : b;
          const files = await readdir(hashDir(join(host.devicesRoot, d.device), partition, hash)).catch(() => []);
          expect(files.some((f) => f.endsWith('.data'))).toBe(true);
        }
      }
      // Nothing is left on devices that are no longer primaries.
      let strays = 0;
      for (const it of items) {
        const { hash, partition } = final.locate(it.path);
        for (const d of final.devices.filter((x) => !final.isPrimary(partition, x.id))) {
          const host = d.port === a.port ? a : b;
          if (existsSync(hashDir(join(host.devicesRoot, d.device), partition, hash))) strays++;
        }
      }
      expect(strays).toBe(0);
    } finally {
      backend.close();
      await proxyRing.close();
    }
  });

  it('openObjectBackend answers 503 until a ring exists, then serves', async () => {
    objects = await openObjectBackend({ db, databaseUrl: url });
    // The default ring of this test database may not exist: then the backend says so.
    const ring = await loadRing(db);
    if (!ring)
      await expect(objects.backend.head({ account: 'AUTH_x', container: 'c', object: 'o' })).rejects.toMatchObject({
        code: 'Unavailable',
      });
    else expect(objects.ring.version).toBe(ring.version);
  });

  it('two hosts registering at the same moment: both device sets land, one version each', async () => {
    const name = `race-${randomUUID().slice(0, 8)}`;
    try {
      await ensureRing(db, { partPower: 6, replicas: 3, minPartHours: 0 }, name);
      const regs = (host: string, port: number) =>
        ['d1', 'd2'].map((device) => ({ host, port, device, zone: 1, weight: 100, server: host }));
      const before = (await loadRing(db, name))?.version ?? 0;
      await Promise.all([
        registerRingDevices(db, regs('10.9.0.1', 6300), name),
        registerRingDevices(db, regs('10.9.0.2', 6300), name),
      ]);
      const ring = await loadRing(db, name);
      expect(ring?.devices).toHaveLength(4);
      expect(new Set(ring?.devices.map((d) => d.id)).size).toBe(4);
      expect(ring?.version).toBe(before + 2);
      for (let p = 0; p < (ring?.parts ?? 0); p++) expect(new Set(ring?.primaries(p).map((d) => d.id)).size).toBe(3);
    } finally {
      await db.objectRingDevice.deleteMany({ where: { ringName: name } });
      await db.objectRing.deleteMany({ where: { name } });
    }
  });

  it('draining a device by weight 0 moves its partitions to the others', async () => {
    const ring = await loadRing(db, ringName);
    const victim = ring?.devices[0];
    if (!ring || !victim) throw new Error('no ring');
    const res = await setRingDeviceWeight(db, victim.id, 0, ringName);
    expect(res.moved).toBeGreaterThan(0);
    const after = await loadRing(db, ringName);
    for (let p = 0; p < (after?.parts ?? 0); p++) expect(after?.isPrimary(p, victim.id)).toBe(false);
  });
});
