import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startEmbeddedPostgres } from './embedded.ts';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** A throwaway embedded PostgreSQL in a temp dir; for tests and tooling only. */
export async function startScratchPostgres(): Promise<{ connectionString: string; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-pg-'));
  const handle = await startEmbeddedPostgres({ dir, port: await freePort() });
  return {
    connectionString: handle.connectionString,
    async stop() {
      await handle.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh copy of the migrated database at `url` (CREATE DATABASE … TEMPLATE), so that one
 * test file's hosts, services, ring nodes and queue jobs never meet another's. The copy
 * lives until the server stops. Retries while another session briefly holds the template.
 */
export async function cloneDatabase(url: string): Promise<string> {
  const target = new URL(url);
  const template = decodeURIComponent(target.pathname.slice(1));
  const name = `${template}_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new pg.Client({ connectionString: admin.toString() });
  await c.connect();
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
        break;
      } catch (e) {
        const busy = e instanceof Error && /being accessed by other users/.test(e.message);
        if (!busy || attempt >= 50) throw e;
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
      }
    }
  } finally {
    await c.end();
  }
  target.pathname = `/${name}`;
  return target.toString();
}
