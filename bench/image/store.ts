/*
 * The image store's write path alone (no HTTP, no database): a file read in 64 KiB
 * chunks (what a socket delivers) → `FilesystemImageStore.put` (copy into batches, md5 +
 * os_hash, write, fsync, rename), side by side with `cp` and `cp` + `sync` of the same
 * file in the same run. Prints MB/s (MiB/s), ratios and this process's CPU seconds per GiB.
 *   node --import tsx bench/image/store.ts [dir=/tmp] [size_mib=1024] [runs=3] [algo=sha512]
 * STORE_MODULE=<path> benchmarks another store implementation (e.g. an older version).
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

const [dirArg = '/tmp', sizeArg = '1024', runsArg = '3', algoArg = 'sha512'] = process.argv.slice(2);
const sizeMib = Number(sizeArg);
const runs = Number(runsArg);
const mod = (await import(
  resolve(process.env.STORE_MODULE ?? new URL('../../packages/core/src/image/store.ts', import.meta.url).pathname)
)) as typeof import('../../packages/core/src/image/store.ts');
const work = mkdtempSync(join(dirArg, 'bench-store-'));
const src = join(work, 'src.raw');
try {
  const mib = randomBytes(1024 * 1024);
  writeFileSync(src, Buffer.alloc(0));
  for (let i = 0; i < sizeMib; i++)
    writeFileSync(
      src,
      mib.map((b) => b ^ i),
      { flag: 'a' },
    );
  execFileSync('sync');
  const store = new mod.FilesystemImageStore(join(work, 'store'));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const cpR: number[] = [];
  const cpsR: number[] = [];
  const putR: number[] = [];
  for (let run = 1; run <= runs; run++) {
    let t = performance.now();
    execFileSync('cp', [src, join(work, 'copy.raw')]);
    const cpMs = performance.now() - t;
    execFileSync('sync');
    const cpsMs = performance.now() - t;
    rmSync(join(work, 'copy.raw'));
    execFileSync('sync');
    const c0 = process.cpuUsage();
    t = performance.now();
    const r = await store.put(`img${run}`, createReadStream(src, { highWaterMark: 64 * 1024 }), {
      sizeHint: sizeMib * 1024 * 1024,
      ...({ hashAlgorithm: algoArg } as object),
    });
    const putMs = performance.now() - t;
    const c = process.cpuUsage(c0);
    await store.delete(`img${run}`);
    execFileSync('sync');
    const rate = (ms: number) => (sizeMib * 1000) / ms;
    cpR.push(rate(cpMs));
    cpsR.push(rate(cpsMs));
    putR.push(rate(putMs));
    const cpuPerGiB = ((c.user + c.system) / 1e6) * (1024 / sizeMib);
    console.log(
      `run ${run}: cp ${rate(cpMs).toFixed(0)} MB/s, cp+sync ${rate(cpsMs).toFixed(0)} | store.put ${rate(putMs).toFixed(0)} MB/s = ${(putMs > 0 ? cpMs / putMs : 0).toFixed(2)}x cp, ${(cpsMs / putMs).toFixed(2)}x cp+sync | CPU-s/GiB ${cpuPerGiB.toFixed(2)} | size ${r.size} | load ${execFileSync('cat', ['/proc/loadavg']).toString().split(' ')[0]}`,
    );
  }
  console.log(
    `median: cp ${median(cpR).toFixed(0)}, cp+sync ${median(cpsR).toFixed(0)}, store.put ${median(putR).toFixed(0)} MB/s (ratio of medians ${(median(putR) / median(cpR)).toFixed(2)}x cp, ${(median(putR) / median(cpsR)).toFixed(2)}x cp+sync)`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}
