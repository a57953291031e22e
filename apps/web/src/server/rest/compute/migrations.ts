import * as core from '@stratus/core';
import { badRequest, MIGRATION_PAGE_MAX as MAX_LIMIT, StratusError } from '@stratus/core';
import { type RouteContext, requireAuth, send } from '../common.ts';
import { atLeast, type Microversion } from './microversion.ts';
import { isoMicro, type Links } from './shapes.ts';

/*
 * Nova's migrations API: GET /os-migrations (admin, every project's resizes and
 * migrations, filters; migration_type from 2.23, uuid and marker/limit/changes-since
 * paging from 2.59 with unknown query parameters refused, changes-before from 2.66,
 * user_id/project_id from 2.80) and GET /servers/{id}/migrations[/{id}] (2.23+, the
 * server's in-progress live migrations only). A thin adapter over core/compute/migrations.ts.
 */
type Ctx = RouteContext & { v: Microversion; links: Links };
type AddRoute = (method: string, pattern: string, h: (c: Ctx) => Promise<void>) => void;

/** Nova's flavor ids here are integers; Stratus's are strings (numeric ones go out as numbers). */
const flavorRef = (id: string): string | number => (/^\d{1,15}$/.test(id) ? Number(id) : id);

function liveMigrationLinks(m: core.MigrationView, links: Links) {
  const path = `servers/${m.serverId}/migrations/${m.id}`;
  return [
    { rel: 'self', href: `${links.base}/${path}` },
    { rel: 'bookmark', href: `${links.root}/${path}` },
  ];
}

export function migrationJson(m: core.MigrationView, v: Microversion, links: Links): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: m.id,
    instance_uuid: m.serverId,
    source_node: m.sourceNode,
    dest_node: m.destNode,
    source_compute: m.sourceCompute,
    dest_compute: m.destCompute,
    dest_host: m.destHost,
    status: m.status,
    old_instance_type_id: flavorRef(m.oldFlavorId),
    new_instance_type_id: flavorRef(m.newFlavorId),
    created_at: isoMicro(m.createdAt),
    updated_at: isoMicro(m.updatedAt),
  };
  if (atLeast(v, 23)) {
    out.migration_type = m.migrationType;
    // Nova links only in-progress live migrations (servers/{id}/migrations shows nothing else).
    if (
      m.migrationType === 'live-migration' &&
      (core.LIVE_MIGRATION_IN_PROGRESS as readonly string[]).includes(m.status)
    )
      out.links = liveMigrationLinks(m, links);
  }
  if (atLeast(v, 59)) out.uuid = m.uuid;
  if (atLeast(v, 80)) {
    out.user_id = m.userId;
    out.project_id = m.projectId;
  }
  return out;
}

/** servers/{id}/migrations' shape: an in-progress live migration with its progress counters. */
function serverMigrationJson(m: core.MigrationView, v: Microversion): Record<string, unknown> {
  const out: Record<string, unknown> = {
    created_at: isoMicro(m.createdAt),
    dest_compute: m.destCompute,
    dest_host: m.destHost,
    dest_node: m.destNode,
    // The driver reports no transfer progress: unknown, as Nova answers before the first stats.
    disk_processed_bytes: null,
    disk_remaining_bytes: null,
    disk_total_bytes: null,
    id: m.id,
    memory_processed_bytes: null,
    memory_remaining_bytes: null,
    memory_total_bytes: null,
    server_uuid: m.serverId,
    source_compute: m.sourceCompute,
    source_node: m.sourceNode,
    status: m.status,
    updated_at: isoMicro(m.updatedAt),
  };
  if (atLeast(v, 59)) out.uuid = m.uuid;
  if (atLeast(v, 80)) {
    out.user_id = m.userId;
    out.project_id = m.projectId;
  }
  return out;
}

/** The query parameters os-migrations accepts from 2.59 on (before, any are let through and unknown ones ignored). */
function allowedParams(v: Microversion): Set<string> {
  const keys = ['hidden', 'host', 'instance_uuid', 'source_compute', 'status', 'migration_type'];
  keys.push('limit', 'marker', 'changes-since');
  if (atLeast(v, 66)) keys.push('changes-before');
  if (atLeast(v, 80)) keys.push('user_id', 'project_id');
  return new Set(keys);
}

function timeParam(c: Ctx, name: string): Date | undefined {
  const s = c.url.searchParams.get(name);
  if (s === null) return undefined;
  const d = new Date(s);
  if (s === '' || Number.isNaN(d.getTime()))
    throw badRequest(`Invalid input for query parameters ${name}. Value: ${s}.`);
  return d;
}

function listQuery(c: Ctx): core.MigrationListQuery | null {
  const v = c.v;
  const get = (name: string) => c.url.searchParams.get(name) || undefined;
  const paged = atLeast(v, 59);
  if (paged) {
    const allowed = allowedParams(v);
    for (const k of c.url.searchParams.keys())
      if (!allowed.has(k))
        throw badRequest(`Invalid input for query parameters ${k}. Additional properties are not allowed.`);
  }
  const type = get('migration_type');
  const parsedType = type === undefined ? undefined : core.MigrationType.safeParse(type);
  if (parsedType && !parsedType.success) {
    if (paged) throw badRequest(`Invalid input for query parameters migration_type. Value: ${type}.`);
    return null; // Before 2.59 Nova filters by any string: an unknown type matches nothing.
  }
  const q: core.MigrationListQuery = {
    host: get('host'),
    status: get('status'),
    instanceUuid: get('instance_uuid'),
    migrationType: parsedType?.data,
    sourceCompute: get('source_compute'),
  };
  if (paged) {
    const limit = get('limit');
    if (limit !== undefined) {
      const n = Number(limit);
      if (!/^\d+$/.test(limit) || !Number.isSafeInteger(n))
        throw badRequest(`Invalid input for query parameters limit. Value: ${limit}.`);
      q.limit = Math.min(n, MAX_LIMIT);
    }
    q.marker = get('marker');
    q.changesSince = timeParam(c, 'changes-since');
    if (atLeast(v, 66)) q.changesBefore = timeParam(c, 'changes-before');
    if (atLeast(v, 80)) {
      q.userId = get('user_id');
      q.projectId = get('project_id');
    }
  }
  return Object.fromEntries(Object.entries(q).filter(([, x]) => x !== undefined));
}

export function registerMigrationRoutes(route: AddRoute, V: string): void {
  route('GET', `${V}/os-migrations`, async (c) => {
    const ctx = await requireAuth(c.req);
    const q = listQuery(c);
    // Policy first, even when the filter can match nothing.
    const list = await core.listMigrations(ctx, q ?? { limit: 0 });
    const body: Record<string, unknown> = { migrations: list.map((m) => migrationJson(m, c.v, c.links)) };
    const last = list[list.length - 1];
    if (atLeast(c.v, 59) && last && list.length === (q?.limit ?? MAX_LIMIT)) {
      const next = new URL(c.url.toString());
      next.searchParams.set('marker', last.uuid);
      body.migrations_links = [{ rel: 'next', href: `${c.links.base}/os-migrations?${next.searchParams.toString()}` }];
    }
    send(c.res, 200, body);
  });

  route('GET', `${V}/servers/:id/migrations`, async (c) => {
    if (!atLeast(c.v, 23)) throw new StratusError('NotFound', 'The resource could not be found.');
    const ctx = await requireAuth(c.req);
    const list = await core.listServerMigrations(ctx, c.params.id ?? '');
    send(c.res, 200, { migrations: list.map((m) => serverMigrationJson(m, c.v)) });
  });

  route('GET', `${V}/servers/:id/migrations/:migration`, async (c) => {
    if (!atLeast(c.v, 23)) throw new StratusError('NotFound', 'The resource could not be found.');
    const ctx = await requireAuth(c.req);
    const m = await core.getServerMigration(ctx, c.params.id ?? '', c.params.migration ?? '');
    send(c.res, 200, { migration: serverMigrationJson(m, c.v) });
  });
}
