/*
 * Object storage, backend level (no Swift API, no auth): the replicated backend with three
 * object servers, each in its own process over its own device folder on the same disk, against
 * a baseline measured in the same run: the same bytes written three times to that disk
 * (temp file, fsync, rename — what each replica does) and read once.
 *
 *   node --import tsx bench/objectstore/backend.ts [--small 2000] [--large 5] [--concurrency 8] [--dir /tmp]
 *
 * Prints a Markdown table (medians of the large runs) for bench/RESULTS.md.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { swiftTimestamp } from '../../packages/core/src/objectstore/hash.ts';
import { startTestObjectCluster } from '../../packages/core/src/objectstore/test-support.ts';

const { values } = parseArgs({
  options: {
    small: { type: 'string', default: '2000' },
    large: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
    dir: { type: 'string', default: process.env.TMPDIR ?? '/tmp' },
  },
});
const SMALL = Number(values.small);
const LARGE = Number(values.large);
const CONC = Number(values.concurrency);
const KIB4 = 4096;
const MIB64 = 64 * 1024 * 1024;

process.env.TMPDIR = values.dir;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** CPU seconds (user + system) used so far by this process and the object servers. */
function cpuSeconds(pids: number[]): number {
  const own = process.cpuUsage();
  let total = (own.user + own.system) / 1e6;
  for (const pid of pids) {
    // /proc/<pid>/stat fields 14 and 15: utime, stime in clock ticks (100/s on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    total += (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return total;
}

async function pool(n: number, conc: number, op: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      for (let i = next++; i < n; i = next++) await op(i);
    }),
  );
  return (performance.now() - t0) / 1000;
}

/** What one replica does with a write: temp file, write, fsync, rename, fsync the folder. */
async function durableWrite(dir: string, name: string, chunks: Iterable<Buffer>): Promise<void> {
  const tmp = join(dir, `.${randomUUID()}`);
  const fh = await open(tmp, 'wx');
  for (const c of chunks) await fh.write(c);
  await fh.sync();
  await fh.close();
  await rename(tmp, join(dir, name));
  const d = await open(dir, 'r');
  await d.sync();
  await d.close();
}

function* pieces(total: number, seed: Buffer): Generator<Buffer> {
  for (let off = 0; off < total; off += seed.length) {
    const b = Buffer.from(seed.subarray(0, Math.min(seed.length, total - off)));
    b.writeUInt32BE((off / seed.length) >>> 0, 0);
    yield b;
  }
}

async function main() {
  const cluster = await startTestObjectCluster({ devices: 3, partPower: 8, processes: true });
  const base = mkdtempSync(join(values.dir, 'stratus-objbench-base-'));
  const baseDirs = ['r1', 'r2', 'r3'].map((r) => join(base, r));
  for (const d of baseDirs) await mkdir(d, { recursive: true });
  const backend = cluster.backend;
  const path = (i: number, kind: string) => ({ account: 'AUTH_bench', container: kind, object: `obj-${i}` });
  const small = randomBytes(KIB4);
  const rows: string[] = [];
  try {
    // ---- 4 KiB, concurrency CONC ----
    await pool(50, CONC, async (i) => {
      await backend.put(path(i, 'warm'), {
        body: Readable.from([small]),
        contentLength: KIB4,
        contentType: 'application/octet-stream',
        userMeta: {},
        sysMeta: {},
        timestamp: swiftTimestamp(),
      });
    });
    const pids = cluster.devices.flatMap((d) => (d.server?.pid ? [d.server.pid] : []));
    let cpu0 = cpuSeconds(pids);
    const putS = await pool(SMALL, CONC, async (i) => {
      await backend.put(path(i, 'small'), {
        body: Readable.from([small]),
        contentLength: KIB4,
        contentType: 'application/octet-stream',
        userMeta: {},
        sysMeta: {},
        timestamp: swiftTimestamp(),
      });
    });
    const putCpu = ((cpuSeconds(pids) - cpu0) / SMALL) * 1000;
    cpu0 = cpuSeconds(pids);
    const getS = await pool(SMALL, CONC, async (i) => {
      const r = await backend.get(path(i, 'small'));
      if (!r) throw new Error('missing');
      let n = 0;
      for await (const c of r.body) n += (c as Buffer).length;
      if (n !== KIB4) throw new Error('short read');
    });
    const getCpu = ((cpuSeconds(pids) - cpu0) / SMALL) * 1000;
    cpu0 = cpuSeconds([]);
    const basePutS = await pool(SMALL, CONC, async (i) => {
      for (const d of baseDirs) await durableWrite(d, `s${i}`, [small]);
    });
    const basePutCpu = ((cpuSeconds([]) - cpu0) / SMALL) * 1000;
    cpu0 = cpuSeconds([]);
    const baseGetS = await pool(SMALL, CONC, async (i) => {
      const b = await readFile(join(baseDirs[i % 3] as string, `s${i}`));
      if (b.length !== KIB4) throw new Error('short read');
    });
    const baseGetCpu = ((cpuSeconds([]) - cpu0) / SMALL) * 1000;
    rows.push(
      `| 4 KiB PUT, concurrency ${CONC} | ${(SMALL / putS).toFixed(0)} ops/s | ${(SMALL / basePutS).toFixed(0)} ops/s | ${(basePutS / putS).toFixed(2)} |`,
    );
    rows.push(
      `| 4 KiB GET, concurrency ${CONC} | ${(SMALL / getS).toFixed(0)} ops/s | ${(SMALL / baseGetS).toFixed(0)} ops/s | ${(baseGetS / getS).toFixed(2)} |`,
    );

    // ---- 64 MiB, one at a time ----
    const seed = randomBytes(1024 * 1024);
    const put64: number[] = [];
    const get64: number[] = [];
    const bput64: number[] = [];
    const bget64: number[] = [];
    for (let i = 0; i < LARGE; i++) {
      let t0 = performance.now();
      await backend.put(path(i, 'large'), {
        body: Readable.from(pieces(MIB64, seed)),
        contentLength: MIB64,
        contentType: 'application/octet-stream',
        userMeta: {},
        sysMeta: {},
        timestamp: swiftTimestamp(),
      });
      put64.push(MIB64 / 1e6 / ((performance.now() - t0) / 1000));
      t0 = performance.now();
      const r = await backend.get(path(i, 'large'));
      let n = 0;
      for await (const c of r?.body ?? Readable.from([])) n += (c as Buffer).length;
      if (n !== MIB64) throw new Error('short read');
      get64.push(MIB64 / 1e6 / ((performance.now() - t0) / 1000));
      t0 = performance.now();
      for (const d of baseDirs) await durableWrite(d, `l${i}`, pieces(MIB64, seed));
      bput64.push(MIB64 / 1e6 / ((performance.now() - t0) / 1000));
      t0 = performance.now();
      const fh = await open(join(baseDirs[i % 3] as string, `l${i}`), 'r');
      let m = 0;
      for await (const c of fh.createReadStream({ highWaterMark: 64 * 1024 })) m += (c as Buffer).length;
      if (m !== MIB64) throw new Error('short read');
      bget64.push(MIB64 / 1e6 / ((performance.now() - t0) / 1000));
      for (const d of baseDirs) await unlink(join(d, `l${i}`));
      await backend.delete(path(i, 'large'), swiftTimestamp());
    }
    rows.push(
      `| 64 MiB PUT (MB/s, median of ${LARGE}) | ${median(put64).toFixed(0)} | ${median(bput64).toFixed(0)} | ${(median(put64) / median(bput64)).toFixed(2)} |`,
    );
    rows.push(
      `| 64 MiB GET (MB/s, median of ${LARGE}) | ${median(get64).toFixed(0)} | ${median(bget64).toFixed(0)} | ${(median(get64) / median(bget64)).toFixed(2)} |`,
    );
    console.log(
      '| what | replicated backend (3 replicas) | baseline (same bytes ×3 to the same disk; read once) | ratio |',
    );
    console.log('|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log(
      `\nCPU per 4 KiB op (proxy + 3 object servers): PUT ${putCpu.toFixed(2)} ms, GET ${getCpu.toFixed(2)} ms; baseline PUT ×3 ${basePutCpu.toFixed(2)} ms, read ${baseGetCpu.toFixed(2)} ms`,
    );
    console.log(
      `runs: 64 MiB PUT ${put64.map((x) => x.toFixed(0)).join(', ')}; GET ${get64.map((x) => x.toFixed(0)).join(', ')}; baseline PUT ${bput64.map((x) => x.toFixed(0)).join(', ')}; GET ${bget64.map((x) => x.toFixed(0)).join(', ')}`,
    );
  } finally {
    await cluster.close();
    rmSync(base, { recursive: true, force: true });
  }
}

await main();
