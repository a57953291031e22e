import { randomBytes } from 'node:crypto';
import { access, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../../test/helpers.ts';
import type { ObjectPath } from '../backend.ts';
import { suffixOfHash, swiftTimestamp } from '../hash.ts';
import { startTestObjectCluster, type TestDevice, type TestObjectCluster } from '../test-support.ts';
import { cachedPartitionHashes, listPartitions, suffixHashes } from './diskfile.ts';
import { HASHES_FILE, INVALID_FILE, invalidateSuffix } from './hashes.ts';

/*
 * The per-partition suffix-hash cache (hashes.ts) with real object servers and replicator:
 * a pass over unchanged partitions lists nothing, every kind of change invalidates exactly
 * its suffix, and the cached hashes always equal a full listing. No PostgreSQL is used; the
 * file sits in the integration layer for its real sockets and disks.
 */

let seq = 0;
const path = (name: string): ObjectPath => ({ account: 'AUTH_cache', container: 'c', object: `${name}-${++seq}` });
const ts = () => swiftTimestamp(Date.now() + seq++);
const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

describe('suffix-hash cache', () => {
  let c: TestObjectCluster;
  const put = (p: ObjectPath, data = randomBytes(500)) =>
    c.backend.put(p, {
      body: Readable.from([data]),
      contentLength: data.length,
      contentType: 'application/octet-stream',
      userMeta: {},
      sysMeta: {},
      timestamp: ts(),
    });
  /** Every device's cached hashes equal a full listing of its partitions. */
  async function expectCacheTrue(): Promise<void> {
    for (const d of c.devices) {
      for (const part of await listPartitions(d.path)) {
        const cached = await cachedPartitionHashes(d.path, part, { maxAgeMs: 3600_000 });
        expect({ dev: d.ring.device, part, hashes: cached }).toEqual({
          dev: d.ring.device,
          part,
          hashes: await suffixHashes(d.path, part),
        });
      }
    }
  }
  const invalidLog = (d: TestDevice, part: number) =>
    readFile(join(d.path, 'objects', String(part), INVALID_FILE), 'utf8').catch(() => '');

  beforeAll(async () => {
    c = await startTestObjectCluster({ devices: 4, partPower: 3 });
    for (let i = 0; i < 40; i++) await put(path('seed'));
  });
  afterAll(async () => {
    await c?.close();
  });

  it('a pass over unchanged partitions answers from the cache and lists no suffix', async () => {
    await c.replicate(); // builds the caches
    const again = await c.replicate();
    expect(again.partitions).toBeGreaterThan(0);
    expect(again).toMatchObject({ partitionsHashed: 0, suffixesRehashed: 0, filesPushed: 0, failures: 0 });
    expect(again.hashCacheHits).toBe(again.partitions);
    for (const d of c.devices)
      for (const part of await listPartitions(d.path))
        expect(await exists(join(d.path, 'objects', String(part), HASHES_FILE))).toBe(true);
  });

  it('PUT, POST and DELETE invalidate just their suffix, and the next pass rehashes only that', async () => {
    await c.replicate();
    const p = path('change');
    await put(p);
    const { hash, partition, primaries } = c.locate(p);
    for (const d of primaries) expect((await invalidLog(d, partition)).split('\n')).toContain(suffixOfHash(hash));
    const s1 = await c.replicate();
    expect(s1.partitionsHashed).toBe(0);
    // Each primary's invalidation is taken once: by its replicator, or by its server answering a peer.
    expect(s1.suffixesRehashed).toBeLessThanOrEqual(primaries.length);
    await c.backend.post(p, { userMeta: { a: '1' }, sysMeta: {}, timestamp: ts() });
    await c.backend.delete(p, ts());
    await expectCacheTrue();
    const s2 = await c.replicate();
    expect(s2).toMatchObject({ partitionsHashed: 0, filesPushed: 0, failures: 0 });
    await expectCacheTrue();
  });

  it('a replica that missed a write (server down) gets it from the others through the cache', async () => {
    await c.replicate();
    const p = path('missed');
    const { primaries } = c.locate(p);
    const down = primaries[2];
    if (!down) throw new Error('no primary');
    await c.stopServer(down);
    try {
      await put(p);
    } finally {
      await c.startServer(down);
    }
    expect(await c.objectFiles(down, p)).toEqual([]);
    const s = await c.replicate();
    expect(s.filesPushed).toBeGreaterThanOrEqual(1);
    expect((await c.objectFiles(down, p)).some((f) => f.endsWith('.data'))).toBe(true);
    await expectCacheTrue();
  });

  it('a file deleted by hand: hidden from a cached pass until a read notices it or the cache ages out', async () => {
    await c.replicate();
    const p = path('byhand');
    await put(p);
    await c.replicate();
    const { primaries, partition, hash } = c.locate(p);
    const [victim, other] = primaries;
    if (!victim || !other) throw new Error('no primary');
    const file = (await c.objectFiles(victim, p)).find((f) => f.endsWith('.data'));
    if (!file) throw new Error('no data file');
    await unlink(join(c.objectDir(victim, p), file));
    // The cache says the suffix is unchanged: this pass does not see the loss...
    expect((await c.replicate()).filesPushed).toBe(0);
    expect(await c.objectFiles(victim, p)).toEqual([]);
    // ...once the victim's cache is older than its maximum age, it is listed in full.
    const cacheFile = join(victim.path, 'objects', String(partition), HASHES_FILE);
    const cache = await readFile(cacheFile, 'utf8');
    expect(cache).toMatch(/"fullAt":\d+/);
    await writeFile(cacheFile, cache.replace(/"fullAt":\d+/, `"fullAt":${Date.now() - 2 * 3600_000}`));
    expect((await c.replicate()).filesPushed).toBeGreaterThanOrEqual(1);
    expect(await c.objectFiles(victim, p)).toContain(file);

    // Read repair: a GET that finds the victim without the object has it rehash that suffix.
    await unlink(join(c.objectDir(victim, p), file));
    await waitFor(
      async () => {
        await c.backend.head(p);
        return (await invalidLog(victim, partition)).split('\n').includes(suffixOfHash(hash));
      },
      { what: 'the read to invalidate the suffix on the victim' },
    );
    expect((await c.replicate()).filesPushed).toBeGreaterThanOrEqual(1);
    expect(await c.objectFiles(victim, p)).toContain(file);
    await expectCacheTrue();
  });

  it('quarantine invalidates: the auditor then the replicator repair a corrupt replica', async () => {
    await c.replicate();
    const p = path('rot');
    const data = randomBytes(4000);
    await put(p, data);
    await c.replicate();
    const [victim] = c.locate(p).primaries;
    if (!victim) throw new Error('no primary');
    const file = (await c.objectFiles(victim, p)).find((f) => f.endsWith('.data'));
    if (!file) throw new Error('no data file');
    const full = join(c.objectDir(victim, p), file);
    const bytes = await readFile(full);
    bytes[10] = (bytes[10] ?? 0) ^ 0xff;
    await writeFile(full, bytes);
    expect((await c.audit()).quarantined).toHaveLength(1);
    expect((await c.replicate()).filesPushed).toBeGreaterThanOrEqual(1);
    expect(await c.objectFiles(victim, p)).toContain(file);
    expect((await c.audit()).quarantined).toHaveLength(0);
  });

  it('a handoff partition moved home leaves no cache files behind', async () => {
    const p = path('handoff');
    const { primaries, handoffs, partition } = c.locate(p);
    const [down] = primaries;
    const [handoff] = handoffs;
    if (!down || !handoff) throw new Error('ring too small');
    const partDir = join(handoff.path, 'objects', String(partition));
    const hadPartition = await exists(partDir);
    c.unmount(down);
    try {
      await put(p);
      expect((await c.objectFiles(handoff, p)).length).toBe(1);
      await c.replicate(); // the handoff builds its cache while the primary is away
    } finally {
      c.mount(down);
    }
    await c.replicate();
    expect(await c.objectFiles(handoff, p)).toEqual([]);
    if (!hadPartition) expect(await exists(partDir)).toBe(false);
    expect((await c.objectFiles(down, p)).length).toBe(1);
  });

  it('a long invalidation log is rotated, and the hashes stay right', async () => {
    const p = path('rotate');
    await put(p);
    const { partition, primaries } = c.locate(p);
    const [d] = primaries;
    if (!d) throw new Error('no primary');
    await cachedPartitionHashes(d.path, partition, { maxAgeMs: 3600_000 });
    for (let i = 0; i < 17_000; i++) await invalidateSuffix(d.path, partition, 'fff');
    const logFile = join(d.path, 'objects', String(partition), INVALID_FILE);
    expect((await stat(logFile)).size).toBeGreaterThan(64 * 1024);
    await expectCacheTrue();
    expect(await exists(logFile)).toBe(false);
    await put(path('after-rotate'));
    await expectCacheTrue();
  });
});
