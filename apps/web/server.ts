import { createServer } from 'node:http';
import {
  currentRequestId,
  initLogger,
  newRequestId,
  readiness,
  startRuntime,
  socketScopeForToken,
  withRequestContext,
} from '@stratus/core';
import next from 'next';
import { fileURLToPath } from 'node:url';
import { attachLiveEvents } from './src/server/live.ts';
import { handleConsoleUpgrade } from './src/server/console-upgrade.ts';
import { sendJson } from './src/server/http.ts';
import { restMounts } from './src/server/rest.ts';

const rt = await startRuntime('stratus-web');
const { config, db } = rt;
const log = initLogger({ name: 'stratus-web', level: config.logLevel });

const dev = process.argv.includes('--dev');
const app = next({ dev, dir: fileURLToPath(new URL('.', import.meta.url)), hostname: config.webListen, port: config.webPort });
const handleNext = app.getRequestHandler();
await app.prepare();

const server = createServer((req, res) => {
  const requestId = newRequestId();
  res.setHeader('x-openstack-request-id', requestId);
  withRequestContext({ requestId }, () => {
    const started = Date.now();
    res.on('finish', () => {
      if (!req.url?.startsWith('/_next/')) {
        log.info({ method: req.method, url: req.url, status: res.statusCode, ms: Date.now() - started }, 'request');
      }
    });
    const url = new URL(req.url ?? '/', 'http://localhost');
    void route(req, res, url).catch((err: unknown) => {
      log.error({ err, requestId: currentRequestId() }, 'unhandled error');
      if (!res.headersSent) sendJson(res, 500, { error: { code: 500, message: 'Internal error', requestId } });
      else res.destroy();
    });
  });
});

async function route(req: Parameters<typeof handleNext>[0], res: Parameters<typeof handleNext>[1], url: URL) {
  if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok', uptime: process.uptime() });
  if (url.pathname === '/readyz') {
    const r = await readiness(db, config.serviceDownSeconds);
    return sendJson(res, r.ready ? 200 : 503, r);
  }
  for (const m of restMounts) {
    if (url.pathname === m.prefix || url.pathname.startsWith(`${m.prefix}/`)) {
      if ((await m.handler(req, res, url)) !== false) return;
    }
  }
  return handleNext(req, res);
}

// Console websockets (/console/ws/vnc|serial) go to the console proxy of the server's host.
server.prependListener('upgrade', (req, socket, head) => void handleConsoleUpgrade(req, socket, head));

const live = await attachLiveEvents({
  http: server,
  databaseUrl: rt.databaseUrl,
  // A socket joins the rooms of its Keystone token's project (and the admin room when
  // policy makes it a cloud admin); invalid, expired or revoked tokens are refused.
  resolveScope: socketScopeForToken,
  onError: (err) => log.warn({ err }, 'live events'),
});

// Next.js adds its own 'upgrade' listener to this server on the first request; it ends
// every websocket whose path one of its pages matches (the dashboard's catch-all matches
// all), which would cut the consoles and socket.io. It may only see its own /_next/ paths.
const addListener = server.on.bind(server);
const nextOnly =
  (fn: (...a: unknown[]) => void) =>
  (...a: unknown[]) => {
    const req = a[0] as { url?: string };
    if (req.url?.startsWith('/_next/')) fn(...a);
  };
server.on = server.addListener = ((event: string, fn: (...a: unknown[]) => void) =>
  addListener(event, event === 'upgrade' ? nextOnly(fn) : fn)) as typeof server.on;

server.listen(config.webPort, config.webListen, () => {
  log.info({ port: config.webPort }, 'web started');
  process.stdout.write(`stratus-web ready on http://${config.webListen}:${config.webPort}\n`);
});

let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  void live.listener.close();
  live.io.close();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 3000).unref();
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
