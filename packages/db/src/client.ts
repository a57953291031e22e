import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/prisma/client.ts';

export type { PrismaClient };
export type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

const key = Symbol.for('stratus.prisma');
type Holder = { [key]?: Map<string, PrismaClient> };

/**
 * One Prisma client per connection string and process. The Next.js bundle and the
 * custom server load this module twice, so the cache lives on globalThis.
 */
export function getPrisma(connectionString: string): PrismaClient {
  const holder = globalThis as Holder;
  holder[key] ??= new Map();
  let client = holder[key].get(connectionString);
  if (!client) {
    client = new PrismaClient({ adapter: new PrismaPg({ connectionString, max: 10 }) });
    holder[key].set(connectionString, client);
  }
  return client;
}

export async function closePrisma(): Promise<void> {
  const holder = globalThis as Holder;
  const clients = [...(holder[key]?.values() ?? [])];
  holder[key]?.clear();
  await Promise.all(clients.map((c) => c.$disconnect()));
}
