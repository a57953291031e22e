import * as net from '@stratus/core';
import { type AuthContext, can, isStratusError, loadConfig, logger } from '@stratus/core';
import { z } from 'zod';
import type { RestMount } from '../../http.ts';
import { createRouter, readJson, requestBase, requireAuth, type RouteContext, send, titleOf } from '../common.ts';
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

const router = createRouter({ prefix: PREFIX, render: (status, message) => neutronBody(status, message) });

function renderError(c: RouteContext, err: unknown): void {
  if (c.res.headersSent) {
    c.res.destroy();
    return;
  }
  if (isStratusError(err)) {
    const t = err.details?.type;
    // Neutron answers over-quota with 409 OverQuota; StratusError's QuotaExceeded is 413.
    const status = typeof t === 'string' && t === 'OverQuota' ? 409 : err.status;
    send(c.res, status, neutronBody(status, err.message, typeof t === 'string' ? t : undefined));
    return;
  }
  if (err instanceof z.ZodError) {
    send(c.res, 400, neutronBody(400, `Invalid input: ${err.issues[0]?.message ?? 'invalid'}`));
    return;
  }
  logger().error({ err }, 'unexpected error in the network API');
  send(c.res, 500, neutronBody(500, 'Request Failed: internal server error while processing your request.'));
}

const route = (method: string, pattern: string, handler: (c: RouteContext) => Promise<void>) =>
  router.add(method, pattern, async (c) => {
    try {
      await handler(c);
    } catch (err) {
      renderError(c, err);
    }
  });

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
function listAnswer(c: RouteContext, plural: string, items: Record<string, unknown>[]): void {
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
  const fields = values(c, 'fields');
  send(c.res, 200, {
    [plural]: out.map((i) => pick(i, fields)),
    ...(links.length ? { [`${plural}_links`]: links } : {}),
  });
}

function one(c: RouteContext, key: string, item: Record<string, unknown>, status = 200): void {
  send(c.res, status, { [key]: pick(item, values(c, 'fields')) });
}

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
route('GET', '/v2.0/extensions', async (c) => {
  await requireAuth(c.req);
  send(c.res, 200, { extensions: EXTENSIONS.map(extJson) });
});
route('GET', '/v2.0/extensions/:alias', async (c) => {
  await requireAuth(c.req);
  const e = EXTENSIONS.find((x) => x.alias === p(c, 'alias'));
  if (!e)
    throw new net.StratusError('NotFound', `Extension with alias ${p(c, 'alias')} does not exist`, {
      type: 'ExtensionNotFound',
    });
  send(c.res, 200, { extension: extJson(e) });
});
route('GET', '/v2.0/availability_zones', async (c) => {
  await requireAuth(c.req);
  listAnswer(c, 'availability_zones', [
    { name: 'nova', resource: 'network', state: 'available' },
    { name: 'nova', resource: 'router', state: 'available' },
  ]);
});

// ---------------------------------------------------------------- networks

route('GET', '/v2.0/networks', async (c) => {
  const ctx = await requireAuth(c.req);
  const ext = c.url.searchParams.get('router:external');
  const rows = await net.listNetworks(ctx, {
    ids: values(c, 'id'),
    names: values(c, 'name'),
    projectId: c.url.searchParams.get('project_id') ?? c.url.searchParams.get('tenant_id') ?? undefined,
    external: ext === null ? undefined : ext.toLowerCase() === 'true',
  });
  listAnswer(
    c,
    'networks',
    rows.map((n) => networkJson(n, admin(ctx))),
  );
});
route('POST', '/v2.0/networks', async (c) => {
  const ctx = await requireAuth(c.req);
  const n = await net.createNetwork(ctx, await body(c, 'network'));
  one(c, 'network', networkJson(n, admin(ctx)), 201);
});
route('GET', '/v2.0/networks/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'network', networkJson(await net.getNetwork(ctx, p(c, 'id')), admin(ctx)));
});
route('PUT', '/v2.0/networks/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'network', networkJson(await net.updateNetwork(ctx, p(c, 'id'), await body(c, 'network')), admin(ctx)));
});
route('DELETE', '/v2.0/networks/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await net.deleteNetwork(ctx, p(c, 'id'));
  send(c.res, 204);
});

// ---------------------------------------------------------------- subnets

route('GET', '/v2.0/subnets', async (c) => {
  const ctx = await requireAuth(c.req);
  const rows = await net.listSubnets(ctx, {
    ids: values(c, 'id'),
    names: values(c, 'name'),
    networkIds: values(c, 'network_id'),
  });
  listAnswer(c, 'subnets', rows.map(subnetJson));
});
route('POST', '/v2.0/subnets', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'subnet', subnetJson(await net.createSubnet(ctx, await body(c, 'subnet'))), 201);
});
route('GET', '/v2.0/subnets/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'subnet', subnetJson(await net.getSubnet(ctx, p(c, 'id'))));
});
route('PUT', '/v2.0/subnets/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'subnet', subnetJson(await net.updateSubnet(ctx, p(c, 'id'), await body(c, 'subnet'))));
});
route('DELETE', '/v2.0/subnets/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await net.deleteSubnet(ctx, p(c, 'id'));
  send(c.res, 204);
});

// ---------------------------------------------------------------- ports

route('GET', '/v2.0/ports', async (c) => {
  const ctx = await requireAuth(c.req);
  const rows = await net.listPorts(ctx, {
    ids: values(c, 'id'),
    names: values(c, 'name'),
    networkIds: values(c, 'network_id'),
    deviceIds: values(c, 'device_id'),
    deviceOwners: values(c, 'device_owner'),
  });
  listAnswer(
    c,
    'ports',
    rows.map((r) => portJson(r, admin(ctx))),
  );
});
route('POST', '/v2.0/ports', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'port', portJson(await net.createPort(ctx, await body(c, 'port')), admin(ctx)), 201);
});
route('GET', '/v2.0/ports/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'port', portJson(await net.getPort(ctx, p(c, 'id')), admin(ctx)));
});
route('PUT', '/v2.0/ports/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'port', portJson(await net.updatePort(ctx, p(c, 'id'), await body(c, 'port')), admin(ctx)));
});
route('DELETE', '/v2.0/ports/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await net.deletePort(ctx, p(c, 'id'));
  send(c.res, 204);
});

// ---------------------------------------------------------------- routers

route('GET', '/v2.0/routers', async (c) => {
  const ctx = await requireAuth(c.req);
  const rows = await net.listRouters(ctx, { ids: values(c, 'id'), names: values(c, 'name') });
  listAnswer(c, 'routers', rows.map(routerJson));
});
route('POST', '/v2.0/routers', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'router', routerJson(await net.createRouter(ctx, await body(c, 'router'))), 201);
});
route('GET', '/v2.0/routers/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'router', routerJson(await net.getRouter(ctx, p(c, 'id'))));
});
route('PUT', '/v2.0/routers/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'router', routerJson(await net.updateRouter(ctx, p(c, 'id'), await body(c, 'router'))));
});
route('DELETE', '/v2.0/routers/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await net.deleteRouter(ctx, p(c, 'id'));
  send(c.res, 204);
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
route('PUT', '/v2.0/routers/:id/add_router_interface', async (c) => {
  const ctx = await requireAuth(c.req);
  const v = IfaceIn.parse(await readJson(c.req));
  send(c.res, 200, ifaceJson(await net.addRouterInterface(ctx, p(c, 'id'), v)));
});
route('PUT', '/v2.0/routers/:id/remove_router_interface', async (c) => {
  const ctx = await requireAuth(c.req);
  const v = IfaceIn.parse(await readJson(c.req));
  send(c.res, 200, ifaceJson(await net.removeRouterInterface(ctx, p(c, 'id'), v)));
});

// ---------------------------------------------------------------- floating IPs

route('GET', '/v2.0/floatingips', async (c) => {
  const ctx = await requireAuth(c.req);
  const rows = await net.listFloatingIps(ctx, {
    ids: values(c, 'id'),
    addresses: values(c, 'floating_ip_address'),
    portIds: values(c, 'port_id'),
    routerIds: values(c, 'router_id'),
    networkIds: values(c, 'floating_network_id'),
  });
  listAnswer(c, 'floatingips', rows.map(floatingIpJson));
});
route('POST', '/v2.0/floatingips', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'floatingip', floatingIpJson(await net.createFloatingIp(ctx, await body(c, 'floatingip'))), 201);
});
route('GET', '/v2.0/floatingips/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'floatingip', floatingIpJson(await net.getFloatingIp(ctx, p(c, 'id'))));
});
route('PUT', '/v2.0/floatingips/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'floatingip', floatingIpJson(await net.updateFloatingIp(ctx, p(c, 'id'), await body(c, 'floatingip'))));
});
route('DELETE', '/v2.0/floatingips/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await net.deleteFloatingIp(ctx, p(c, 'id'));
  send(c.res, 204);
});

// ---------------------------------------------------------------- security groups

route('GET', '/v2.0/security-groups', async (c) => {
  const ctx = await requireAuth(c.req);
  const rows = await net.listSecurityGroups(ctx, { ids: values(c, 'id'), names: values(c, 'name') });
  listAnswer(c, 'security_groups', rows.map(securityGroupJson));
});
route('POST', '/v2.0/security-groups', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'security_group', securityGroupJson(await net.createSecurityGroup(ctx, await body(c, 'security_group'))), 201);
});
route('GET', '/v2.0/security-groups/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'security_group', securityGroupJson(await net.getSecurityGroup(ctx, p(c, 'id'))));
});
route('PUT', '/v2.0/security-groups/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  const v = z
    .object({ name: z.string().max(255).optional(), description: z.string().max(255).optional() })
    .parse(await body(c, 'security_group'));
  one(c, 'security_group', securityGroupJson(await net.updateSecurityGroup(ctx, p(c, 'id'), v)));
});
route('DELETE', '/v2.0/security-groups/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await net.deleteSecurityGroup(ctx, p(c, 'id'));
  send(c.res, 204);
});
route('GET', '/v2.0/security-group-rules', async (c) => {
  const ctx = await requireAuth(c.req);
  const rows = await net.listSecurityGroupRules(ctx, { ids: values(c, 'id') });
  listAnswer(c, 'security_group_rules', rows.map(ruleJson));
});
route('POST', '/v2.0/security-group-rules', async (c) => {
  const ctx = await requireAuth(c.req);
  const b = await body(c, 'security_group_rule');
  one(c, 'security_group_rule', ruleJson(await net.createSecurityGroupRule(ctx, b)), 201);
});
route('GET', '/v2.0/security-group-rules/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  one(c, 'security_group_rule', ruleJson(await net.getSecurityGroupRule(ctx, p(c, 'id'))));
});
route('DELETE', '/v2.0/security-group-rules/:id', async (c) => {
  const ctx = await requireAuth(c.req);
  await net.deleteSecurityGroupRule(ctx, p(c, 'id'));
  send(c.res, 204);
});

// ---------------------------------------------------------------- quotas

route('GET', '/v2.0/quotas', async (c) => {
  const ctx = await requireAuth(c.req);
  const rows = await net.listNetworkQuotas(ctx);
  send(c.res, 200, { quotas: rows.map((r) => ({ ...r.quota, tenant_id: r.projectId, project_id: r.projectId })) });
});
route('GET', '/v2.0/quotas/:project/details', async (c) => {
  const ctx = await requireAuth(c.req);
  send(c.res, 200, { quota: await net.getNetworkQuotaDetails(ctx, p(c, 'project')) });
});
route('GET', '/v2.0/quotas/:project/default', async (c) => {
  await requireAuth(c.req);
  send(c.res, 200, { quota: { ...net.NETWORK_QUOTA_DEFAULTS } });
});
route('GET', '/v2.0/quotas/:project', async (c) => {
  const ctx = await requireAuth(c.req);
  send(c.res, 200, { quota: await net.getNetworkQuota(ctx, p(c, 'project')) });
});
route('PUT', '/v2.0/quotas/:project', async (c) => {
  const ctx = await requireAuth(c.req);
  const raw = await body(c, 'quota');
  const parsed = net.NetworkQuotaUpdate.safeParse(raw);
  if (!parsed.success)
    throw new net.StratusError('BadRequest', `Invalid input for quota: ${parsed.error.issues[0]?.message}`, {
      type: 'HTTPBadRequest',
    });
  send(c.res, 200, { quota: await net.updateNetworkQuota(ctx, p(c, 'project'), parsed.data) });
});
route('DELETE', '/v2.0/quotas/:project', async (c) => {
  const ctx = await requireAuth(c.req);
  await net.deleteNetworkQuota(ctx, p(c, 'project'));
  send(c.res, 204);
});

export const networkMount: RestMount = {
  prefix: PREFIX,
  handler: async (req, res, url) => {
    // Old clients append .json to paths (neutronclient); the SDK does not.
    if (url.pathname.endsWith('.json')) url.pathname = url.pathname.slice(0, -'.json'.length);
    return router.handler(req, res, url);
  },
};
