import { createHash, randomBytes } from 'node:crypto';
import { readFile, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../../../test/helpers.ts';
import type { ObjectPath } from './backend.ts';
import { swiftTimestamp } from './hash.ts';
import { startTestObjectCluster, type TestObjectCluster } from './test-support.ts';

/*
 * The replicated object store end to end: real object servers (one per device, each a
 * "host" on its own port) over device folders, the proxy backend, replicator and auditor.
 */

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
let seq = 0;
const path = (name = 'obj'): ObjectPath => ({ account: 'AUTH_test', container: 'c1', object: `${name}-${++seq}/x y` });
const ts = () => swiftTimestamp(Date.now() + seq++);

async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function put(
  c: TestObjectCluster,
  p: ObjectPath,
  data: Buffer,
  extra: { etag?: string; chunked?: boolean } = {},
) {
  return c.backend.put(p, {
    body: Readable.from([data.subarray(0, data.length >> 1), data.subarray(data.length >> 1)]),
    ...(extra.chunked ? {} : { contentLength: data.length }),
    ...(extra.etag ? { expectedEtag: extra.etag } : {}),
    contentType: 'application/octet-stream',
    userMeta: { color: 'blue' },
    sysMeta: {},
    timestamp: ts(),
  });
}

const dataFile = async (c: TestObjectCluster, dev: TestObjectCluster['devices'][number], p: ObjectPath) =>
  (await c.objectFiles(dev, p)).find((f) => f.endsWith('.data'));

describe('replicated object store (3 replicas on 4 devices)', () => {
  let c: TestObjectCluster;
  beforeAll(async () => {
    c = await startTestObjectCluster({ devices: 4, partPower: 4 });
  });
  afterAll(async () => {
    await c?.close();
  });

  it('PUT writes three replicas on disk; GET, HEAD, Range, POST and DELETE work', async () => {
    const p = path();
    const data = randomBytes(100_000);
    const md = await put(c, p, data);
    expect(md.etag).toBe(md5(data));
    expect(md.size).toBe(data.length);
    const { primaries, handoffs } = c.locate(p);
    for (const d of primaries) expect(await dataFile(c, d, p)).toMatch(/^\d{10}\.\d{5}\.data$/);
    for (const d of handoffs) expect(await c.objectFiles(d, p)).toEqual([]);

    const got = await c.backend.get(p);
    expect(got?.metadata).toMatchObject({ etag: md5(data), size: data.length, userMeta: { color: 'blue' } });
    expect(md5(await readAll(got?.body ?? Readable.from([])))).toBe(md5(data));

    const part = await c.backend.get(p, { start: 10, end: 19 });
    expect(part?.range).toEqual({ start: 10, end: 19 });
    expect(await readAll(part?.body ?? Readable.from([]))).toEqual(data.subarray(10, 20));
    await expect(c.backend.get(p, { start: data.length + 5, end: data.length + 10 })).rejects.toMatchObject({
      code: 'RangeNotSatisfiable',
    });

    const posted = await c.backend.post(p, {
      userMeta: { color: 'red' },
      sysMeta: { 'content-disposition': 'inline' },
      timestamp: ts(),
    });
    expect(posted?.userMeta).toEqual({ color: 'red' });
    expect((await c.backend.head(p))?.userMeta).toEqual({ color: 'red' });
    expect((await c.backend.head(p))?.sysMeta).toEqual({ 'content-disposition': 'inline' });

    expect(await c.backend.delete(p, ts())).toBe(true);
    expect(await c.backend.get(p)).toBeNull();
    expect(await c.backend.head(p)).toBeNull();
    expect(await c.backend.delete(p, ts())).toBe(false);
    expect(await c.backend.post(p, { userMeta: {}, sysMeta: {}, timestamp: ts() })).toBeNull();
    for (const d of primaries) expect((await c.objectFiles(d, p)).some((f) => f.endsWith('.ts'))).toBe(true);
  });

  it('refuses a body whose md5 differs from the ETag with 422 and stores nothing', async () => {
    const p = path();
    await expect(put(c, p, randomBytes(5000), { etag: 'ffffffffffffffffffffffffffffffff' })).rejects.toMatchObject({
      code: 'UnprocessableEntity',
    });
    expect(await c.backend.head(p)).toBeNull();
    for (const d of c.devices) expect(await c.objectFiles(d, p)).toEqual([]);
  });

  it('takes chunked bodies (no Content-Length) and zero-byte objects', async () => {
    const p = path();
    const data = randomBytes(70_001);
    expect((await put(c, p, data, { chunked: true })).etag).toBe(md5(data));
    expect(md5(await readAll((await c.backend.get(p))?.body ?? Readable.from([])))).toBe(md5(data));
    const e = path();
    expect((await put(c, e, Buffer.alloc(0))).size).toBe(0);
    expect((await readAll((await c.backend.get(e))?.body ?? Readable.from([]))).length).toBe(0);
  });

  it('the newest timestamp wins: an older PUT does not replace a newer one', async () => {
    const p = path();
    const newer = swiftTimestamp(Date.now() + 60_000);
    const older = swiftTimestamp(Date.now());
    await c.backend.put(p, {
      body: Readable.from([Buffer.from('new')]),
      contentLength: 3,
      contentType: 'text/plain',
      userMeta: {},
      sysMeta: {},
      timestamp: newer,
    });
    await c.backend.put(p, {
      body: Readable.from([Buffer.from('old!')]),
      contentLength: 4,
      contentType: 'text/plain',
      userMeta: {},
      sysMeta: {},
      timestamp: older,
    });
    const got = await c.backend.get(p);
    expect((await readAll(got?.body ?? Readable.from([]))).toString()).toBe('new');
  });

  it('a deleted replica file: GET still succeeds and the replicator restores it', async () => {
    const p = path('lost');
    const data = randomBytes(30_000);
    await put(c, p, data);
    const [victim] = c.locate(p).primaries;
    if (!victim) throw new Error('no primary');
    const file = await dataFile(c, victim, p);
    if (!file) throw new Error('no data file');
    await unlink(join(c.objectDir(victim, p), file));
    expect(md5(await readAll((await c.backend.get(p))?.body ?? Readable.from([])))).toBe(md5(data));
    // The victim's suffix-hash cache still lists the file: the read that found it missing
    // asks it to rehash that suffix (in the background; a later read asks again).
    const { partition, hash } = c.locate(p);
    const invalidLog = join(victim.path, 'objects', String(partition), 'hashes.invalid');
    await waitFor(async () => {
      const log = await readFile(invalidLog, 'utf8').catch(() => '');
      if (log.split('\n').includes(hash.slice(-3))) return true;
      await c.backend.head(p);
      return false;
    });
    const stats = await c.replicate();
    expect(stats.filesPushed).toBeGreaterThanOrEqual(1);
    expect(await dataFile(c, victim, p)).toBe(file);
    expect(md5(await readFile(join(c.objectDir(victim, p), file)).then((b) => b.subarray(0, data.length)))).toBe(
      md5(data),
    );
  });

  it('a corrupt replica: the auditor quarantines it and the replicator repairs it', async () => {
    const p = path('rot');
    const data = randomBytes(50_000);
    await put(c, p, data);
    const [, victim] = c.locate(p).primaries;
    if (!victim) throw new Error('no primary');
    const file = await dataFile(c, victim, p);
    if (!file) throw new Error('no data file');
    const full = join(c.objectDir(victim, p), file);
    const bytes = await readFile(full);
    bytes[1234] = (bytes[1234] ?? 0) ^ 0xff; // one flipped byte in the data, metadata intact
    await writeFile(full, bytes);
    const audit = await c.audit();
    expect(audit.quarantined).toHaveLength(1);
    expect(audit.quarantined[0]).toContain(join(victim.path, 'quarantined', 'objects', c.locate(p).hash));
    expect(await c.objectFiles(victim, p)).toEqual([]);
    await c.replicate();
    expect(await dataFile(c, victim, p)).toBe(file);
    expect((await c.audit()).quarantined).toHaveLength(0);
    expect(md5(await readAll((await c.backend.get(p))?.body ?? Readable.from([])))).toBe(md5(data));
  });

  it('a write with one device unmounted goes to a handoff, which moves it home after the device returns', async () => {
    const p = path('handoff');
    const data = randomBytes(20_000);
    const { primaries, handoffs } = c.locate(p);
    const [down] = primaries;
    const [handoff] = handoffs;
    if (!down || !handoff) throw new Error('ring too small');
    c.unmount(down);
    try {
      await put(c, p, data);
      expect(await dataFile(c, handoff, p)).toBeDefined();
      expect(await c.objectFiles(down, p)).toEqual([]);
      expect(md5(await readAll((await c.backend.get(p))?.body ?? Readable.from([])))).toBe(md5(data));
      // While the device is away the handoff keeps its copy.
      await c.replicate();
      expect(await dataFile(c, handoff, p)).toBeDefined();
    } finally {
      c.mount(down);
    }
    const stats = await c.replicate();
    expect(stats.handoffPartitionsRemoved).toBeGreaterThanOrEqual(1);
    expect(await dataFile(c, down, p)).toBeDefined();
    expect(await c.objectFiles(handoff, p)).toEqual([]);
    for (const d of c.locate(p).primaries) expect(await dataFile(c, d, p)).toBeDefined();
  });

  it('a stopped object server: writes go to a handoff and reads come from the others', async () => {
    const p = path('stopped');
    const data = randomBytes(10_000);
    const { primaries, handoffs } = c.locate(p);
    const [, , down] = primaries;
    const [handoff] = handoffs;
    if (!down || !handoff) throw new Error('ring too small');
    await c.stopServer(down);
    try {
      await put(c, p, data);
      expect(await dataFile(c, handoff, p)).toBeDefined();
      expect(md5(await readAll((await c.backend.get(p))?.body ?? Readable.from([])))).toBe(md5(data));
      expect(await c.backend.delete(p, ts())).toBe(true);
      expect(await c.backend.head(p)).toBeNull();
    } finally {
      await c.startServer(down);
    }
    await c.replicate();
    // The tombstone reached the returned device, and the handoff gave its copy up.
    expect((await c.objectFiles(down, p)).some((f) => f.endsWith('.ts'))).toBe(true);
    expect(await c.objectFiles(handoff, p)).toEqual([]);
  });

  it('a primary down for a while: the replicator keeps three copies with a handoff, then gives it back', async () => {
    const p = path('spare');
    const data = randomBytes(8000);
    await put(c, p, data);
    const { primaries, handoffs } = c.locate(p);
    const [down] = primaries;
    const [spare] = handoffs;
    if (!down || !spare) throw new Error('ring too small');
    await c.stopServer(down);
    try {
      const s = await c.replicate();
      expect(s.handoffPushes).toBeGreaterThanOrEqual(1);
      expect(await dataFile(c, spare, p)).toBeDefined();
    } finally {
      await c.startServer(down);
    }
    await c.replicate();
    expect(await dataFile(c, down, p)).toBeDefined();
    expect(await c.objectFiles(spare, p)).toEqual([]);
  });

  it('a replica failing in the middle of a GET: the body carries on from another replica', async () => {
    const p = path('resume');
    const data = randomBytes(24 * 1024 * 1024);
    await put(c, p, data);
    const got = await c.backend.get(p);
    if (!got) throw new Error('missing');
    // The first primary serves (equal timestamps: the first answer wins); cut its file short
    // while it streams.
    const [serving] = c.locate(p).primaries;
    if (!serving) throw new Error('no primary');
    const file = await dataFile(c, serving, p);
    if (!file) throw new Error('no data file');
    await truncate(join(c.objectDir(serving, p), file), 1024 * 1024);
    expect(md5(await readAll(got.body))).toBe(md5(data));
  });

  it('tombstones older than the reclaim age are removed by the replicator', async () => {
    const p = path('reclaim');
    const day = 24 * 3600 * 1000;
    await c.backend.put(p, {
      body: Readable.from([Buffer.from('x')]),
      contentLength: 1,
      contentType: 'text/plain',
      userMeta: {},
      sysMeta: {},
      timestamp: swiftTimestamp(Date.now() - 9 * day),
    });
    expect(await c.backend.delete(p, swiftTimestamp(Date.now() - 8 * day))).toBe(true);
    const { primaries } = c.locate(p);
    for (const d of primaries) expect((await c.objectFiles(d, p)).some((f) => f.endsWith('.ts'))).toBe(true);
    await c.replicate(); // a week by default: 8 days old goes
    for (const d of c.devices) expect(await c.objectFiles(d, p)).toEqual([]);
    expect(await c.backend.head(p)).toBeNull();
  });

  it('answers 503 without a quorum of devices, and stores nothing readable', async () => {
    const p = path('noquorum');
    const down = c.devices.slice(0, 3);
    for (const d of down) c.unmount(d);
    try {
      await expect(put(c, p, randomBytes(1000))).rejects.toMatchObject({ code: 'Unavailable' });
    } finally {
      for (const d of down) c.mount(d);
    }
  });
});

describe('streaming a 100 MiB object', () => {
  let c: TestObjectCluster;
  beforeAll(async () => {
    // Servers in their own processes: this process is the proxy alone.
    c = await startTestObjectCluster({ devices: 3, partPower: 2, processes: true });
  });
  afterAll(async () => {
    await c?.close();
  });

  it('PUT and GET pass through without holding the object in memory', async () => {
    const size = 100 * 1024 * 1024;
    const chunk = 256 * 1024;
    const seed = randomBytes(chunk);
    const expected = createHash('md5');
    function* body() {
      for (let off = 0; off < size; off += chunk) {
        const b = Buffer.from(seed);
        b.writeUInt32BE(off / chunk, 0); // every chunk differs
        expected.update(b);
        yield b;
      }
    }
    // Live memory (after a forced GC) is what buffering would show; RSS also counts garbage
    // not yet collected, so it is logged but not asserted.
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    const collect = () => (typeof gc === 'function' ? gc() : undefined);
    const live = () => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    collect();
    const base = live();
    const baseRss = process.memoryUsage().rss;
    let peak = base;
    let peakRss = baseRss;
    const sampler = setInterval(() => {
      collect();
      peak = Math.max(peak, live());
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }, 50);
    try {
      const p = path('big');
      const md = await c.backend.put(p, {
        body: Readable.from(body()),
        contentLength: size,
        contentType: 'application/octet-stream',
        userMeta: {},
        sysMeta: {},
        timestamp: ts(),
      });
      expect(md.size).toBe(size);
      expect(md.etag).toBe(expected.digest('hex'));
      const got = await c.backend.get(p);
      const h = createHash('md5');
      let n = 0;
      for await (const b of got?.body ?? Readable.from([])) {
        h.update(b as Buffer);
        n += (b as Buffer).length;
      }
      expect(n).toBe(size);
      expect(h.digest('hex')).toBe(md.etag);
    } finally {
      clearInterval(sampler);
    }
    const grewMiB = (peak - base) / 1024 / 1024;
    console.log(
      `100 MiB PUT+GET through 3 replicas: live memory grew ${grewMiB.toFixed(1)} MiB at most (RSS ${((peakRss - baseRss) / 1024 / 1024).toFixed(1)} MiB)`,
    );
    expect(typeof gc).toBe('function');
    // Buffering the body once would hold ≥ 100 MiB live (three replicas: 300).
    expect(grewMiB).toBeLessThan(32);
  });
});
