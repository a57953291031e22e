import type { ServerResponse } from 'node:http';
import * as net from '@stratus/core';
import { type AuthContext, can, isStratusError, loadConfig, logger } from '@stratus/core';
import { z } from 'zod';
import type { RestMount } from '../../http.ts';
import {
  authedRoutes,
  createRouter,
  readJson,
  requestBase,
  resourceRoutes,
  type RouteContext,
  send,
  titleOf,
} from '../common.ts';
import {
  floatingIpJson,
  networkJson,
  portJson,
  routerJson,
  ruleJson,
  securityGroupJson,
  subnetJson,
} from './shapes.ts';

/*
 * Neutron v2.0 under /network: a thin adapter. Each route parses the body, calls one
 * core function (which enforces policy and Neutron's rules) and shapes the answer.
 * Errors are {"NeutronError":{type,message,detail}}; the type comes from core.
 */
const PREFIX = '/network';

const DEFAULT_TYPES: Record<number, string> = {
  400: 'HTTPBadRequest',
  401: 'HTTPUnauthorized',
  403: 'PolicyNotAuthorized',
  404: 'HTTPNotFound',
  405: 'HTTPMethodNotAllowed',
  409: 'HTTPConflict',
  413: 'HTTPRequestEntityTooLarge',
  500: 'HTTPInternalServerError',
  503: 'HTTPServiceUnavailable',
};
const neutronBody = (status: number, message: string, type?: string) => ({
  NeutronError: { type: type ?? DEFAULT_TYPES[status] ?? titleOf(status).replace(/\s/g, ''), message, detail: '' },
});

function renderError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (isStratusError(err)) {
    const t = err.details?.type;
    // Neutron answers over-quota with 409 OverQuota; StratusError's QuotaExceeded is 413.
    const status = typeof t === 'string' && t === 'OverQuota' ? 409 : err.status;
    send(res, status, neutronBody(status, err.message, typeof t === 'string' ? t : undefined));
    return;
  }
  if (err instanceof z.ZodError) {
    send(res, 400, neutronBody(400, `Invalid input: ${err.issues[0]?.message ?? 'invalid'}`));
    return;
  }
  logger().error({ err }, 'unexpected error in the network API');
  send(res, 500, neutronBody(500, 'Request Failed: internal server error while processing your request.'));
}

const router = createRouter({
  prefix: PREFIX,
  render: (status, message) => neutronBody(status, message),
  onError: renderError,
});
const route = router.add;

/** Routes whose handler gets the caller and returns [status, body]. */
const api = authedRoutes(route);
/** A resource's list, create, show, update and delete, as Neutron answers them. */
const resource = resourceRoutes(route, { created: 201, update: 'PUT', removed: 204 });

const p = (c: RouteContext, name: string) => c.params[name] ?? '';
const admin = (ctx: AuthContext) => can(ctx, 'admin_required');

async function body(c: RouteContext, key: string): Promise<Record<string, unknown>> {
  const raw = await readJson(c.req);
  const v = raw[key];
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new net.StratusError('BadRequest', `Resource body required: '${key}' is missing.`, {
      type: 'HTTPBadRequest',
    });
  return Object.fromEntries(Object.entries(v));
}

// ---------------------------------------------------------------- list helpers

const RESERVED = new Set([
  'fields',
  'limit',
  'marker',
  'sort_key',
  'sort_dir',
  'page_reverse',
  'all_tenants',
  'verbose',
]);

function values(c: RouteContext, key: string): string[] | undefined {
  const v = c.url.searchParams.getAll(key);
  return v.length ? v : undefined;
}

function matches(item: Record<string, unknown>, key: string, wanted: string[]): boolean {
  if (!(key in item)) return true; // unknown filters are ignored, as Neutron does by default
  const v = item[key];
  if (Array.isArray(v)) return wanted.every((w) => v.some((x) => String(x) === w));
  if (typeof v === 'boolean') return wanted.some((w) => String(v) === w.toLowerCase());
  if (v === null) return wanted.some((w) => w === '' || w.toLowerCase() === 'none' || w.toLowerCase() === 'null');
  return wanted.includes(String(v));
}

function pick(item: Record<string, unknown>, fields: string[] | undefined): Record<string, unknown> {
  if (!fields?.length) return item;
  return Object.fromEntries(fields.filter((f) => f in item).map((f) => [f, item[f]]));
}

/** Generic filters on any top-level attribute, fields=, marker/limit, as Neutron lists. */
function listBody(c: RouteContext, plural: string, items: Record<string, unknown>[]): Record<string, unknown> {
  let out = items;
  for (const key of new Set(c.url.searchParams.keys())) {
    if (RESERVED.has(key) || key === 'fixed_ips') continue;
    const want = c.url.searchParams.getAll(key);
    out = out.filter((i) => matches(i, key, want));
  }
  const fixed = values(c, 'fixed_ips');
  if (fixed) {
    for (const f of fixed) {
      const [k, v] = f.split('=');
      out = out.filter(
        (i) =>
          Array.isArray(i.fixed_ips) &&
          i.fixed_ips.some((x: unknown) => x && typeof x === 'object' && k && (x as Record<string, unknown>)[k] === v),
      );
    }
  }
  const marker = c.url.searchParams.get('marker');
  if (marker) {
    const idx = out.findIndex((i) => i.id === marker);
    out = idx >= 0 ? out.slice(idx + 1) : out;
  }
  const limitText = c.url.searchParams.get('limit');
  const limit = limitText ? Number(limitText) : undefined;
  const links: { rel: string; href: string }[] = [];
  if (limit !== undefined && Number.isInteger(limit) && limit > 0 && out.length > limit) {
    out = out.slice(0, limit);
    const next = new URL(c.url.toString());
    next.searchParams.set('marker', String(out[out.length - 1]?.id ?? ''));
    links.push({ rel: 'next', href: `${base(c)}${next.pathname}${next.search}` });
  }
  const wanted = values(c, 'fields');
  return {
    [plural]: out.map((i) => pick(i, wanted)),
    ...(links.length ? { [`${plural}_links`]: links } : {}),
  };
}

/** One item with only the attributes named in fields=. */
const fields = (c: RouteContext, item: Record<string, unknown>) => pick(item, values(c, 'fields'));

const base = (c: RouteContext) => requestBase(c.req, loadConfig().publicUrl);

// ---------------------------------------------------------------- discovery

const RESOURCES = [
  ['network', 'networks'],
  ['subnet', 'subnets'],
  ['port', 'ports'],
  ['router', 'routers'],
  ['floatingip', 'floatingips'],
  ['security_group', 'security-groups'],
  ['security_group_rule', 'security-group-rules'],
  ['quota', 'quotas'],
  ['availability_zone', 'availability_zones'],
  ['extension', 'extensions'],
] as const;

const EXTENSIONS: { alias: string; name: string; description: string }[] = [
  {
    alias: 'router',
    name: 'Neutron L3 Router',
    description:
      'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.',
  },
  {
    alias: 'ext-gw-mode',
    name: 'Neutron L3 Configurable external gateway mode',
    description: 'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway',
  },
  {
    alias: 'external-net',
    name: 'Neutron external network',
    description: 'Adds external network attribute to network resource.',
  },
  { alias: 'security-group', name: 'security-group', description: 'The security groups extension.' },
  {
    alias: 'quotas',
    name: 'Quota management support',
    description: 'Expose functions for quotas management per project',
  },
  {
    alias: 'quota_details',
    name: 'Quota details management support',
    description: 'Expose functions for quotas usage statistics per project',
  },
  {
    alias: 'binding',
    name: 'Port Binding',
    description: 'Expose port bindings of a virtual port to external application',
  },
  { alias: 'allowed-address-pairs', name: 'Allowed Address Pairs', description: 'Provides allowed address pairs' },
  { alias: 'port-security', name: 'Port Security', description: 'Provides port security' },
  {
    alias: 'provider',
    name: 'Provider Network',
    description: 'Expose mapping of virtual networks to physical networks',
  },
  { alias: 'availability_zone', name: 'Availability Zone', description: 'The availability zone extension.' },
  {
    alias: 'network_availability_zone',
    name: 'Network Availability Zone',
    description: 'Availability zone support for network.',
  },
  {
    alias: 'router_availability_zone',
    name: 'Router Availability Zone',
    description: 'Availability zone support for router.',
  },
  { alias: 'net-mtu', name: 'Network MTU', description: 'Provides MTU attribute for a network resource.' },
  { alias: 'extraroute', name: 'Neutron Extra Route', description: 'Extra routes configuration for L3 router' },
  {
    alias: 'standard-attr-description',
    name: 'standard-attr-description',
    description: 'Extension to add descriptions to standard attributes',
  },
  {
    alias: 'standard-attr-timestamp',
    name: 'Resource timestamps',
    description:
      'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.',
  },
  {
    alias: 'project-id',
    name: 'project_id field enabled',
    description: 'Extension that indicates that project_id field is enabled.',
  },
  { alias: 'dhcp_agent_scheduler', name: 'DHCP Agent Scheduler', description: 'Schedule networks among dhcp agents' },
];

route('GET', '/', async (c) => {
  send(c.res, 200, {
    versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ href: `${base(c)}${PREFIX}/v2.0/`, rel: 'self' }] }],
  });
});
route('GET', '/v2.0', async (c) => {
  send(c.res, 200, {
    resources: RESOURCES.map(([name, collection]) => ({
      name,
      collection,
      links: [{ href: `${base(c)}${PREFIX}/v2.0/${collection}`, rel: 'self' }],
    })),
  });
});
const extJson = (e: (typeof EXTENSIONS)[number]) => ({ ...e, updated: '2013-01-20T00:00:00-00:00', links: [] });
api('GET', '/v2.0/extensions', async () => [200, { extensions: EXTENSIONS.map(extJson) }]);
api('GET', '/v2.0/extensions/:alias', async (c) => {
  const e = EXTENSIONS.find((x) => x.alias === p(c, 'alias'));
  if (!e)
    throw new net.StratusError('NotFound', `Extension with alias ${p(c, 'alias')} does not exist`, {
      type: 'ExtensionNotFound',
    });
  return [200, { extension: extJson(e) }];
});
api('GET', '/v2.0/availability_zones', async (c) => [
  200,
  listBody(c, 'availability_zones', [
    { name: 'nova', resource: 'network', state: 'available' },
    { name: 'nova', resource: 'router', state: 'available' },
  ]),
]);

// ---------------------------------------------------------------- networks

resource({
  path: '/v2.0/networks',
  key: 'network',
  list: async (c, ctx) => {
    const ext = c.url.searchParams.get('router:external');
    const rows = await net.listNetworks(ctx, {
      ids: values(c, 'id'),
      names: values(c, 'name'),
      projectId: c.url.searchParams.get('project_id') ?? c.url.searchParams.get('tenant_id') ?? undefined,
      external: ext === null ? undefined : ext.toLowerCase() === 'true',
    });
    return listBody(
      c,
      'networks',
      rows.map((n) => networkJson(n, admin(ctx))),
    );
  },
  create: async (c, ctx) => net.createNetwork(ctx, await body(c, 'network')),
  get: (ctx, id) => net.getNetwork(ctx, id),
  update: async (ctx, id, c) => net.updateNetwork(ctx, id, await body(c, 'network')),
  remove: (ctx, id) => net.deleteNetwork(ctx, id),
  show: (n, c, ctx) => fields(c, networkJson(n, admin(ctx))),
});

// ---------------------------------------------------------------- subnets

resource({
  path: '/v2.0/subnets',
  key: 'subnet',
  list: async (c, ctx) => {
    const rows = await net.listSubnets(ctx, {
      ids: values(c, 'id'),
      names: values(c, 'name'),
      networkIds: values(c, 'network_id'),
    });
    return listBody(c, 'subnets', rows.map(subnetJson));
  },
  create: async (c, ctx) => net.createSubnet(ctx, await body(c, 'subnet')),
  get: (ctx, id) => net.getSubnet(ctx, id),
  update: async (ctx, id, c) => net.updateSubnet(ctx, id, await body(c, 'subnet')),
  remove: (ctx, id) => net.deleteSubnet(ctx, id),
  show: (s, c) => fields(c, subnetJson(s)),
});

// ---------------------------------------------------------------- ports

resource({
  path: '/v2.0/ports',
  key: 'port',
  list: async (c, ctx) => {
    const rows = await net.listPorts(ctx, {
      ids: values(c, 'id'),
      names: values(c, 'name'),
      networkIds: values(c, 'network_id'),
      deviceIds: values(c, 'device_id'),
      deviceOwners: values(c, 'device_owner'),
    });
    return listBody(
      c,
      'ports',
      rows.map((r) => portJson(r, admin(ctx))),
    );
  },
  create: async (c, ctx) => net.createPort(ctx, await body(c, 'port')),
  get: (ctx, id) => net.getPort(ctx, id),
  update: async (ctx, id, c) => net.updatePort(ctx, id, await body(c, 'port')),
  remove: (ctx, id) => net.deletePort(ctx, id),
  show: (r, c, ctx) => fields(c, portJson(r, admin(ctx))),
});

// ---------------------------------------------------------------- routers

resource({
  path: '/v2.0/routers',
  key: 'router',
  list: async (c, ctx) =>
    listBody(
      c,
      'routers',
      (await net.listRouters(ctx, { ids: values(c, 'id'), names: values(c, 'name') })).map(routerJson),
    ),
  create: async (c, ctx) => net.createRouter(ctx, await body(c, 'router')),
  get: (ctx, id) => net.getRouter(ctx, id),
  update: async (ctx, id, c) => net.updateRouter(ctx, id, await body(c, 'router')),
  remove: (ctx, id) => net.deleteRouter(ctx, id),
  show: (r, c) => fields(c, routerJson(r)),
});
const IfaceIn = z.object({ subnet_id: z.string().optional(), port_id: z.string().optional() });
const ifaceJson = (i: net.InterfaceInfo) => ({
  id: i.id,
  subnet_id: i.subnetId,
  subnet_ids: i.subnetIds,
  port_id: i.portId,
  network_id: i.networkId,
  tenant_id: i.projectId,
  project_id: i.projectId,
});
for (const [verb, change] of [
  ['add', net.addRouterInterface],
  ['remove', net.removeRouterInterface],
] as const)
  api('PUT', `/v2.0/routers/:id/${verb}_router_interface`, async (c, ctx) => {
    const v = IfaceIn.parse(await readJson(c.req));
    return [200, ifaceJson(await change(ctx, p(c, 'id'), v))];
  });

// ---------------------------------------------------------------- floating IPs

resource({
  path: '/v2.0/floatingips',
  key: 'floatingip',
  list: async (c, ctx) => {
    const rows = await net.listFloatingIps(ctx, {
      ids: values(c, 'id'),
      addresses: values(c, 'floating_ip_address'),
      portIds: values(c, 'port_id'),
      routerIds: values(c, 'router_id'),
      networkIds: values(c, 'floating_network_id'),
    });
    return listBody(c, 'floatingips', rows.map(floatingIpJson));
  },
  create: async (c, ctx) => net.createFloatingIp(ctx, await body(c, 'floatingip')),
  get: (ctx, id) => net.getFloatingIp(ctx, id),
  update: async (ctx, id, c) => net.updateFloatingIp(ctx, id, await body(c, 'floatingip')),
  remove: (ctx, id) => net.deleteFloatingIp(ctx, id),
  show: (f, c) => fields(c, floatingIpJson(f)),
});

// ---------------------------------------------------------------- security groups

resource({
  path: '/v2.0/security-groups',
  key: 'security_group',
  list: async (c, ctx) =>
    listBody(
      c,
      'security_groups',
      (await net.listSecurityGroups(ctx, { ids: values(c, 'id'), names: values(c, 'name') })).map(securityGroupJson),
    ),
  create: async (c, ctx) => net.createSecurityGroup(ctx, await body(c, 'security_group')),
  get: (ctx, id) => net.getSecurityGroup(ctx, id),
  update: async (ctx, id, c) => {
    const v = z
      .object({ name: z.string().max(255).optional(), description: z.string().max(255).optional() })
      .parse(await body(c, 'security_group'));
    return net.updateSecurityGroup(ctx, id, v);
  },
  remove: (ctx, id) => net.deleteSecurityGroup(ctx, id),
  show: (g, c) => fields(c, securityGroupJson(g)),
});
resource({
  path: '/v2.0/security-group-rules',
  key: 'security_group_rule',
  list: async (c, ctx) =>
    listBody(
      c,
      'security_group_rules',
      (await net.listSecurityGroupRules(ctx, { ids: values(c, 'id') })).map(ruleJson),
    ),
  create: async (c, ctx) => net.createSecurityGroupRule(ctx, await body(c, 'security_group_rule')),
  get: (ctx, id) => net.getSecurityGroupRule(ctx, id),
  remove: (ctx, id) => net.deleteSecurityGroupRule(ctx, id),
  show: (r, c) => fields(c, ruleJson(r)),
});

// ---------------------------------------------------------------- quotas

api('GET', '/v2.0/quotas', async (_c, ctx) => {
  const rows = await net.listNetworkQuotas(ctx);
  return [200, { quotas: rows.map((r) => ({ ...r.quota, tenant_id: r.projectId, project_id: r.projectId })) }];
});
api('GET', '/v2.0/quotas/:project/details', async (c, ctx) => [
  200,
  { quota: await net.getNetworkQuotaDetails(ctx, p(c, 'project')) },
]);
api('GET', '/v2.0/quotas/:project/default', async () => [200, { quota: { ...net.NETWORK_QUOTA_DEFAULTS } }]);
api('GET', '/v2.0/quotas/:project', async (c, ctx) => [
  200,
  { quota: await net.getNetworkQuota(ctx, p(c, 'project')) },
]);
api('PUT', '/v2.0/quotas/:project', async (c, ctx) => {
  const raw = await body(c, 'quota');
  const parsed = net.NetworkQuotaUpdate.safeParse(raw);
  if (!parsed.success)
    throw new net.StratusError('BadRequest', `Invalid input for quota: ${parsed.error.issues[0]?.message}`, {
      type: 'HTTPBadRequest',
    });
  return [200, { quota: await net.updateNetworkQuota(ctx, p(c, 'project'), parsed.data) }];
});
api('DELETE', '/v2.0/quotas/:project', async (c, ctx) => {
  await net.deleteNetworkQuota(ctx, p(c, 'project'));
  return [204];
});

export const networkMount: RestMount = {
  prefix: PREFIX,
  handler: async (req, res, url) => {
    // Old clients append .json to paths (neutronclient); the SDK does not.
    if (url.pathname.endsWith('.json')) url.pathname = url.pathname.slice(0, -'.json'.length);
    return router.handler(req, res, url);
  },
};
