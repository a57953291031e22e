/*
 * The REST mounts (identity + image) on a plain node http server, without Next.js: for
 * benchmarking the image data path when the dashboard build is not available. Same
 * handlers and configuration (environment) as apps/web/server.ts.
 *   STRATUS_STATE_DIR=… STRATUS_PG_PORT=… STRATUS_WEB_PORT=3500 node --import tsx bench/image/server.ts
 */
import { createServer } from 'node:http';
import { initLogger, newRequestId, runtime, withRequestContext } from '@stratus/core';
import { restMounts } from '../../apps/web/src/server/rest.ts';

const { config } = runtime();
initLogger({ name: 'bench-image-server', level: 'warn' });
const server = createServer((req, res) => {
  const requestId = newRequestId();
  res.setHeader('x-openstack-request-id', requestId);
  withRequestContext({ requestId }, () => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = restMounts.find((x) => url.pathname === x.prefix || url.pathname.startsWith(`${x.prefix}/`));
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    void m.handler(req, res, url);
  });
});
server.listen(config.webPort, config.webListen, () => process.stdout.write(`bench server on http://${config.webListen}:${config.webPort}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
