// Identity benchmark over HTTP against a running Stratus (loopback only, bounded counts).
//   STRATUS_URL=http://127.0.0.1:3000 STRATUS_CREDENTIALS=/var/lib/stratus/credentials.txt [BENCH_PORT=3301] \
//     node --import tsx bench/identity/run.ts [--issue 400] [--validate 20000] [--concurrency 8]
// Measures token issue latency (p50/p95, password auth = one argon2id verification each) at
// concurrency 1 and at --concurrency, each beside its baseline measured in the same run: a
// bare argon2id verification (same parameters as the server's, in this process, at the same
// concurrency). Then token validation throughput (GET /identity/v3/auth/tokens, warm cache).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { verify } from '@node-rs/argon2';
import { hashPassword } from '../../packages/core/src/identity/password.ts';

const url = new URL(process.env.STRATUS_URL ?? 'http://127.0.0.1:3000');
if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error('bench runs against loopback only');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isInteger(v) || v < 1 || v > 200_000) throw new Error(`--${name} must be 1..200000`);
  return v;
};
const ISSUE = arg('issue', 400);
const VALIDATE = arg('validate', 20_000);
const CONC = arg('concurrency', 8);

function adminPassword(): string {
  if (process.env.STRATUS_ADMIN_PASSWORD) return process.env.STRATUS_ADMIN_PASSWORD;
  const file = process.env.STRATUS_CREDENTIALS ?? '/var/lib/stratus/credentials.txt';
  const m = /^admin password: (\S+)$/m.exec(readFileSync(file, 'utf8'));
  if (!m?.[1]) throw new Error(`no admin password in ${file}`);
  return m[1];
}

const agent = new http.Agent({ keepAlive: true, maxSockets: CONC });
function request(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname.replace(/^\[|\]$/g, ''),
        port: Number(process.env.BENCH_PORT || url.port || 80),
        method,
        path,
        agent,
        headers: {
          ...headers,
          ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const authBody = JSON.stringify({
  auth: {
    identity: {
      methods: ['password'],
      password: { user: { name: 'admin', domain: { name: 'Default' }, password: adminPassword() } },
    },
    scope: { project: { name: 'admin', domain: { name: 'Default' } } },
  },
});
async function issue(): Promise<string> {
  const r = await request('POST', '/identity/v3/auth/tokens', {}, authBody);
  if (r.status !== 201) throw new Error(`issue: ${r.status} ${r.body}`);
  return String(r.headers['x-subject-token']);
}

async function pool(n: number, fn: (i: number) => Promise<void>, conc = CONC): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: conc }, async () => {
      while (next < n) await fn(next++);
    }),
  );
  return performance.now() - t0;
}
const pct = (xs: number[], p: number) =>
  xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;

// Baseline: argon2id alone, no server (the library call the server makes, unthrottled).
const stored = await hashPassword('bench-password-baseline');
async function measure(label: string, n: number, conc: number, fn: () => Promise<void>) {
  const lat: number[] = [];
  const ms = await pool(
    n,
    async () => {
      const t = performance.now();
      await fn();
      lat.push(performance.now() - t);
    },
    conc,
  );
  return { label, conc, n, p50: pct(lat, 50), p95: pct(lat, 95), perSec: (n / ms) * 1000 };
}
for (const conc of [...new Set([1, CONC])]) {
  const n = conc === 1 ? Math.max(20, Math.round(ISSUE / 4)) : ISSUE;
  await issue(); // warm
  const tok = await measure('token issue (password, argon2id)', n, conc, async () => void (await issue()));
  const bare = await measure('bare argon2id verify (baseline)', n, conc, async () => {
    if (!(await verify(stored, 'bench-password-baseline'))) throw new Error('baseline verify failed');
  });

  console.log(
    `concurrency ${conc}: token issue p50 ${tok.p50.toFixed(1)} ms, p95 ${tok.p95.toFixed(1)} ms, ${Math.round(tok.perSec)} tokens/s | ` +
      `bare argon2id verify p50 ${bare.p50.toFixed(1)} ms, p95 ${bare.p95.toFixed(1)} ms, ${Math.round(bare.perSec)}/s | ` +
      `ratio issue/verify p50 ${(tok.p50 / bare.p50).toFixed(2)}`,
  );
}

const caller = await issue();
const subject = await issue();
for (const [label, path] of [
  ['validate (GET ?nocatalog)', '/identity/v3/auth/tokens?nocatalog'],
  ['validate (GET, with catalog)', '/identity/v3/auth/tokens'],
] as const) {
  await pool(
    200,
    async () => void (await request('GET', path, { 'x-auth-token': caller, 'x-subject-token': subject })),
  );
  let bad = 0;
  const ms = await pool(VALIDATE, async () => {
    const r = await request('GET', path, { 'x-auth-token': caller, 'x-subject-token': subject });
    if (r.status !== 200) bad++;
  });
  if (bad) throw new Error(`${bad} validations failed`);
  console.log(`${label}: ${VALIDATE} requests, concurrency ${CONC}: ${Math.round((VALIDATE / ms) * 1000)} req/s`);
}
agent.destroy();
