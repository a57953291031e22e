import { randomBytes } from 'node:crypto';
import type * as P from '@stratus/db';
import { Prisma, type PrismaClient } from '@stratus/db';
import { type Config, loadConfig } from '../platform/config.ts';
import { conflict, notFound } from '../platform/errors.ts';
import { runtime } from '../platform/runtime.ts';
import type { Domain, Group, NameFilter, Page, Project, Role, User } from './types.ts';

export const DEFAULT_DOMAIN_ID = 'default';
export const BUILTIN_ROLES = ['admin', 'member', 'reader'] as const;
/** Implied roles as Keystone bootstraps them: admin ⇒ member ⇒ reader. */
export const IMPLIED: Record<string, string[]> = { admin: ['member', 'reader'], member: ['reader'] };

/** Keystone-style id: 32 lowercase hex characters. */
export function newId(): string {
  return randomBytes(16).toString('hex');
}

export function db(): PrismaClient {
  return runtime().db;
}
export function cfg(): Config {
  return loadConfig();
}

export function toDomain(r: P.Domain): Domain {
  return { id: r.id, name: r.name, description: r.description, enabled: r.enabled };
}
export function toProject(r: P.Project): Project {
  return {
    id: r.id,
    name: r.name,
    domainId: r.domainId,
    parentId: r.parentId,
    description: r.description,
    enabled: r.enabled,
    isDomain: false,
    tags: r.tags,
  };
}
export function toUser(r: P.User): User {
  return {
    id: r.id,
    name: r.name,
    domainId: r.domainId,
    enabled: r.enabled,
    defaultProjectId: r.defaultProjectId,
    email: r.email,
    description: r.description,
    passwordExpiresAt: null,
  };
}
export function toGroup(r: P.Group): Group {
  return { id: r.id, name: r.name, domainId: r.domainId, description: r.description };
}
export function toRole(r: P.Role): Role {
  return { id: r.id, name: r.name, domainId: null, description: r.description };
}

/** Marker/limit paging over rows ordered by id: fetch limit+1 to know if there is more. */
export function page<T extends { id: string }>(rows: T[], limit: number | undefined): Page<T> {
  if (limit === undefined || rows.length <= limit) return { items: rows, next: null };
  const items = rows.slice(0, limit);
  return { items, next: items[items.length - 1]?.id ?? null };
}
export function pageArgs(o: { marker?: string; limit?: number }): {
  where: { id?: { gt: string } };
  take?: number;
  orderBy: { id: 'asc' };
} {
  return {
    where: o.marker ? { id: { gt: o.marker } } : {},
    ...(o.limit !== undefined ? { take: o.limit + 1 } : {}),
    orderBy: { id: 'asc' },
  };
}

type NameCond = {
  equals?: string;
  contains?: string;
  startsWith?: string;
  endsWith?: string;
  mode?: 'insensitive';
};

/** The `name` conditions of a list: exact match and Keystone's comparison filters, all ANDed. */
export function nameWhere(o: {
  name?: string;
  nameFilters?: NameFilter[];
}): { AND: Array<{ name: NameCond }> } | object {
  const conds: Array<{ name: NameCond }> = [];
  if (o.name !== undefined) conds.push({ name: { equals: o.name } });
  for (const f of o.nameFilters ?? []) {
    const insensitive = f.op.startsWith('i');
    const op = insensitive ? f.op.slice(1) : f.op;
    // Prisma turns these into LIKE without escaping: `%` and `_` must match themselves.
    const v = f.value.replace(/[\\%_]/g, (c) => `\\${c}`);
    const cond: NameCond =
      op === 'contains' ? { contains: v } : op === 'startswith' ? { startsWith: v } : { endsWith: v };
    conds.push({ name: insensitive ? { ...cond, mode: 'insensitive' } : cond });
  }
  return conds.length ? { AND: conds } : {};
}

/** Maps unique violations to Conflict and missing rows to NotFound. */
export async function mapDbErrors<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError) {
      if (err.code === 'P2002') throw conflict(`Conflict occurred attempting to store ${what} - Duplicate entry.`);
      if (err.code === 'P2025') throw notFound(`Could not find ${what}.`);
      if (err.code === 'P2003') throw conflict(`Cannot change ${what}: it is still referenced.`);
    }
    throw err;
  }
}

/** The default domain and the three built-in roles; safe to call repeatedly. */
export async function ensureIdentityDefaults(client: PrismaClient = db()): Promise<void> {
  await client.domain.upsert({
    where: { id: DEFAULT_DOMAIN_ID },
    create: { id: DEFAULT_DOMAIN_ID, name: 'Default', description: 'The default domain' },
    update: {},
  });
  for (const name of BUILTIN_ROLES) {
    const existing = await client.role.findUnique({ where: { name } });
    if (!existing) {
      await client.role.create({ data: { id: newId(), name } }).catch((err: unknown) => {
        // Another process seeded it at the same moment.
        if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002')) throw err;
      });
    }
  }
}

/** Resolves a domain given by id or name (Keystone accepts either in auth bodies). */
export async function findDomain(ref: { id?: string; name?: string }): Promise<P.Domain | null> {
  if (ref.id) return db().domain.findUnique({ where: { id: ref.id } });
  if (ref.name) return db().domain.findUnique({ where: { name: ref.name } });
  return null;
}
