import { getPrisma, type PrismaClient } from '@stratus/db';
import { ConfigError, databaseUrl, loadConfig, type Config } from './config.ts';

export interface Runtime {
  config: Config;
  databaseUrl: string;
  db: PrismaClient;
}

/** The process's config and database client, created once. */
export function runtime(): Runtime {
  const config = loadConfig();
  const url = databaseUrl(config);
  return { config, databaseUrl: url, db: getPrisma(url) };
}

/** Stops a program with one line on stderr, prefixed by its name: no stack trace. */
export function exitWithError(program: string, message: string): never {
  process.stderr.write(`${program}: ${message}\n`);
  process.exit(1);
}

/**
 * The runtime for an entry point: an invalid configuration or an unreachable database
 * ends the process with one clear line and a non-zero exit.
 */
export async function startRuntime(program: string, opts: { checkDatabase?: boolean } = {}): Promise<Runtime> {
  let rt: Runtime;
  try {
    rt = runtime();
  } catch (err) {
    if (err instanceof ConfigError) exitWithError(program, err.message);
    throw err;
  }
  if (opts.checkDatabase !== false) {
    try {
      await rt.db.$queryRaw`SELECT 1`;
    } catch (err) {
      exitWithError(program, `cannot reach the database: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return rt;
}
