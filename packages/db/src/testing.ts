import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
