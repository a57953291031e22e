/*
 * The REST mounts (identity + image) on a plain node http server, without Next.js: for
 * benchmarking the image data path when the dashboard build is not available. Same
 * handlers and configuration (environment) as apps/web/server.ts.
 *   STRATUS_STATE_DIR=… STRATUS_PG_PORT=… STRATUS_WEB_PORT=3500 node --import tsx bench/image/server.ts
 * STORE_MODULE=<path of another store.ts> serves uploads with that implementation's
 * FilesystemImageStore (same directory), for an A/B comparison in the same conditions.
 */
import { createServer } from 'node:http';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { type ImageStore, initLogger, newRequestId, runtime, setImageStore, withRequestContext } from '@stratus/core';
import { restMounts } from '../../apps/web/src/server/rest.ts';

const { config } = runtime();
initLogger({ name: 'bench-image-server', level: 'warn' });
if (process.env.STORE_MODULE) {
  // An older store answered `sha512` where the current one answers osHashAlgo/osHashValue.
  type AnyStore = { put(id: string, s: Readable, o?: object): Promise<Record<string, unknown>> } & Omit<
    ImageStore,
    'put'
  >;
  const mod = (await import(resolve(process.env.STORE_MODULE))) as {
    FilesystemImageStore: new (dir: string) => AnyStore;
  };
  const other = new mod.FilesystemImageStore(config.imageStoreDir ?? join(config.stateDir, 'images'));
  setImageStore({
    get: (id, range) => other.get(id, range),
    delete: (id) => other.delete(id),
    exists: (id) => other.exists(id),
    async put(id, source, opts) {
      const r = await other.put(id, source, opts);
      return {
        size: Number(r.size),
        md5: String(r.md5),
        osHashAlgo: 'sha512',
        osHashValue: String(r.osHashValue ?? r.sha512),
        path: String(r.path),
      };
    },
  });
  process.stdout.write(`store: ${process.env.STORE_MODULE}\n`);
}
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
server.listen(config.webPort, config.webListen, () =>
  process.stdout.write(`bench server on http://${config.webListen}:${config.webPort}\n`),
);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
