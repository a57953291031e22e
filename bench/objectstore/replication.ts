/*
 * Object storage, replicator: one replication pass over N objects on 3 devices (3 replicas,
 * each device its own object server), without and with the per-partition suffix-hash cache
 * (packages/core/src/objectstore/node/hashes.ts). Two clusters hold the same objects; one
 * runs with the cache off (every pass lists every hash directory, locally and on each peer:
 * the baseline), the other with it on. Runs alternate between the two, and the table gives
 * medians and the ratio to the baseline measured in the same run:
 *   - unchanged: a pass when nothing changed since the last one;
 *   - 1% changed: a pass after N/100 new objects (their suffixes are rehashed).
 *
 *   node --import tsx bench/objectstore/replication.ts [--objects 3000] [--runs 5] [--part-power 8] [--dir /tmp]
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import type { ObjectPath } from '../../packages/core/src/objectstore/backend.ts';
import { swiftTimestamp } from '../../packages/core/src/objectstore/hash.ts';
import { startTestObjectCluster, type TestObjectCluster } from '../../packages/core/src/objectstore/test-support.ts';

const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '3000' },
    runs: { type: 'string', default: '5' },
    'part-power': { type: 'string', default: '8' },
    dir: { type: 'string', default: process.env.TMPDIR ?? '/tmp' },
  },
});
const N = Number(values.objects);
const RUNS = Number(values.runs);
const PART_POWER = Number(values['part-power']);
process.env.TMPDIR = values.dir;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

let seq = 0;
async function fill(c: TestObjectCluster, names: string[]): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < names.length; i = next++) {
        const data = randomBytes(256);
        const p: ObjectPath = { account: 'AUTH_bench', container: 'c', object: names[i] ?? '' };
        await c.backend.put(p, {
          body: Readable.from([data]),
          contentLength: data.length,
          contentType: 'application/octet-stream',
          userMeta: {},
          sysMeta: {},
          timestamp: swiftTimestamp(Date.now() + seq++),
        });
      }
    }),
  );
}

async function pass(c: TestObjectCluster): Promise<{ ms: number; pushed: number; hits: number; full: number }> {
  const t0 = performance.now();
  const s = await c.replicate();
  const ms = performance.now() - t0;
  if (s.failures) throw new Error(`replication failures: ${s.failures}`);
  return { ms, pushed: s.filesPushed, hits: s.hashCacheHits, full: s.partitionsHashed };
}

async function main(): Promise<void> {
  const off = await startTestObjectCluster({ devices: 3, partPower: PART_POWER, hashCacheMaxAgeMs: 0 });
  const on = await startTestObjectCluster({ devices: 3, partPower: PART_POWER });
  try {
    const names = Array.from({ length: N }, (_, i) => `obj-${i}`);
    const t0 = performance.now();
    await fill(off, names);
    await fill(on, names);
    console.error(`filled 2 × ${N} objects in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    // First passes: the "on" cluster builds its caches (the writes left every suffix invalid).
    await pass(off);
    await pass(on);
    const times = { off: [] as number[], on: [] as number[], offChanged: [] as number[], onChanged: [] as number[] };
    let onFull = 0;
    for (let r = 0; r < RUNS; r++) {
      times.off.push((await pass(off)).ms);
      const u = await pass(on);
      times.on.push(u.ms);
      onFull += u.full;
      const fresh = Array.from({ length: Math.max(1, Math.round(N / 100)) }, (_, i) => `new-${r}-${i}`);
      await fill(off, fresh);
      await fill(on, fresh);
      times.offChanged.push((await pass(off)).ms);
      times.onChanged.push((await pass(on)).ms);
    }
    const parts = 2 ** PART_POWER;
    const f = (ms: number) => `${ms.toFixed(0)} ms`;
    console.log(
      `| replication pass, ${N} objects, 3 devices × ${parts} partitions | no cache (baseline) | suffix-hash cache | ratio |`,
    );
    console.log('|---|---|---|---|');
    const mo = median(times.off);
    const mn = median(times.on);
    console.log(`| nothing changed | ${f(mo)} | ${f(mn)} | ${(mo / mn).toFixed(1)}× faster |`);
    const mco = median(times.offChanged);
    const mcn = median(times.onChanged);
    console.log(
      `| after ${Math.max(1, Math.round(N / 100))} new objects (1%) | ${f(mco)} | ${f(mcn)} | ${(mco / mcn).toFixed(1)}× faster |`,
    );
    console.log(
      `\nmedians of ${RUNS} alternating runs; cached passes that listed a partition in full: ${onFull} (expected 0)`,
    );
  } finally {
    await off.close();
    await on.close();
  }
}

await main();
