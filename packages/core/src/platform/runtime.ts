import { getPrisma, type PrismaClient } from '@stratus/db';
import { databaseUrl, loadConfig, type Config } from './config.ts';

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
