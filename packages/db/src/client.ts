import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from './generated/prisma/client.ts';

export type { PrismaClient };
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

const key = Symbol.for('stratus.prisma');
const poolKey = Symbol.for('stratus.pg-pool');
type Holder = { [key]?: Map<string, PrismaClient>; [poolKey]?: Map<string, pg.Pool> };

/**
 * The node-postgres pool behind the Prisma client of this connection string (one per
 * process). For the few hot statements that run as named prepared statements (planned
 * once per connection), e.g. placement's claim; everything else goes through Prisma.
 */
export function getPgPool(connectionString: string): pg.Pool {
  getPrisma(connectionString);
  const pool = (globalThis as Holder)[poolKey]?.get(connectionString);
  if (!pool) throw new Error('no pool for this connection string');
  return pool;
}

/**
 * One Prisma client per connection string and process. The Next.js bundle and the
 * custom server load this module twice, so the cache lives on globalThis.
 */
export function getPrisma(connectionString: string): PrismaClient {
  const holder = globalThis as Holder;
  holder[key] ??= new Map();
  let client = holder[key].get(connectionString);
  if (!client) {
    // allowExitOnIdle: a process that disconnected Prisma is not held open by idle connections.
    const pool = new pg.Pool({ connectionString, max: 10, allowExitOnIdle: true });
    // An idle connection the server closed (restart, shutdown) is dropped by the pool and
    // the next query opens a new one; as with Prisma's own pool, that is not an error.
    pool.on('error', () => {});
    client = new PrismaClient({ adapter: new PrismaPg(pool) });
    holder[key].set(connectionString, client);
    holder[poolKey] ??= new Map();
    holder[poolKey].set(connectionString, pool);
  }
  return client;
}

export async function closePrisma(): Promise<void> {
  const holder = globalThis as Holder;
  const clients = [...(holder[key]?.values() ?? [])];
  const pools = [...(holder[poolKey]?.values() ?? [])];
  holder[key]?.clear();
  holder[poolKey]?.clear();
  await Promise.all(clients.map((c) => c.$disconnect()));
  await Promise.all(pools.map((p) => p.end()));
}
