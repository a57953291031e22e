import type { AuthContext } from '../identity/types.ts';
import { summarizeProviders, type ResourceUsage } from '../placement/summary.ts';
import { badRequest, notFound } from '../platform/errors.ts';
import { enforce, registerPolicyDefaults } from '../policy/index.ts';
import { cfg, db, MAX_LIMIT } from './common.ts';
import {
  addFlavorAccess,
  createFlavor,
  deleteFlavor,
  ExtraSpecs,
  type Flavor,
  FlavorCreate,
  setExtraSpecs,
} from './flavors.ts';
import { getHypervisor, type Hypervisor, listHypervisors } from './hosts.ts';
import { listServersWithAddresses, type ServerWithAddresses } from './servers.ts';
import { PowerState } from './state.ts';

/*
 * What the admin dashboard reads in one call per view: hypervisors with their placement
 * inventories and usages and their instance counts, every project's servers with the
 * project's name, and flavor creation with extra specs and project access in one step.
 * Policy stays Nova's: these functions enforce the same rules as the REST API's
 * os-hypervisors, servers?all_tenants and flavor-manage calls.
 */

registerPolicyDefaults([
  {
    name: 'os_compute_api:os-hypervisors:servers',
    rule: 'rule:admin_required',
    description: 'List the servers running on a hypervisor.',
  },
]);

/** A compute node as the Hypervisors panel shows it. */
export interface HypervisorUsage {
  id: string;
  host: string;
  hypervisorHostname: string;
  hypervisorType: string;
  hypervisorVersion: string;
  hostIp: string;
  cpuInfo: string;
  /** up/down from the worker's heartbeat, enabled/disabled from its compute service. */
  state: 'up' | 'down';
  status: 'enabled' | 'disabled';
  disabledReason: string | null;
  serviceId: string | null;
  lastHeartbeat: Date | null;
  resourceProviderUuid: string;
  /** From placement: VCPU, MEMORY_MB, DISK_GB (total, reserved, allocation ratio, capacity, used). */
  resources: Record<string, ResourceUsage>;
  /** Servers placed on this host (not deleted) and those of them running. */
  instances: number;
  running: number;
}

export interface HypervisorUsageList {
  hypervisors: HypervisorUsage[];
  /** A heartbeat older than this many seconds means "down" (so a client can tell when to look again). */
  serviceDownSeconds: number;
}

async function withUsage(list: Hypervisor[]): Promise<HypervisorUsage[]> {
  if (list.length === 0) return [];
  const hosts = list.map((h) => h.node.host);
  const [providers, counts, services] = await Promise.all([
    // Compute reads placement as a service, as Nova does; the caller passed compute's policy.
    summarizeProviders(
      'service',
      list.map((h) => h.node.resourceProviderUuid),
    ),
    db().$queryRaw<Array<{ host: string; instances: number; running: number }>>`
      SELECT host, count(*)::int AS instances,
             (count(*) FILTER (WHERE "powerState" = ${PowerState.RUNNING}))::int AS running
        FROM "Server" WHERE NOT deleted AND host = ANY(${hosts}::text[]) GROUP BY host`,
    db().service.findMany({
      where: { binary: 'stratus-worker', host: { in: hosts } },
      select: { host: true, lastHeartbeat: true },
    }),
  ]);
  return list.map(({ node: n, ...h }) => {
    const c = counts.find((x) => x.host === n.host);
    return {
      id: n.id,
      host: n.host,
      hypervisorHostname: n.hypervisorHostname,
      hypervisorType: n.hypervisorType,
      hypervisorVersion: n.hypervisorVersion,
      hostIp: n.hostIp,
      cpuInfo: n.cpuInfo,
      state: h.state,
      status: h.status,
      disabledReason: h.disabledReason,
      serviceId: h.serviceId,
      lastHeartbeat: services.find((s) => s.host === n.host)?.lastHeartbeat ?? null,
      resourceProviderUuid: n.resourceProviderUuid,
      resources: providers.find((p) => p.uuid === n.resourceProviderUuid)?.resources ?? {},
      instances: c?.instances ?? 0,
      running: c?.running ?? 0,
    };
  });
}

/** Every compute node with usage (policy os-hypervisors:list-detail). */
export async function listHypervisorUsage(ctx: AuthContext): Promise<HypervisorUsageList> {
  const list = await listHypervisors(ctx, { detail: true });
  return { hypervisors: await withUsage(list), serviceDownSeconds: cfg().serviceDownSeconds };
}

/** One compute node, by id or host name, with usage (policy os-hypervisors:show). */
export async function getHypervisorUsage(
  ctx: AuthContext,
  idOrHost: string,
): Promise<HypervisorUsage & { serviceDownSeconds: number }> {
  const [h] = await withUsage([await getHypervisor(ctx, idOrHost)]);
  if (!h) throw notFound(`Hypervisor with ID ${idOrHost} could not be found.`);
  return { ...h, serviceDownSeconds: cfg().serviceDownSeconds };
}

// ---------------------------------------------------------------- all instances

export interface AdminServerListOptions {
  projectId?: string;
  host?: string;
  status?: string;
  /** Part of the name, matched literally. */
  name?: string;
  marker?: string;
  limit?: number;
}

export type AdminServer = ServerWithAddresses & { projectName: string | null };

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The servers of every project (policy servers:detail:get_all_tenants, admin by default;
 * the host filter needs servers:allow_all_filters) with their project's name, newest
 * first, one page at a time; `next` is the marker of the following page.
 */
export async function listAllServers(
  ctx: AuthContext,
  o: AdminServerListOptions = {},
): Promise<{ items: AdminServer[]; next: string | null }> {
  const limit = Math.min(o.limit ?? 50, MAX_LIMIT - 1);
  const rows = await listServersWithAddresses(ctx, {
    detail: true,
    allTenants: true,
    projectId: o.projectId || undefined,
    host: o.host || undefined,
    status: o.status || undefined,
    name: o.name ? escapeRe(o.name) : undefined,
    marker: o.marker,
    // One more than the page says whether there is a next one.
    limit: limit + 1,
  });
  const page = rows.slice(0, limit);
  const names = await projectNames(page.map((s) => s.projectId));
  return {
    items: page.map((s) => ({ ...s, projectName: names.get(s.projectId) ?? null })),
    next: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
  };
}

/** Names of projects by id, in one query (a project deleted since keeps no name). */
async function projectNames(ids: string[]): Promise<Map<string, string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Map();
  const rows = await db().project.findMany({ where: { id: { in: unique } }, select: { id: true, name: true } });
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** The servers on one hypervisor, every project's (policy os-hypervisors:servers). */
export async function listHypervisorServers(
  ctx: AuthContext,
  idOrHost: string,
  o: Omit<AdminServerListOptions, 'host'> = {},
): Promise<{ items: AdminServer[]; next: string | null }> {
  enforce(ctx, 'os_compute_api:os-hypervisors:servers');
  const h = await getHypervisor(ctx, idOrHost);
  return listAllServers(ctx, { ...o, host: h.node.host });
}

// ---------------------------------------------------------------- flavors

export interface FlavorCreateWithDetails {
  flavor: FlavorCreate;
  extraSpecs?: Record<string, string>;
  /** Projects given access at once; only for a private flavor. */
  projectIds?: string[];
}

/**
 * Creates a flavor with its extra specs and project access. Everything that can be
 * refused (policy, input, unknown projects, access on a public flavor) is checked before
 * the flavor exists; if a later write still fails the flavor is removed again, so the
 * caller never sees a half-made flavor.
 */
export async function createFlavorWithDetails(ctx: AuthContext, input: FlavorCreateWithDetails): Promise<Flavor> {
  const specs = input.extraSpecs ?? {};
  const projectIds = [...new Set(input.projectIds ?? [])];
  enforce(ctx, 'os_compute_api:os-flavor-manage:create');
  if (Object.keys(specs).length) enforce(ctx, 'os_compute_api:os-flavor-extra-specs:create');
  if (projectIds.length) enforce(ctx, 'os_compute_api:os-flavor-access:add_tenant_access');
  const flavor = FlavorCreate.parse(input.flavor);
  const parsed = ExtraSpecs.safeParse(specs);
  if (!parsed.success) throw badRequest('extra_specs keys and values must be strings of at most 255 characters.');
  if (projectIds.length && flavor.isPublic) throw badRequest('Project access is only for private flavors.');
  if (projectIds.length) {
    const found = await projectNames(projectIds);
    const missing = projectIds.find((p) => !found.has(p));
    if (missing) throw badRequest(`Project ${missing} could not be found.`);
  }
  const f = await createFlavor(ctx, flavor);
  try {
    const extraSpecs = Object.keys(parsed.data).length ? await setExtraSpecs(ctx, f.id, parsed.data) : {};
    for (const p of projectIds) await addFlavorAccess(ctx, f.id, p);
    return { ...f, extraSpecs };
  } catch (err) {
    await deleteFlavor(ctx, f.id).catch(() => undefined);
    throw err;
  }
}
