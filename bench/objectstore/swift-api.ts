/*
 * Object storage through the Swift API of a running Stratus (web server → auth → listing in
 * PostgreSQL → replicated backend → 3 object servers of the worker): 4 KiB object PUT and
 * GET ops/s at a given concurrency, and 64 MiB PUT/GET MB/s, beside a baseline measured in the
 * same run on the same disk (the devices' disk): the same bytes written three times (temp file,
 * write, fsync, rename — what each replica does) and read once.
 *
 *   bench/objectstore/swift-api.sh   (gets the token and storage URL with the openstack CLI)
 *   node --import tsx bench/objectstore/swift-api.ts --url <storage url> --token <token> --dir <dir on the devices' disk> [--small 2000] [--large 5] [--concurrency 8]
 *
 * Prints a Markdown table (medians of the large runs) for bench/RESULTS.md.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    token: { type: 'string' },
    dir: { type: 'string', default: '/tmp' },
    small: { type: 'string', default: '2000' },
    large: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '8' },
  },
});
if (!values.url || !values.token) throw new Error('--url and --token are required');
const URL_ = values.url.replace(/\/+$/, '');
const TOKEN = values.token;
const SMALL = Number(values.small);
const LARGE = Number(values.large);
const CONC = Number(values.concurrency);
const KIB4 = 4096;
const MIB64 = 64 * 1024 * 1024;
const agent = new Agent({ keepAlive: true, maxSockets: 64 });

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

function http(
  method: string,
  path: string,
  body?: Buffer,
  chunks?: { chunk: Buffer; count: number },
): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'x-auth-token': TOKEN };
    if (body) headers['content-length'] = String(body.length);
    if (chunks) headers['content-length'] = String(chunks.chunk.length * chunks.count);
    if (method === 'PUT' && !body && !chunks) headers['content-length'] = '0';
    const req = request(`${URL_}${path}`, { method, headers, agent }, (res) => {
      let bytes = 0;
      res.on('data', (d: Buffer) => (bytes += d.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body) req.end(body);
    else if (chunks) {
      let i = 0;
      const pump = () => {
        while (i < chunks.count) {
          i += 1;
          if (!req.write(chunks.chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    } else req.end();
  });
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

async function durableWrite(dir: string, name: string, chunks: Iterable<Buffer>): Promise<void> {
  const tmp = join(dir, `.${randomUUID()}`);
  const fh = await open(tmp, 'wx');
  for (const c of chunks) await fh.write(c);
  await fh.sync();
  await fh.close();
  await rename(tmp, join(dir, name));
}

const expect = (r: { status: number }, want: number, what: string) => {
  if (r.status !== want) throw new Error(`${what}: HTTP ${r.status}`);
};

const container = `bench-${process.pid}-${Date.now().toString(36)}`;
const base = mkdtempSync(join(values.dir, 'bench-swift-api-'));
try {
  expect(await http('PUT', `/${container}`), 201, 'create container');
  const small = randomBytes(KIB4);
  const chunk = randomBytes(1024 * 1024);

  // Baseline: each 4 KiB object written three times durably (three "replicas" on one disk), then read.
  const reps = [0, 1, 2].map((i) => join(base, `r${i}`));
  for (const r of reps) await (await import('node:fs/promises')).mkdir(r, { recursive: true });
  const bPut = await pool(SMALL, CONC, async (i) => {
    await Promise.all(reps.map((r) => durableWrite(r, `o${i}`, [small])));
  });
  const bGet = await pool(SMALL, CONC, async (i) => {
    await readFile(join(reps[i % 3] ?? base, `o${i}`));
  });
  const aPut = await pool(SMALL, CONC, async (i) =>
    expect(await http('PUT', `/${container}/s${i}`, small), 201, 'PUT 4 KiB'),
  );
  const aGet = await pool(SMALL, CONC, async (i) => {
    const r = await http('GET', `/${container}/s${i}`);
    expect(r, 200, 'GET 4 KiB');
    if (r.bytes !== KIB4) throw new Error('short GET');
  });

  const mb = MIB64 / 1e6;
  const rows = { bPut: [] as number[], bGet: [] as number[], aPut: [] as number[], aGet: [] as number[] };
  for (let run = 0; run < LARGE; run++) {
    let t = performance.now();
    await Promise.all(
      reps.map((r) =>
        durableWrite(
          r,
          `big${run}`,
          Array.from({ length: 64 }, () => chunk),
        ),
      ),
    );
    rows.bPut.push(mb / ((performance.now() - t) / 1000));
    t = performance.now();
    await readFile(join(reps[run % 3] ?? base, `big${run}`));
    rows.bGet.push(mb / ((performance.now() - t) / 1000));
    for (const r of reps) await unlink(join(r, `big${run}`));
    t = performance.now();
    expect(await http('PUT', `/${container}/big${run}`, undefined, { chunk, count: 64 }), 201, 'PUT 64 MiB');
    rows.aPut.push(mb / ((performance.now() - t) / 1000));
    t = performance.now();
    const g = await http('GET', `/${container}/big${run}`);
    if (g.bytes !== MIB64) throw new Error('short 64 MiB GET');
    rows.aGet.push(mb / ((performance.now() - t) / 1000));
    expect(await http('DELETE', `/${container}/big${run}`), 204, 'DELETE 64 MiB');
  }

  const f = (x: number) => x.toFixed(0);
  const r2 = (a: number, b: number) => (a / b).toFixed(2);
  const smallPutApi = SMALL / aPut;
  const smallPutBase = SMALL / bPut;
  const smallGetApi = SMALL / aGet;
  const smallGetBase = SMALL / bGet;
  console.log(
    `\nSwift API bench: ${SMALL} × 4 KiB at concurrency ${CONC}, ${LARGE} × 64 MiB (medians), url ${URL_}, baseline dir ${base}\n`,
  );
  console.log('| operation | through the Swift API (3 replicas) | baseline: same bytes ×3 on the same disk | ratio |');
  console.log('|---|---|---|---|');
  console.log(
    `| 4 KiB PUT, concurrency ${CONC} | ${f(smallPutApi)} ops/s | ${f(smallPutBase)} ops/s | ${r2(smallPutApi, smallPutBase)} |`,
  );
  console.log(
    `| 4 KiB GET, concurrency ${CONC} | ${f(smallGetApi)} ops/s | ${f(smallGetBase)} ops/s (read once) | ${r2(smallGetApi, smallGetBase)} |`,
  );
  console.log(
    `| 64 MiB PUT | ${f(median(rows.aPut))} MB/s | ${f(median(rows.bPut))} MB/s | ${r2(median(rows.aPut), median(rows.bPut))} |`,
  );
  console.log(
    `| 64 MiB GET | ${f(median(rows.aGet))} MB/s | ${f(median(rows.bGet))} MB/s (read once) | ${r2(median(rows.aGet), median(rows.bGet))} |`,
  );
} finally {
  // Remove the objects (bulk delete) and the container.
  const names = Array.from({ length: SMALL }, (_, i) => `/${container}/s${i}`);
  for (let i = 0; i < names.length; i += 1000) {
    await new Promise<void>((resolve) => {
      const body = Buffer.from(names.slice(i, i + 1000).join('\n'));
      const req = request(
        `${URL_}?bulk-delete`,
        {
          method: 'POST',
          agent,
          headers: { 'x-auth-token': TOKEN, 'content-type': 'text/plain', 'content-length': String(body.length) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve());
        },
      );
      req.on('error', () => resolve());
      req.end(body);
    });
  }
  await http('DELETE', `/${container}`).catch(() => undefined);
  rmSync(base, { recursive: true, force: true });
  agent.destroy();
}
