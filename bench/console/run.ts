/*
 * Console benchmark, in a real browser (Debian's Chromium through Playwright) against a
 * running stack:
 *   - noVNC: from the click on the instance page's Console tab to the first non-blank
 *     frame noVNC draws (> 100 lit pixels on its canvas), with the steps in between
 *     (console token minted, websocket open, first RFB bytes);
 *   - serial: from the click on the Serial tab to the first byte from the guest's
 *     serial console on the websocket (and to the first text drawn by xterm.js).
 * Baseline in the same run: click on the Overview tab to its content drawn (the page's
 * own rendering cost). Boots a guest (stratus-test image, 128 MiB flavor) if no ACTIVE
 * server named bench-console exists, and deletes what it created.
 *
 *   STRATUS_URL=http://127.0.0.1:3000 STRATUS_STATE_DIR=/var/lib/stratus \
 *     node --import tsx bench/console/run.ts [--runs 7] [--keep]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from '@playwright/test';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, keep: { type: 'boolean', default: false } },
});
const RUNS = Number(values.runs);
const BASE = process.env.STRATUS_URL ?? 'http://127.0.0.1:3000';
const STATE = process.env.STRATUS_STATE_DIR ?? '/var/lib/stratus';
const NAME = 'bench-console';

function adminPassword(): string {
  const m = /^admin password: (\S+)$/m.exec(readFileSync(join(STATE, 'credentials.txt'), 'utf8'));
  if (!m?.[1]) throw new Error(`no admin password in ${STATE}/credentials.txt`);
  return m[1];
}

async function api<T>(
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const res = await fetch(`${BASE}${path}`, {
    method,
    headers: { 'x-auth-token': token, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: (text ? JSON.parse(text) : {}) as T };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, limitMs = 300_000): Promise<T> {
  const end = Date.now() + limitMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function adminToken(): Promise<string> {
  const res = await fetch(`${BASE}/identity/v3/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'admin', domain: { name: 'Default' }, password: adminPassword() } },
        },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    }),
  });
  const t = res.headers.get('x-subject-token');
  if (res.status !== 201 || !t) throw new Error(`token issue failed: ${res.status}`);
  return t;
}

/** An ACTIVE guest that has printed its banner: an existing bench-console server, or a new one. */
async function ensureGuest(token: string): Promise<{ id: string; created: { server?: string; flavor?: string } }> {
  const list = await api<{ servers: Array<{ id: string; status: string }> }>(
    token,
    'GET',
    `/compute/v2.1/servers/detail?name=^${NAME}$`,
  );
  const found = list.json.servers.find((s) => s.status === 'ACTIVE');
  const created: { server?: string; flavor?: string } = {};
  let id = found?.id;
  if (!id) {
    const fl = await api<{ flavor: { id: string } }>(token, 'POST', '/compute/v2.1/flavors', {
      flavor: { name: `${NAME}-${Date.now()}`, ram: 128, vcpus: 1, disk: 1 },
    });
    created.flavor = fl.json.flavor.id;
    const img = await api<{ images: Array<{ id: string }> }>(token, 'GET', '/image/v2/images?name=stratus-test');
    const imageRef = img.json.images[0]?.id;
    if (!imageRef) throw new Error('the seeded stratus-test image is missing');
    const s = await api<{ server: { id: string } }>(token, 'POST', '/compute/v2.1/servers', {
      server: { name: NAME, imageRef, flavorRef: created.flavor },
    });
    if (s.status !== 202) throw new Error(`server create failed: ${s.status} ${JSON.stringify(s.json)}`);
    id = s.json.server.id;
    created.server = id;
    process.stdout.write(`booting guest ${id}…\n`);
  }
  const sid = id;
  await until('ACTIVE', async () => {
    const s = await api<{ server: { status: string } }>(token, 'GET', `/compute/v2.1/servers/${sid}`);
    if (s.json.server.status === 'ERROR') throw new Error('guest went to ERROR');
    return s.json.server.status === 'ACTIVE' ? true : undefined;
  });
  await until('the guest banner', async () => {
    const r = await api<{ output?: string }>(token, 'POST', `/compute/v2.1/servers/${sid}/action`, {
      'os-getConsoleOutput': {},
    });
    return (r.json.output ?? '').includes('STRATUS-BOOT-OK') ? true : undefined;
  });
  return { id: sid, created };
}

async function login(page: Page): Promise<void> {
  await page.goto(`${BASE}/login`);
  await page.getByLabel('User name').fill('admin');
  await page.getByLabel('Password').fill(adminPassword());
  await page.getByLabel('Password').press('Enter');
  await page.waitForURL(/\/project$/);
}

/** Milliseconds since `t0` when `fn` (polled every animation frame in the page) first holds. */
async function frameUntil(page: Page, t0: number, fn: string): Promise<number> {
  await page.waitForFunction(fn, undefined, { polling: 'raf', timeout: 120_000 });
  return Date.now() - t0;
}

const LIT_CANVAS = `(() => {
  const c = document.querySelector('[data-testid="vnc-screen"] canvas');
  if (!(c instanceof HTMLCanvasElement) || c.width === 0) return false;
  const d = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
  if (!d) return false;
  let lit = 0;
  for (let i = 0; i < d.length; i += 16) if (d[i] + d[i + 1] + d[i + 2] > 120 && ++lit > 25) return true;
  return false;
})()`;
const SERIAL_TEXT = `(() => (document.querySelector('[data-testid="serial-terminal"] .xterm-rows')?.textContent ?? '').trim().length > 0)()`;

interface Sample {
  vncToken: number;
  vncOpen: number;
  vncFirstByte: number;
  vncFrame: number;
  serialFirstByte: number;
  serialDrawn: number;
  overview: number;
}

async function once(page: Page, serverId: string): Promise<Sample> {
  await page.goto(`${BASE}/project/instances/${serverId}`);
  await page.getByRole('tab', { name: 'Overview' }).waitFor();
  await page.waitForLoadState('networkidle');
  const marks: Record<string, number> = {};
  const mark = (k: string) => {
    if (marks[k] === undefined) marks[k] = Date.now();
  };
  page.on('response', (r) => {
    if (r.url().includes('compute.console.create')) mark(r.url().includes('serial') ? 'serialToken' : 'token');
  });
  page.on('websocket', (ws) => {
    const kind = ws.url().includes('/console/ws/vnc')
      ? 'vnc'
      : ws.url().includes('/console/ws/serial')
        ? 'serial'
        : null;
    if (!kind) return;
    mark(`${kind}Open`);
    ws.on('framereceived', () => mark(`${kind}Byte`));
  });

  // Baseline: the page's own tab switch (Action log, then back to Overview drawn).
  await page.getByRole('tab', { name: 'Action log' }).click();
  let t0 = Date.now();
  await page.getByRole('tab', { name: 'Overview' }).click();
  const overview = await frameUntil(
    page,
    t0,
    `document.querySelector('[role="tab"][aria-selected="true"]')?.textContent === 'Overview'`,
  );

  t0 = Date.now();
  await page.getByRole('tab', { name: 'Console', exact: true }).click();
  const vncFrame = await frameUntil(page, t0, LIT_CANVAS);
  const vnc = {
    vncToken: (marks.token ?? NaN) - t0,
    vncOpen: (marks.vncOpen ?? NaN) - t0,
    vncFirstByte: (marks.vncByte ?? NaN) - t0,
  };

  t0 = Date.now();
  await page.getByRole('tab', { name: 'Serial' }).click();
  const serialDrawn = await frameUntil(page, t0, SERIAL_TEXT);
  const serialFirstByte = (marks.serialByte ?? NaN) - t0;
  page.removeAllListeners('response');
  page.removeAllListeners('websocket');
  return { ...vnc, vncFrame, serialFirstByte, serialDrawn, overview };
}

const median = (xs: number[]) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
};

const token = await adminToken();
const guest = await ensureGuest(token);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await login(page);
  await once(page, guest.id); // warm-up: compiles the console chunks, fills caches
  const samples: Sample[] = [];
  for (let i = 1; i <= RUNS; i++) {
    const s = await once(page, guest.id);
    samples.push(s);
    process.stdout.write(
      `run ${i}: Console click → token ${s.vncToken} ms, ws open ${s.vncOpen}, first RFB byte ${s.vncFirstByte}, first frame drawn ${s.vncFrame} ms | Serial click → first byte ${s.serialFirstByte} ms, drawn ${s.serialDrawn} ms | baseline Overview tab ${s.overview} ms | load ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}\n`,
    );
  }
  const m = (k: keyof Sample) => median(samples.map((s) => s[k]));
  process.stdout.write(
    `median of ${RUNS}: Console click → first noVNC frame ${m('vncFrame')} ms (token ${m('vncToken')}, ws open ${m('vncOpen')}, first RFB byte ${m('vncFirstByte')}); Serial click → first byte ${m('serialFirstByte')} ms, drawn ${m('serialDrawn')} ms; baseline Overview tab ${m('overview')} ms\n`,
  );
} finally {
  await browser.close();
  if (!values.keep && guest.created.server) {
    const id = guest.created.server;
    await api(token, 'DELETE', `/compute/v2.1/servers/${id}`);
    await until('guest deleted', async () =>
      (await api(token, 'GET', `/compute/v2.1/servers/${id}`)).status === 404 ? true : undefined,
    ).catch(() => {});
  }
  if (!values.keep && guest.created.flavor) await api(token, 'DELETE', `/compute/v2.1/flavors/${guest.created.flavor}`);
}
