import type { IncomingMessage, ServerResponse } from 'node:http';
import * as core from '@stratus/core';
import { type AuthContext, badRequest, isStratusError, loadConfig, StratusError } from '@stratus/core';
import { z } from 'zod';
import type { RestMount } from '../../http.ts';
import {
  authedRoutes,
  createRouter,
  faultRenderer,
  headerList,
  parseInput,
  queryBool,
  readJson,
  requestBase,
  requireAuth,
  type RouteContext,
  send,
  sendError,
} from '../common.ts';
import {
  atLeast,
  MAX_VERSION,
  MIN_VERSION,
  type Microversion,
  negotiate,
  versionHeaders,
  versionString,
} from './microversion.ts';
import {
  actionJson,
  flavorJson,
  keypairJson,
  type Links,
  serverGroupJson,
  serverJson,
  serverSummaryJson,
  type ServerView,
} from './shapes.ts';
import { registerAggregateRoutes } from './aggregates.ts';
import { registerMigrationRoutes } from './migrations.ts';
import { registerVolumeAttachmentRoutes } from './volume-attachments.ts';

/*
 * Nova v2.1 under /compute: a thin adapter. Each route negotiates the microversion,
 * parses its input, calls one core function (which enforces policy) and shapes the
 * answer as Nova does for that microversion.
 */
const PREFIX = '/compute';
const V = '/v2.1';

const novaError = faultRenderer({ 429: 'overLimit' });

function sendNovaError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // Quota: Nova answers 403 with the quota message.
  if (isStratusError(err) && err.code === 'QuotaExceeded' && err.details?.overLimit) {
    send(res, 403, { overLimit: { code: 403, message: err.message } });
    return;
  }
  sendError(res, err, novaError);
}

const router = createRouter({ prefix: PREFIX, render: novaError, onError: sendNovaError });

interface Ctx extends RouteContext {
  v: Microversion;
  links: Links;
}
const versions = new WeakMap<IncomingMessage, Microversion>();

type Handler = (c: Ctx) => Promise<void>;
/** Adds a route whose handler sees the negotiated microversion and the link roots. */
function route(method: string, pattern: string, h: Handler): void {
  router.add(method, pattern, (c) => {
    const v = versions.get(c.req) ?? { ...MIN_VERSION };
    const root = requestBase(c.req, loadConfig().publicUrl) + PREFIX;
    return h({ ...c, v, links: { root, base: root + V } });
  });
}

/** Routes whose handler gets the caller and returns [status, body]. */
const api = authedRoutes(route);

const q = (c: RouteContext, name: string) => c.url.searchParams.get(name) ?? undefined;
const p = (c: RouteContext, name: string) => c.params[name] ?? '';
function limitOf(c: RouteContext): number | undefined {
  const s = q(c, 'limit');
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0) throw badRequest(`Invalid input for query parameters limit. Value: ${s}.`);
  return n;
}
async function bodyOf(c: RouteContext, key: string): Promise<unknown> {
  const raw = await readJson(c.req);
  if (!(key in raw))
    throw badRequest(
      `Invalid input for field/attribute ${key}. Value: ${JSON.stringify(raw)}. '${key}' is a required property`,
    );
  return raw[key];
}
const ok = (c: RouteContext, status: number, body?: unknown) => send(c.res, status, body);
const lastSegment = (ref: string) => ref.replace(/\/+$/, '').split('/').pop() ?? ref;

// ---------------------------------------------------------------- versions

function versionDoc(root: string) {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: versionString(MAX_VERSION),
    min_version: versionString(MIN_VERSION),
    updated: '2013-07-23T11:33:21Z',
    links: [{ rel: 'self', href: `${root}/v2.1/` }],
  };
}
route('GET', '/', async (c) => ok(c, 200, { versions: [versionDoc(c.links.root)] }));
route('GET', V, async (c) =>
  ok(c, 200, {
    version: {
      ...versionDoc(c.links.root),
      links: [
        { rel: 'self', href: `${c.links.root}/v2.1/` },
        { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      ],
      'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
    },
  }),
);

// ---------------------------------------------------------------- flavors

const FlavorBody = z.object({
  name: z.string(),
  id: z.union([z.string(), z.number()]).nullish(),
  ram: z.union([z.number(), z.string()]),
  vcpus: z.union([z.number(), z.string()]),
  disk: z.union([z.number(), z.string()]),
  'OS-FLV-EXT-DATA:ephemeral': z.union([z.number(), z.string()]).optional(),
  swap: z.union([z.number(), z.string()]).optional(),
  rxtx_factor: z.union([z.number(), z.string()]).optional(),
  'os-flavor-access:is_public': z.union([z.boolean(), z.string()]).optional(),
  description: z.string().nullish(),
});
const boolish = (v: boolean | string | undefined) => (typeof v === 'string' ? queryBool(v) : v);

function flavorListOpts(c: Ctx): core.FlavorListOptions {
  const isPublic = q(c, 'is_public');
  const pub = isPublic === undefined ? undefined : isPublic.toLowerCase() === 'none' ? 'all' : queryBool(isPublic);
  const n = (name: string) => {
    const v = q(c, name);
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isInteger(x)) throw badRequest(`Invalid ${name} filter [${v}]`);
    return x;
  };
  const sortKey = q(c, 'sort_key');
  const keyMap: Record<string, core.FlavorListOptions['sortKey']> = {
    flavorid: 'id',
    id: 'id',
    name: 'name',
    vcpus: 'vcpus',
    memory_mb: 'ramMb',
    root_gb: 'diskGb',
    created_at: 'createdAt',
  };
  if (sortKey && !keyMap[sortKey]) throw badRequest(`Invalid sort key: ${sortKey}`);
  const dir = q(c, 'sort_dir');
  if (dir && dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort direction: ${dir}`);
  return {
    isPublic: pub,
    minRam: n('minRam'),
    minDisk: n('minDisk'),
    marker: q(c, 'marker'),
    limit: limitOf(c),
    sortKey: sortKey ? keyMap[sortKey] : undefined,
    sortDir: dir === 'desc' ? 'desc' : dir === 'asc' ? 'asc' : undefined,
  };
}

for (const detail of [false, true]) {
  api('GET', `${V}/flavors${detail ? '/detail' : ''}`, async (c, ctx) => {
    const flavors = await core.listFlavors(ctx, flavorListOpts(c));
    return [200, { flavors: flavors.map((f) => flavorJson(f, c.links, c.v, detail)) }];
  });
}
api('GET', `${V}/flavors/:id`, async (c, ctx) => {
  return [200, { flavor: flavorJson(await core.getFlavor(ctx, p(c, 'id')), c.links, c.v, true) }];
});
api('POST', `${V}/flavors`, async (c, ctx) => {
  const b = parseInput(FlavorBody, await bodyOf(c, 'flavor'));
  const num = (v: number | string | undefined) => (v === undefined ? undefined : Number(v));
  const f = await core.createFlavor(ctx, {
    id: b.id === null || b.id === undefined ? undefined : String(b.id),
    name: b.name,
    ramMb: Number(b.ram),
    vcpus: Number(b.vcpus),
    diskGb: Number(b.disk),
    ephemeralGb: num(b['OS-FLV-EXT-DATA:ephemeral']),
    swapMb: b.swap === '' ? 0 : num(b.swap),
    rxtxFactor: num(b.rxtx_factor),
    isPublic: boolish(b['os-flavor-access:is_public']) ?? true,
    description: atLeast(c.v, 55) ? b.description : undefined,
  });
  return [200, { flavor: flavorJson(f, c.links, c.v, true) }];
});
route('PUT', `${V}/flavors/:id`, async (c) => {
  if (!atLeast(c.v, 55)) throw new StratusError('NotFound', 'The resource could not be found.');
  const ctx = await requireAuth(c.req);
  const b = parseInput(z.object({ description: z.string().max(65535).nullable() }), await bodyOf(c, 'flavor'));
  ok(c, 200, { flavor: flavorJson(await core.updateFlavor(ctx, p(c, 'id'), b), c.links, c.v, true) });
});
api('DELETE', `${V}/flavors/:id`, async (c, ctx) => {
  await core.deleteFlavor(ctx, p(c, 'id'));
  return [202];
});
const accessJson = (rows: Array<{ flavorId: string; projectId: string }>) => ({
  flavor_access: rows.map((r) => ({ flavor_id: r.flavorId, tenant_id: r.projectId })),
});
api('GET', `${V}/flavors/:id/os-flavor-access`, async (c, ctx) => {
  return [200, accessJson(await core.listFlavorAccess(ctx, p(c, 'id')))];
});
api('POST', `${V}/flavors/:id/action`, async (c, ctx) => {
  const raw = await readJson(c.req);
  const T = z.object({ tenant: z.string().min(1) });
  if ('addTenantAccess' in raw)
    return [200, accessJson(await core.addFlavorAccess(ctx, p(c, 'id'), parseInput(T, raw.addTenantAccess).tenant))];
  if ('removeTenantAccess' in raw)
    return [
      200,
      accessJson(await core.removeFlavorAccess(ctx, p(c, 'id'), parseInput(T, raw.removeTenantAccess).tenant)),
    ];
  throw badRequest('Invalid flavor action.');
});
api('GET', `${V}/flavors/:id/os-extra_specs`, async (c, ctx) => {
  return [200, { extra_specs: await core.getExtraSpecs(ctx, p(c, 'id')) }];
});
api('POST', `${V}/flavors/:id/os-extra_specs`, async (c, ctx) => {
  const specs = parseInput(
    z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)),
    await bodyOf(c, 'extra_specs'),
  );
  return [200, { extra_specs: await core.setExtraSpecs(ctx, p(c, 'id'), specs) }];
});
api('GET', `${V}/flavors/:id/os-extra_specs/:key`, async (c, ctx) => {
  const specs = await core.getExtraSpecs(ctx, p(c, 'id'));
  const key = p(c, 'key');
  const value = specs[key];
  if (value === undefined)
    throw new StratusError('NotFound', `Flavor ${p(c, 'id')} has no extra specs with key ${key}.`);
  return [200, { [key]: value }];
});
api('PUT', `${V}/flavors/:id/os-extra_specs/:key`, async (c, ctx) => {
  const key = p(c, 'key');
  const raw = await readJson(c.req);
  const keys = Object.keys(raw);
  if (keys.length !== 1 || keys[0] !== key) throw badRequest('Request body and URI mismatch');
  const value = String(raw[key]);
  await core.setExtraSpecs(ctx, p(c, 'id'), { [key]: value });
  return [200, { [key]: value }];
});
api('DELETE', `${V}/flavors/:id/os-extra_specs/:key`, async (c, ctx) => {
  await core.deleteExtraSpec(ctx, p(c, 'id'), p(c, 'key'));
  return [200];
});

// ---------------------------------------------------------------- key pairs

api('GET', `${V}/os-keypairs`, async (c, ctx) => {
  const userId = atLeast(c.v, 10) ? q(c, 'user_id') : undefined;
  const list = await core.listKeyPairs(ctx, {
    userId,
    marker: atLeast(c.v, 35) ? q(c, 'marker') : undefined,
    limit: atLeast(c.v, 35) ? limitOf(c) : undefined,
  });
  return [200, { keypairs: list.map((k) => keypairJson(k, c.v, 'list')) }];
});
api('POST', `${V}/os-keypairs`, async (c, ctx) => {
  const b = parseInput(
    z.object({
      name: z.string(),
      public_key: z.string().optional(),
      type: z.enum(['ssh', 'x509']).optional(),
      user_id: z.string().optional(),
    }),
    await bodyOf(c, 'keypair'),
  );
  const k = await core.createKeyPair(ctx, {
    name: b.name,
    publicKey: b.public_key,
    type: atLeast(c.v, 2) ? b.type : undefined,
    userId: atLeast(c.v, 10) ? b.user_id : undefined,
  });
  return [atLeast(c.v, 2) ? 201 : 200, { keypair: keypairJson(k, c.v, 'create') }];
});
api('GET', `${V}/os-keypairs/:name`, async (c, ctx) => {
  const k = await core.getKeyPair(ctx, p(c, 'name'), { userId: atLeast(c.v, 10) ? q(c, 'user_id') : undefined });
  return [200, { keypair: keypairJson(k, c.v, 'show') }];
});
api('DELETE', `${V}/os-keypairs/:name`, async (c, ctx) => {
  await core.deleteKeyPair(ctx, p(c, 'name'), { userId: atLeast(c.v, 10) ? q(c, 'user_id') : undefined });
  return [atLeast(c.v, 2) ? 204 : 202];
});

// ---------------------------------------------------------------- servers

function view(c: Ctx, ctx: AuthContext): ServerView {
  return {
    version: c.v,
    links: c.links,
    admin: core.can(ctx, 'os_compute_api:os-extended-server-attributes'),
    instanceName: (id) => `stratus-${id}`,
  };
}

const SORT_KEYS = [
  'created_at',
  'updated_at',
  'display_name',
  'uuid',
  'vm_state',
  'task_state',
  'host',
  'launched_at',
] as const;
function serverListOpts(c: Ctx, detail: boolean): core.ServerListOptions {
  const changes = q(c, 'changes-since');
  let changesSince: Date | undefined;
  if (changes !== undefined) {
    changesSince = new Date(changes);
    if (Number.isNaN(changesSince.getTime()))
      throw badRequest(`Invalid input for query parameters changes-since. Value: ${changes}.`);
  }
  const sortKey = q(c, 'sort_key');
  if (sortKey && !(SORT_KEYS as readonly string[]).includes(sortKey))
    throw badRequest(`Invalid input for query parameters sort_key. Value: ${sortKey}.`);
  const sortDir = q(c, 'sort_dir');
  if (sortDir && sortDir !== 'asc' && sortDir !== 'desc')
    throw badRequest(`Invalid input for query parameters sort_dir. Value: ${sortDir}.`);
  const allTenants =
    c.url.searchParams.has('all_tenants') &&
    (q(c, 'all_tenants') === '' || queryBool(q(c, 'all_tenants') ?? '') === true);
  return {
    detail,
    allTenants,
    projectId: q(c, 'project_id') ?? q(c, 'tenant_id'),
    userId: q(c, 'user_id'),
    name: q(c, 'name'),
    status: q(c, 'status'),
    flavorId: q(c, 'flavor') ? lastSegment(q(c, 'flavor') ?? '') : undefined,
    imageId: q(c, 'image') ? lastSegment(q(c, 'image') ?? '') : undefined,
    host: q(c, 'host'),
    changesSince,
    reservationId: q(c, 'reservation_id'),
    deleted: queryBool(q(c, 'deleted') ?? null) ?? undefined,
    marker: q(c, 'marker'),
    limit: limitOf(c),
    sortKey: sortKey as core.ServerListOptions['sortKey'],
    sortDir: sortDir === 'asc' || sortDir === 'desc' ? sortDir : undefined,
  };
}

for (const detail of [false, true]) {
  api('GET', `${V}/servers${detail ? '/detail' : ''}`, async (c, ctx) => {
    const o = serverListOpts(c, detail);
    const vw = view(c, ctx);
    const full = detail ? await core.listServersWithAddresses(ctx, o) : null;
    const list = full ?? (await core.listServers(ctx, o));
    const body: Record<string, unknown> = {
      servers: full ? full.map((s) => serverJson(s, vw)) : list.map((s) => serverSummaryJson(s, vw)),
    };
    const last = list[list.length - 1];
    if (o.limit !== undefined && list.length === o.limit && last) {
      const next = new URL(c.url.toString());
      next.searchParams.set('marker', last.id);
      body.servers_links = [
        { rel: 'next', href: `${c.links.base}/servers${detail ? '/detail' : ''}?${next.searchParams.toString()}` },
      ];
    }
    return [200, body];
  });
}

const ServerBody = z.object({
  name: z.string(),
  imageRef: z.string().optional(),
  flavorRef: z.union([z.string(), z.number()]).transform(String),
  key_name: z.string().nullish(),
  min_count: z.union([z.number(), z.string()]).optional(),
  max_count: z.union([z.number(), z.string()]).optional(),
  user_data: z.string().nullish(),
  metadata: z.record(z.string(), z.string()).optional(),
  availability_zone: z.string().nullish(),
  networks: z
    .union([
      z.literal('none'),
      z.literal('auto'),
      z.array(
        z.object({ uuid: z.string().optional(), port: z.string().optional(), fixed_ip: z.string().optional() }).loose(),
      ),
    ])
    .optional(),
  accessIPv4: z.string().nullish(),
  accessIPv6: z.string().nullish(),
  return_reservation_id: z.union([z.boolean(), z.string()]).optional(),
  block_device_mapping_v2: z.array(z.unknown()).optional(),
});

api('POST', `${V}/servers`, async (c, ctx) => {
  const raw = await readJson(c.req);
  if (!('server' in raw)) throw badRequest(`Invalid input for field/attribute server. 'server' is a required property`);
  const b = parseInput(ServerBody.loose(), raw.server);
  if (atLeast(c.v, 37) && b.networks === undefined)
    throw badRequest(
      `Invalid input for field/attribute networks. 'networks' is a required property (microversion ≥ 2.37).`,
    );
  const hints = raw['os:scheduler_hints'] ?? raw['OS-SCH-HNT:scheduler_hints'];
  const group =
    hints && typeof hints === 'object' && 'group' in hints ? String((hints as { group: unknown }).group) : undefined;
  const r = await core.createServers(ctx, {
    name: b.name,
    imageRef: b.imageRef ? lastSegment(b.imageRef) : '',
    flavorRef: lastSegment(b.flavorRef),
    keyName: b.key_name ?? null,
    minCount: b.min_count === undefined ? 1 : Number(b.min_count),
    maxCount: b.max_count === undefined ? undefined : Number(b.max_count),
    userData: b.user_data ?? null,
    metadata: b.metadata,
    availabilityZone: b.availability_zone ?? null,
    networks: b.networks,
    accessIpV4: b.accessIPv4 || null,
    accessIpV6: b.accessIPv6 || null,
    serverGroupId: group,
    ...(b.block_device_mapping_v2?.length ? { blockDeviceMapping: b.block_device_mapping_v2 } : {}),
  });
  if (b.return_reservation_id === true || b.return_reservation_id === 'True' || b.return_reservation_id === 'true') {
    return [202, { reservation_id: r.reservationId }];
  }
  const first = r.servers[0];
  if (!first) throw new Error('no server created');
  return [
    202,
    {
      server: {
        id: first.id,
        links: serverSummaryJson(first, view(c, ctx)).links,
        'OS-DCF:diskConfig': 'MANUAL',
        security_groups: [{ name: 'default' }],
        adminPass: r.adminPass,
      },
    },
  ];
});

api('GET', `${V}/servers/:id`, async (c, ctx) => {
  const s = await core.showServer(ctx, p(c, 'id'));
  return [200, { server: serverJson(s, view(c, ctx)) }];
});
api('PUT', `${V}/servers/:id`, async (c, ctx) => {
  const b = parseInput(
    z
      .object({ name: z.string().optional(), accessIPv4: z.string().optional(), accessIPv6: z.string().optional() })
      .loose(),
    await bodyOf(c, 'server'),
  );
  const s = await core.updateServerAttrs(ctx, p(c, 'id'), {
    name: b.name,
    accessIpV4: b.accessIPv4,
    accessIpV6: b.accessIPv6,
  });
  return [200, { server: serverJson(s, view(c, ctx)) }];
});
api('DELETE', `${V}/servers/:id`, async (c, ctx) => {
  await core.deleteServer(ctx, p(c, 'id'));
  return [204];
});

const SIMPLE_ACTIONS: Record<string, core.PowerOp> = {
  'os-stop': 'stop',
  'os-start': 'start',
  pause: 'pause',
  unpause: 'unpause',
  suspend: 'suspend',
  resume: 'resume',
};
api('POST', `${V}/servers/:id/action`, async (c, ctx) => {
  const raw = await readJson(c.req);
  const [name, ...rest] = Object.keys(raw);
  if (!name || rest.length > 0) throw badRequest('There is no such action: the body must name exactly one action.');
  const arg = raw[name];
  const id = p(c, 'id');
  const simple = SIMPLE_ACTIONS[name];
  if (simple) {
    await core.serverPowerAction(ctx, id, simple);
    return [202];
  }
  switch (name) {
    case 'reboot': {
      const b = parseInput(
        z.object({
          type: z
            .string()
            .transform((s) => s.toUpperCase())
            .pipe(z.enum(['SOFT', 'HARD'])),
        }),
        arg,
      );
      await core.serverPowerAction(ctx, id, b.type === 'HARD' ? 'reboot_hard' : 'reboot_soft');
      return [202];
    }
    case 'rebuild': {
      const b = parseInput(
        z.object({
          imageRef: z.string().min(1),
          name: z.string().optional(),
          metadata: z.record(z.string(), z.string()).optional(),
          adminPass: z.string().optional(),
          preserve_ephemeral: z.boolean().optional(),
          description: z.string().nullish(),
          key_name: z.string().nullish(),
          user_data: z.string().nullish(),
          trusted_image_certificates: z.array(z.string()).nullish(),
          hostname: z.string().optional(),
          accessIPv4: z.string().optional(),
          accessIPv6: z.string().optional(),
          'OS-DCF:diskConfig': z.string().optional(),
          personality: z.array(z.unknown()).optional(),
        }),
        arg,
      );
      await core.rebuildServer(ctx, id, {
        imageRef: lastSegment(b.imageRef),
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
      });
      const s = await core.showServer(ctx, id);
      return [202, { server: serverJson(s, view(c, ctx)) }];
    }
    case 'resize': {
      const b = parseInput(z.object({ flavorRef: z.union([z.string().min(1), z.number()]) }).passthrough(), arg);
      await core.resizeServer(ctx, id, lastSegment(String(b.flavorRef)));
      return [202];
    }
    case 'migrate': {
      // {"migrate": null}; from 2.56 {"migrate": {"host": "name" | null}} (admin: os-migrate-server).
      // Before 2.56 Nova reads no body, so none is validated.
      const b = atLeast(c.v, 56)
        ? parseInput(
            z
              .object({ host: z.string().min(1).max(255).nullish() })
              .strict()
              .nullable(),
            arg ?? null,
          )
        : null;
      await core.migrateServer(ctx, id, { host: b?.host ?? null });
      return [202];
    }
    case 'confirmResize':
      await core.confirmResize(ctx, id);
      return [204];
    case 'revertResize':
      await core.revertResize(ctx, id);
      return [202];
    case 'lock': {
      const reason =
        arg && typeof arg === 'object' && 'locked_reason' in arg && atLeast(c.v, 73)
          ? String((arg as { locked_reason: unknown }).locked_reason)
          : undefined;
      await core.lockServerAction(ctx, id, true, reason);
      return [202];
    }
    case 'unlock':
      await core.lockServerAction(ctx, id, false);
      return [202];
    case 'os-getConsoleOutput': {
      const b = parseInput(
        z
          .object({
            length: z
              .union([
                z.number().int(),
                z
                  .string()
                  .regex(/^-?\d+$/)
                  .transform(Number),
              ])
              .nullish(),
          })
          .nullish(),
        arg,
      );
      const length = b?.length ?? undefined;
      const output = await core.getConsoleOutput(ctx, id, length === undefined || length < 0 ? undefined : length);
      return [200, { output }];
    }
    case 'os-getVNCConsole':
    case 'os-getSerialConsole': {
      const b = parseInput(z.object({ type: z.string() }), arg);
      const protocol = name === 'os-getVNCConsole' ? 'vnc' : 'serial';
      const con = await core.createConsole(ctx, { serverId: id, protocol, type: b.type });
      return [200, { console: { type: con.type, url: con.url } }];
    }
    case 'os-getSPICEConsole':
    case 'os-getRDPConsole':
      throw badRequest('Unavailable console type spice.');
    default:
      throw badRequest(`There is no such action: ${name}`);
  }
});

route('POST', `${V}/servers/:id/remote-consoles`, async (c) => {
  if (!atLeast(c.v, 6)) throw new StratusError('NotFound', 'The resource could not be found.');
  const ctx = await requireAuth(c.req);
  const b = parseInput(z.object({ protocol: z.string(), type: z.string() }), await bodyOf(c, 'remote_console'));
  const con = await core.createConsole(ctx, { serverId: p(c, 'id'), protocol: b.protocol, type: b.type });
  ok(c, 200, { remote_console: { protocol: con.protocol, type: con.type, url: con.url } });
});

api('GET', `${V}/servers/:id/metadata`, async (c, ctx) => {
  return [200, { metadata: await core.getServerMetadata(ctx, p(c, 'id')) }];
});
const MetaBody = z.record(z.string(), z.string());
api('POST', `${V}/servers/:id/metadata`, async (c, ctx) => {
  return [
    200,
    {
      metadata: await core.setServerMetadata(ctx, p(c, 'id'), parseInput(MetaBody, await bodyOf(c, 'metadata'))),
    },
  ];
});
api('PUT', `${V}/servers/:id/metadata`, async (c, ctx) => {
  return [
    200,
    {
      metadata: await core.setServerMetadata(ctx, p(c, 'id'), parseInput(MetaBody, await bodyOf(c, 'metadata')), {
        replace: true,
      }),
    },
  ];
});
api('GET', `${V}/servers/:id/metadata/:key`, async (c, ctx) => {
  const md = await core.getServerMetadata(ctx, p(c, 'id'));
  const v = md[p(c, 'key')];
  if (v === undefined) throw new StratusError('NotFound', 'Metadata item was not found');
  return [200, { meta: { [p(c, 'key')]: v } }];
});
api('PUT', `${V}/servers/:id/metadata/:key`, async (c, ctx) => {
  const meta = parseInput(MetaBody, await bodyOf(c, 'meta'));
  const keys = Object.keys(meta);
  if (keys.length !== 1 || keys[0] !== p(c, 'key')) throw badRequest('Request body and URI mismatch');
  await core.setServerMetadata(ctx, p(c, 'id'), meta);
  return [200, { meta }];
});
api('DELETE', `${V}/servers/:id/metadata/:key`, async (c, ctx) => {
  await core.deleteServerMetadataItem(ctx, p(c, 'id'), p(c, 'key'));
  return [204];
});

api('GET', `${V}/servers/:id/os-instance-actions`, async (c, ctx) => {
  const list = await core.listInstanceActions(ctx, p(c, 'id'));
  return [200, { instanceActions: list.map((a) => actionJson(a, c.v)) }];
});
api('GET', `${V}/servers/:id/os-instance-actions/:req`, async (c, ctx) => {
  return [200, { instanceAction: actionJson(await core.getInstanceAction(ctx, p(c, 'id'), p(c, 'req')), c.v) }];
});

// ---------------------------------------------------------------- limits, quotas, zones

api('GET', `${V}/limits`, async (c, ctx) => {
  const absolute = await core.getLimits(ctx, { projectId: q(c, 'tenant_id') });
  return [200, { limits: { rate: [], absolute } }];
});

const quotaJson = (projectId: string, qs: Record<string, unknown>) => ({
  quota_set: {
    id: projectId,
    ...qs,
    fixed_ips: -1,
    floating_ips: -1,
    security_groups: -1,
    security_group_rules: -1,
    injected_files: 5,
    injected_file_content_bytes: 10240,
    injected_file_path_bytes: 255,
  },
});
api('GET', `${V}/os-quota-sets/:project`, async (c, ctx) => {
  return [200, quotaJson(p(c, 'project'), await core.showQuotas(ctx, p(c, 'project')))];
});
api('GET', `${V}/os-quota-sets/:project/detail`, async (c, ctx) => {
  return [200, { quota_set: { id: p(c, 'project'), ...(await core.showQuotaDetail(ctx, p(c, 'project'))) } }];
});
api('GET', `${V}/os-quota-sets/:project/defaults`, async (c, ctx) => {
  return [200, quotaJson(p(c, 'project'), core.showDefaultQuotas(ctx))];
});
api('PUT', `${V}/os-quota-sets/:project`, async (c, ctx) => {
  const b = parseInput(z.record(z.string(), z.unknown()), await bodyOf(c, 'quota_set'));
  const qs = await core.updateQuotas(ctx, p(c, 'project'), b);
  const { quota_set } = quotaJson(p(c, 'project'), qs);
  const { id: _id, ...rest } = quota_set;
  return [200, { quota_set: rest }];
});
api('DELETE', `${V}/os-quota-sets/:project`, async (c, ctx) => {
  await core.revertQuotas(ctx, p(c, 'project'));
  return [202];
});

for (const detail of [false, true]) {
  api('GET', `${V}/os-availability-zone${detail ? '/detail' : ''}`, async (_c, ctx) => {
    const zones = await core.listAvailabilityZones(ctx, { detail });
    return [
      200,
      {
        availabilityZoneInfo: zones.map((z) => ({
          zoneName: z.zoneName,
          zoneState: { available: z.available },
          hosts: z.services
            ? Object.fromEntries(
                Object.entries(z.services).map(([host, services]) => [
                  host,
                  Object.fromEntries(
                    services.map((s) => [
                      s.binary,
                      { available: s.available, active: s.active, updated_at: s.updatedAt.toISOString() },
                    ]),
                  ),
                ]),
              )
            : null,
        })),
      },
    ];
  });
}

// ---------------------------------------------------------------- hypervisors, services

function hypervisorJson(h: core.Hypervisor, detail: boolean, v: Microversion) {
  const n = h.node;
  const out: Record<string, unknown> = {
    id: atLeast(v, 53) ? n.id : Number.parseInt(n.id.replace(/-/g, '').slice(0, 7), 16),
    hypervisor_hostname: n.hypervisorHostname,
    state: h.state,
    status: h.status,
  };
  if (!detail) return out;
  Object.assign(out, {
    hypervisor_type: n.hypervisorType,
    hypervisor_version:
      Number(n.hypervisorVersion.split('.').reduce((a, x, i) => a + Number(x) * 1000 ** (2 - i), 0)) || 0,
    host_ip: n.hostIp,
    vcpus: n.vcpus,
    vcpus_used: n.vcpusUsed,
    memory_mb: n.memoryMb,
    memory_mb_used: n.memoryMbUsed,
    free_ram_mb: n.memoryMb - n.memoryMbUsed,
    local_gb: n.localGb,
    local_gb_used: n.localGbUsed,
    free_disk_gb: n.localGb - n.localGbUsed,
    disk_available_least: n.localGb - n.localGbUsed,
    running_vms: n.runningVms,
    current_workload: 0,
    cpu_info: n.cpuInfo,
    service: { host: n.host, id: atLeast(v, 53) ? h.serviceId : 1, disabled_reason: h.disabledReason },
  });
  return out;
}
for (const detail of [false, true]) {
  api('GET', `${V}/os-hypervisors${detail ? '/detail' : ''}`, async (c, ctx) => {
    const list = await core.listHypervisors(ctx, {
      detail,
      hostPattern: atLeast(c.v, 53) ? q(c, 'hypervisor_hostname_pattern') : undefined,
    });
    return [200, { hypervisors: list.map((h) => hypervisorJson(h, detail, c.v)) }];
  });
}
api('GET', `${V}/os-hypervisors/statistics`, async (_c, ctx) => {
  return [200, { hypervisor_statistics: await core.hypervisorStatistics(ctx) }];
});
api('GET', `${V}/os-hypervisors/:id`, async (c, ctx) => {
  return [200, { hypervisor: hypervisorJson(await core.getHypervisor(ctx, p(c, 'id')), true, c.v) }];
});

function serviceJson(s: core.ComputeService, v: Microversion) {
  return {
    id: atLeast(v, 53) ? s.id : Number.parseInt(s.id.replace(/-/g, '').slice(0, 7), 16),
    binary: s.binary,
    host: s.host,
    zone: s.zone,
    status: s.status,
    state: s.state,
    updated_at: isoMicro6(s.updatedAt),
    disabled_reason: s.disabledReason,
    ...(atLeast(v, 11) ? { forced_down: s.forcedDown } : {}),
  };
}
const isoMicro6 = (d: Date) => `${d.toISOString().slice(0, 23)}000`;
api('GET', `${V}/os-services`, async (c, ctx) => {
  const list = await core.listComputeServices(ctx, { host: q(c, 'host'), binary: q(c, 'binary') });
  return [200, { services: list.map((s) => serviceJson(s, c.v)) }];
});
for (const verb of ['enable', 'disable', 'disable-log-reason'] as const) {
  route('PUT', `${V}/os-services/${verb}`, async (c) => {
    if (atLeast(c.v, 53)) throw new StratusError('NotFound', 'The resource could not be found.');
    const ctx = await requireAuth(c.req);
    const b = parseInput(
      z.object({ host: z.string(), binary: z.string(), disabled_reason: z.string().optional() }),
      await readJson(c.req),
    );
    const s = await core.setComputeServiceStatus(
      ctx,
      { host: b.host },
      { disabled: verb !== 'enable', reason: b.disabled_reason },
    );
    ok(c, 200, {
      service: {
        host: s.host,
        binary: b.binary,
        status: s.status,
        ...(verb === 'disable-log-reason' ? { disabled_reason: s.disabledReason } : {}),
      },
    });
  });
}
// 2.11 – 2.52: forced_down by host and binary (2.53 moved it into PUT /os-services/{id}).
route('PUT', `${V}/os-services/force-down`, async (c) => {
  if (!atLeast(c.v, 11) || atLeast(c.v, 53)) throw new StratusError('NotFound', 'The resource could not be found.');
  const ctx = await requireAuth(c.req);
  const b = parseInput(
    z.object({ host: z.string().min(1), binary: z.string().min(1), forced_down: z.boolean() }).strict(),
    await readJson(c.req),
  );
  const s = await core.setComputeServiceForcedDown(ctx, { host: b.host, binary: b.binary }, b.forced_down);
  ok(c, 200, { service: { host: s.host, binary: b.binary, forced_down: s.forcedDown } });
});
route('PUT', `${V}/os-services/:id`, async (c) => {
  if (!atLeast(c.v, 53)) throw new StratusError('NotFound', 'The resource could not be found.');
  const ctx = await requireAuth(c.req);
  const b = parseInput(
    z
      .object({
        status: z.enum(['enabled', 'disabled']).optional(),
        disabled_reason: z.string().min(1).max(255).optional(),
        forced_down: z.boolean().optional(),
      })
      .strict(),
    await readJson(c.req),
  );
  const s = await core.updateComputeService(
    ctx,
    { id: p(c, 'id') },
    {
      ...(b.status ? { disabled: b.status === 'disabled' } : {}),
      reason: b.disabled_reason ?? null,
      ...(b.forced_down !== undefined ? { forcedDown: b.forced_down } : {}),
    },
  );
  ok(c, 200, { service: serviceJson(s, c.v) });
});

// ---------------------------------------------------------------- server groups

api('GET', `${V}/os-server-groups`, async (c, ctx) => {
  const all = queryBool(q(c, 'all_projects') ?? null) === true;
  const list = await core.listServerGroups(ctx, { allProjects: all });
  return [200, { server_groups: list.map((g) => serverGroupJson(g, c.v)) }];
});
api('POST', `${V}/os-server-groups`, async (c, ctx) => {
  const b = parseInput(
    z.object({
      name: z.string(),
      policies: z.array(z.string()).length(1).optional(),
      policy: z.string().optional(),
      rules: z.record(z.string(), z.unknown()).optional(),
    }),
    await bodyOf(c, 'server_group'),
  );
  const policy = atLeast(c.v, 64) ? b.policy : b.policies?.[0];
  if (!policy) throw badRequest("Invalid input for field/attribute server_group. 'policies' is a required property");
  return [200, { server_group: serverGroupJson(await core.createServerGroup(ctx, { name: b.name, policy }), c.v) }];
});
api('GET', `${V}/os-server-groups/:id`, async (c, ctx) => {
  return [200, { server_group: serverGroupJson(await core.getServerGroup(ctx, p(c, 'id')), c.v) }];
});
api('DELETE', `${V}/os-server-groups/:id`, async (c, ctx) => {
  await core.deleteServerGroup(ctx, p(c, 'id'));
  return [204];
});

registerVolumeAttachmentRoutes(route, V);
registerAggregateRoutes(route, V);
registerMigrationRoutes(route, V);

// ---------------------------------------------------------------- mount

export const computeMount: RestMount = {
  prefix: PREFIX,
  handler: async (req, res, url) => {
    const n = negotiate({
      openstack: headerList(req, 'openstack-api-version'),
      legacy: headerList(req, 'x-openstack-nova-api-version'),
    });
    if (!n.ok) {
      // 406 names the supported range in both version headers' style.
      send(res, n.status, novaError(n.status, n.message), {
        vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
      });
      return true;
    }
    for (const [k, v] of Object.entries(versionHeaders(n.version))) res.setHeader(k, v);
    versions.set(req, n.version);
    return router.handler(req, res, url);
  },
};
