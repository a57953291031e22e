/**
 * Metadata proxy, one process per DHCP or router namespace. Started inside the
 * namespace (`ip netns exec NS node metadata-proxy.ts --listen 169.254.169.254:80
 * --socket /run/stratus/metadata.sock --network-id ID`), it forwards each guest's
 * HTTP request over a unix socket to the host metadata service. Namespaces share the
 * filesystem, so no host listener, route or NAT to the host is needed.
 *
 * The service learns who asks from `X-Forwarded-For` (the guest's source address as
 * seen here; a guest-supplied value is replaced, never trusted) plus the network or
 * router id, which together name exactly one port.
 *
 * Plain Node with erasable types only: Node 24 runs it without tsx or a build step.
 */
import { writeFileSync } from 'node:fs';
import { createServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: '169.254.169.254:80' },
    socket: { type: 'string' },
    'network-id': { type: 'string' },
    'router-id': { type: 'string' },
    'ready-file': { type: 'string' },
  },
});

function fail(msg: string): never {
  process.stderr.write(`metadata-proxy: ${msg}\n`);
  process.exit(2);
}

const socketPath = values.socket ?? fail('--socket is required');
if (!values['network-id'] && !values['router-id']) fail('--network-id or --router-id is required');
const sep = values.listen.lastIndexOf(':');
const host = values.listen.slice(0, sep);
const port = Number(values.listen.slice(sep + 1));
if (!host || !Number.isInteger(port) || port < 1 || port > 65535) fail(`bad --listen ${values.listen}`);

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'x-forwarded-for',
  'x-stratus-network-id',
  'x-stratus-router-id',
]);

function forwardHeaders(headers: IncomingHttpHeaders, guestIp: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  out['x-forwarded-for'] = guestIp;
  if (values['network-id']) out['x-stratus-network-id'] = values['network-id'];
  if (values['router-id']) out['x-stratus-router-id'] = values['router-id'];
  return out;
}

const server = createServer((req, res) => {
  const guestIp = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  const upstream = request(
    { socketPath, method: req.method, path: req.url, headers: forwardHeaders(req.headers, guestIp), timeout: 30_000 },
    (up) => {
      const headers: OutgoingHttpHeaders = {};
      for (const [k, v] of Object.entries(up.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
      res.writeHead(up.statusCode ?? 502, headers);
      up.pipe(res);
    },
  );
  upstream.on('timeout', () => upstream.destroy(new Error('upstream timeout')));
  upstream.on('error', (err) => {
    process.stderr.write(`metadata-proxy: upstream: ${err.message}\n`);
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('metadata service unavailable\n');
    } else res.destroy();
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 5_000;
server.on('error', (err) => fail(err.message));
server.listen(port, host, () => {
  if (values['ready-file']) writeFileSync(values['ready-file'], `${process.pid}\n`);
  process.stdout.write(`metadata-proxy listening on ${host}:${port}\n`);
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => process.exit(0));
