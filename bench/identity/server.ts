// The identity REST handler alone on plain node http (no Next.js, no request log), to
// separate the handler's cost from the web server's. Same environment as the stack:
//   STRATUS_STATE_DIR=… STRATUS_PG_PORT=… BENCH_PORT=3301 node --import tsx bench/identity/server.ts
import { createServer } from 'node:http';
import { newRequestId, withRequestContext } from '@stratus/core';
import { identityMount } from '../../apps/web/src/server/rest/identity/index.ts';

const port = Number(process.env.BENCH_PORT ?? 3301);
const server = createServer((req, res) => {
  const requestId = newRequestId();
  res.setHeader('x-openstack-request-id', requestId);
  withRequestContext({ requestId }, () => {
    void identityMount.handler(req, res, new URL(req.url ?? '/', 'http://localhost'));
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write(`identity-only server on 127.0.0.1:${port}\n`));
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
