import type { Migration as MigrationRow, Prisma } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { badRequest, notFound } from '../platform/errors.ts';
import { MAX_LIMIT } from '../platform/paging.ts';
import { enforce, registerPolicyDefaults } from '../policy/index.ts';
import { db, isUuid } from './common.ts';
import { FlavorSnapshot, loadServer } from './servers.ts';

/*
 * Nova's migrations API over the records resize and cold migration keep (Migration):
 *  - os-migrations (admin): every project's migrations, newest first, filtered by host
 *    (source or destination), status, server, type, source host, project and user, and
 *    changed since/before a time; paged by a migration uuid marker.
 *  - servers/{id}/migrations (admin): only the server's in-progress live migrations, as
 *    Nova has it; Stratus has no live migration yet, so this list is empty and show is
 *    Nova's 404 — resizes and cold migrations are read through os-migrations.
 */

registerPolicyDefaults([
  {
    name: 'os_compute_api:os-migrations:index',
    rule: 'rule:admin_required',
    description: 'List migrations (resizes, cold and live migrations) of every project.',
  },
  {
    name: 'os_compute_api:servers:migrations:index',
    rule: 'rule:admin_required',
    description: "List a server's in-progress live migrations.",
  },
  {
    name: 'os_compute_api:servers:migrations:show',
    rule: 'rule:admin_required',
    description: "Show one of a server's in-progress live migrations.",
  },
]);

/** Nova's migration types. */
export const MigrationType = z.enum(['migration', 'resize', 'live-migration', 'evacuation']);
export type MigrationType = z.infer<typeof MigrationType>;

/** A live migration's statuses while it runs (Nova's list for servers/{id}/migrations). */
export const LIVE_MIGRATION_IN_PROGRESS = ['queued', 'preparing', 'running', 'post-migrating'] as const;

/** The largest os-migrations page (Nova's osapi_max_limit). */
export const MIGRATION_PAGE_MAX = MAX_LIMIT;

/** A migration record as the API shows it. */
export interface MigrationView {
  /** Nova's integer id. */
  id: number;
  uuid: string;
  serverId: string;
  projectId: string;
  userId: string;
  migrationType: string;
  status: string;
  sourceCompute: string;
  sourceNode: string;
  destCompute: string | null;
  destNode: string | null;
  /** The destination host's IP address (Nova's dest_host), once a destination is picked. */
  destHost: string | null;
  oldFlavorId: string;
  newFlavorId: string;
  createdAt: Date;
  updatedAt: Date;
}

export const MigrationListQuery = z
  .object({
    host: z.string().min(1).optional(),
    status: z.string().min(1).optional(),
    instanceUuid: z.string().min(1).optional(),
    migrationType: MigrationType.optional(),
    sourceCompute: z.string().min(1).optional(),
    projectId: z.string().min(1).optional(),
    userId: z.string().min(1).optional(),
    changesSince: z.date().optional(),
    changesBefore: z.date().optional(),
    /** A migration uuid: the page starts after it. */
    marker: z.string().min(1).optional(),
    /** Page size (at most MAX_LIMIT); without it every matching row up to MAX_LIMIT. */
    limit: z.number().int().min(0).optional(),
  })
  .strict();
export type MigrationListQuery = z.input<typeof MigrationListQuery>;

const flavorIdOf = (j: unknown): string => {
  const f = FlavorSnapshot.safeParse(j);
  return f.success ? f.data.id : '';
};

async function toViews(rows: MigrationRow[]): Promise<MigrationView[]> {
  const hosts = [...new Set(rows.map((r) => r.destHost).filter((h) => h !== ''))];
  const nodes = hosts.length
    ? await db().computeNode.findMany({ where: { host: { in: hosts } }, select: { host: true, hostIp: true } })
    : [];
  const ipOf = new Map(nodes.map((n) => [n.host, n.hostIp]));
  return rows.map((r) => ({
    id: r.number,
    uuid: r.id,
    serverId: r.serverId,
    projectId: r.projectId,
    userId: r.userId,
    migrationType: r.migrationType,
    status: r.status,
    sourceCompute: r.sourceHost,
    sourceNode: r.sourceNode,
    destCompute: r.destHost || null,
    destNode: r.destNode || null,
    destHost: r.destNode ? (ipOf.get(r.destHost) ?? null) : null,
    oldFlavorId: flavorIdOf(r.oldFlavor),
    newFlavorId: flavorIdOf(r.newFlavor),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  }));
}

/** Every project's migrations (admin), newest first (created_at, then id, descending). */
export async function listMigrations(ctx: AuthContext, query: MigrationListQuery = {}): Promise<MigrationView[]> {
  enforce(ctx, 'os_compute_api:os-migrations:index', { project_id: ctx.projectId ?? '' });
  const parsed = MigrationListQuery.safeParse(query);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw badRequest(`Invalid input for query parameters ${i?.path.join('.') || 'migrations'}. ${i?.message ?? ''}`);
  }
  const o = parsed.data;
  if (o.changesSince && o.changesBefore && o.changesBefore < o.changesSince)
    throw badRequest('The value of changes-since must be less than or equal to changes-before.');
  // A server id that is no uuid names no server: nothing matches.
  if (o.instanceUuid !== undefined && !isUuid(o.instanceUuid)) return [];
  const and: Prisma.MigrationWhereInput[] = [];
  if (o.host) and.push({ OR: [{ sourceHost: o.host }, { destHost: o.host }] });
  if (o.status) and.push({ status: o.status });
  if (o.instanceUuid) and.push({ serverId: o.instanceUuid });
  if (o.migrationType) and.push({ migrationType: o.migrationType });
  if (o.sourceCompute) and.push({ sourceHost: o.sourceCompute });
  if (o.projectId) and.push({ projectId: o.projectId });
  if (o.userId) and.push({ userId: o.userId });
  if (o.changesSince) and.push({ updatedAt: { gte: o.changesSince } });
  if (o.changesBefore) and.push({ updatedAt: { lte: o.changesBefore } });
  if (o.marker) {
    // The marker is a uuid of a migration within this filter (Nova: 400 otherwise).
    const m = isUuid(o.marker) ? await db().migration.findFirst({ where: { AND: [...and, { id: o.marker }] } }) : null;
    if (!m) throw badRequest(`Marker ${o.marker} could not be found.`);
    and.push({
      OR: [{ createdAt: { lt: m.createdAt } }, { createdAt: m.createdAt, number: { lt: m.number } }],
    });
  }
  const rows = await db().migration.findMany({
    where: { AND: and },
    orderBy: [{ createdAt: 'desc' }, { number: 'desc' }],
    take: Math.min(o.limit ?? MAX_LIMIT, MAX_LIMIT),
  });
  return toViews(rows);
}

/** A server's in-progress live migrations (admin); the server must be visible to the caller. */
export async function listServerMigrations(ctx: AuthContext, serverId: string): Promise<MigrationView[]> {
  const s = await loadServer(ctx, serverId, 'os_compute_api:servers:migrations:index');
  const rows = await db().migration.findMany({
    where: { serverId: s.id, migrationType: 'live-migration', status: { in: [...LIVE_MIGRATION_IN_PROGRESS] } },
    orderBy: [{ createdAt: 'desc' }, { number: 'desc' }],
  });
  return toViews(rows);
}

/** One of a server's in-progress live migrations by its integer id (Nova's 404s otherwise). */
export async function getServerMigration(ctx: AuthContext, serverId: string, id: string): Promise<MigrationView> {
  const s = await loadServer(ctx, serverId, 'os_compute_api:servers:migrations:show');
  const n = /^\d{1,9}$/.test(id) ? Number(id) : null;
  const row = n === null ? null : await db().migration.findFirst({ where: { serverId: s.id, number: n } });
  if (!row) throw notFound(`Migration ${id} for server ${s.id} could not be found.`);
  if (row.migrationType !== 'live-migration')
    throw notFound(`Migration ${id} for server ${s.id} is not live-migration.`);
  if (!(LIVE_MIGRATION_IN_PROGRESS as readonly string[]).includes(row.status))
    throw notFound(`In-progress live migration ${id} is not found for server ${s.id}.`);
  const [view] = await toViews([row]);
  if (!view) throw notFound(`Migration ${id} for server ${s.id} could not be found.`);
  return view;
}
