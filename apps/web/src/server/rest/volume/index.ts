import type { IncomingMessage } from 'node:http';
import * as core from '@stratus/core';
import { type AuthContext, badRequest, can, loadConfig } from '@stratus/core';
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
  resourceRoutes,
  type RouteContext,
  send,
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
  backupJson,
  snapshotJson,
  transferJson,
  typeJson,
  type View,
  volumeJson,
  volumeSummaryJson,
} from './shapes.ts';

/*
 * Cinder v3 under /volume: a thin adapter. Each route negotiates the microversion,
 * parses its input, calls one core function (which enforces policy and Cinder's rules)
 * and shapes the answer. Errors are Cinder's {"badRequest": {"message", "code"}} etc.;
 * quota is 413 overLimit.
 */
const PREFIX = '/volume';
const V3 = '/v3/:project';

export const cinderError = faultRenderer();

const router = createRouter({ prefix: PREFIX, render: cinderError });
const versions = new WeakMap<IncomingMessage, Microversion>();

interface Ctx extends RouteContext {
  v: Microversion;
  root: string;
}
type Handler = (c: Ctx) => Promise<void>;
/** Adds a route whose handler sees the negotiated microversion and the service root. */
function route(method: string, pattern: string, h: Handler): void {
  router.add(method, pattern, (c) => {
    const v = versions.get(c.req) ?? { ...MIN_VERSION };
    return h({ ...c, v, root: requestBase(c.req, loadConfig().publicUrl) + PREFIX });
  });
}

const q = (c: RouteContext, name: string) => c.url.searchParams.get(name) ?? undefined;
const p = (c: RouteContext, name: string) => c.params[name] ?? '';
const ok = (c: RouteContext, status: number, body?: unknown) => send(c.res, status, body);
const flag = (c: RouteContext, name: string) => queryBool(q(c, name) ?? null) ?? false;

/** The caller, whose project must be the one in the URL (Cinder's project mapper). */
async function auth(c: Ctx): Promise<AuthContext> {
  const ctx = await requireAuth(c.req);
  const project = p(c, 'project');
  if (ctx.projectId !== project)
    throw badRequest(
      `Malformed request url: URL's project_id '${project}' doesn't match Context's project_id '${ctx.projectId ?? ''}'`,
    );
  return ctx;
}

/** Routes whose handler gets the caller (project checked) and returns [status, body]. */
const api = authedRoutes(route, auth);
/** A resource's create, show, update and delete, as Cinder answers them. */
const resource = resourceRoutes(route, { created: 202, update: 'PUT', removed: 202, auth });

function view(c: Ctx, ctx: AuthContext): View {
  const project = p(c, 'project');
  return {
    v: c.v,
    base: `${c.root}/v3/${project}`,
    root: `${c.root}/${project}`,
    admin: can(ctx, 'admin_required'),
    canSeeTenant: can(ctx, 'volume_extension:volume_tenant_attribute', { project_id: ctx.projectId ?? '' }),
  };
}

async function bodyOf(c: RouteContext, key: string): Promise<Record<string, unknown>> {
  const raw = await readJson(c.req);
  const v = raw[key];
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw badRequest(`Missing required element '${key}' in request body.`);
  return Object.fromEntries(Object.entries(v));
}

function limitOf(c: RouteContext): number | undefined {
  const s = q(c, 'limit');
  if (s === undefined) return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0)
    throw badRequest(`Invalid input received: limit must be a non-negative integer (${s}).`);
  return n;
}

const boolish = z.union([z.boolean(), z.string()]).transform((v, zc) => {
  if (typeof v === 'boolean') return v;
  const s = v.toLowerCase();
  if (['true', '1', 'yes', 'on', 't', 'y'].includes(s)) return true;
  if (['false', '0', 'no', 'off', 'f', 'n'].includes(s)) return false;
  zc.addIssue({ code: 'custom', message: `Invalid value '${v}' for boolean.` });
  return z.NEVER;
});

function nextLink(c: Ctx, vw: View, kind: string, items: Array<{ id: string }>, limit: number | undefined) {
  const last = items[items.length - 1];
  if (limit === undefined || items.length < limit || !last) return undefined;
  const next = new URL(c.url.toString());
  next.searchParams.set('marker', last.id);
  return [{ rel: 'next', href: `${vw.base}/${kind}?${next.searchParams.toString()}` }];
}

/** GET, POST (merge) and PUT (replace) of `${path}/:id/metadata`. */
function metadataRoutes(
  path: string,
  get: (ctx: AuthContext, id: string) => Promise<Record<string, string>>,
  set: (
    ctx: AuthContext,
    id: string,
    md: Record<string, string>,
    o: { replace: boolean },
  ) => Promise<Record<string, string>>,
): void {
  api('GET', `${path}/:id/metadata`, async (c, ctx) => [200, { metadata: await get(ctx, p(c, 'id')) }]);
  for (const [method, replace] of [
    ['POST', false],
    ['PUT', true],
  ] as const) {
    api(method, `${path}/:id/metadata`, async (c, ctx) => {
      const raw = await readJson(c.req);
      const md = parseInput(z.record(z.string(), z.string()), raw.metadata ?? {});
      return [200, { metadata: await set(ctx, p(c, 'id'), md, { replace }) }];
    });
  }
}

/**
 * GET `${V3}/${kind}` and `${kind}/detail` (before `${kind}/:id`): the items, and a next
 * link when the page is full.
 */
function listRoutes<T extends { id: string }>(
  kind: string,
  load: (ctx: AuthContext, c: Ctx) => Promise<T[]>,
  json: (item: T, vw: View, detail: boolean) => unknown,
  extra: (c: Ctx, list: T[]) => Record<string, unknown> = () => ({}),
): void {
  for (const detail of [false, true]) {
    const path = `${kind}${detail ? '/detail' : ''}`;
    api('GET', `${V3}/${path}`, async (c, ctx) => {
      const vw = view(c, ctx);
      const list = await load(ctx, c);
      const body: Record<string, unknown> = { [kind]: list.map((x) => json(x, vw, detail)) };
      const next = nextLink(c, vw, path, list, limitOf(c));
      if (next) body[`${kind}_links`] = next;
      return [200, { ...body, ...extra(c, list) }];
    });
  }
}

/** The filters snapshot and backup lists share. */
const childFilters = (c: Ctx) => ({
  allTenants: flag(c, 'all_tenants'),
  projectId: q(c, 'project_id'),
  volumeId: q(c, 'volume_id'),
  name: q(c, 'name'),
  status: q(c, 'status'),
  marker: q(c, 'marker'),
  limit: limitOf(c),
});

// ---------------------------------------------------------------- versions

function versionDoc(root: string) {
  return {
    id: 'v3.0',
    status: 'CURRENT',
    version: versionString(MAX_VERSION),
    min_version: versionString(MIN_VERSION),
    updated: '2023-08-31T00:00:00Z',
    links: [
      { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' },
      { rel: 'self', href: `${root}/v3/` },
    ],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.volume+json;version=3' }],
  };
}
route('GET', '/', async (c) => ok(c, 300, { versions: [versionDoc(c.root)] }));
route('GET', '/v3', async (c) => ok(c, 200, { versions: [versionDoc(c.root)] }));

// ---------------------------------------------------------------- volumes

const VolumeBody = z
  .object({
    size: z.union([z.number(), z.string()]).nullish(),
    name: z.string().nullish(),
    display_name: z.string().nullish(),
    description: z.string().nullish(),
    display_description: z.string().nullish(),
    volume_type: z.string().nullish(),
    availability_zone: z.string().nullish(),
    metadata: z.record(z.string(), z.string()).nullish(),
    imageRef: z.string().nullish(),
    image_id: z.string().nullish(),
    snapshot_id: z.string().nullish(),
    source_volid: z.string().nullish(),
    backup_id: z.string().nullish(),
    multiattach: boolish.nullish(),
    consistencygroup_id: z.string().nullish(),
    group_id: z.string().nullish(),
  })
  .loose();

/** Name and description, under Cinder's names or the v1 display_ ones. */
const RenameBody = z
  .object({
    name: z.string().nullish(),
    display_name: z.string().nullish(),
    description: z.string().nullish(),
    display_description: z.string().nullish(),
  })
  .loose();
function renamed(b: z.output<typeof RenameBody>): { name?: string | null; description?: string | null } {
  const name = b.name !== undefined ? b.name : b.display_name;
  const description = b.description !== undefined ? b.description : b.display_description;
  return { ...(name !== undefined ? { name } : {}), ...(description !== undefined ? { description } : {}) };
}

function metadataFilter(c: RouteContext): Record<string, string> | undefined {
  const raw = q(c, 'metadata');
  if (!raw) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw.replace(/'/g, '"'));
    return z.record(z.string(), z.string()).parse(parsed);
  } catch {
    throw badRequest(`Invalid input received: metadata filter ${raw} is not a JSON object of strings.`);
  }
}

function volumeListOpts(c: Ctx): core.VolumeListOptions {
  const sortRaw = q(c, 'sort') ?? q(c, 'sort_key');
  const [key, dirFromSort] = (sortRaw ?? '').split(':');
  const dir = dirFromSort ?? q(c, 'sort_dir');
  const keys = ['created_at', 'updated_at', 'name', 'size', 'status', 'id'];
  if (key && !keys.includes(key)) throw badRequest(`Invalid input received: Invalid sort key ${key}.`);
  const bootable = q(c, 'bootable');
  return {
    allTenants: flag(c, 'all_tenants'),
    projectId: q(c, 'project_id'),
    name: q(c, 'name'),
    status: q(c, 'status'),
    bootable: bootable === undefined ? undefined : queryBool(bootable),
    metadata: metadataFilter(c),
    availabilityZone: q(c, 'availability_zone'),
    marker: q(c, 'marker'),
    limit: limitOf(c),
    offset: q(c, 'offset') ? Number(q(c, 'offset')) || 0 : undefined,
    sortKey: key ? (key as core.VolumeListOptions['sortKey']) : undefined,
    sortDir: dir === 'asc' || dir === 'desc' ? dir : undefined,
  };
}

listRoutes(
  'volumes',
  (ctx, c) => core.listVolumes(ctx, volumeListOpts(c)),
  (v, vw, detail) => (detail ? volumeJson(v, vw) : volumeSummaryJson(v, vw)),
  // with_count (3.45): the number of volumes in this answer.
  (c, list) => (atLeast(c.v, 45) && queryBool(q(c, 'with_count') ?? null) ? { count: list.length } : {}),
);

resource({
  path: `${V3}/volumes`,
  key: 'volume',
  create: async (c, ctx) => {
    const b = parseInput(VolumeBody, await bodyOf(c, 'volume'));
    if (b.backup_id && !atLeast(c.v, 47))
      throw badRequest('Invalid input received: backup_id needs microversion 3.47.');
    if (b.consistencygroup_id || b.group_id) throw badRequest('Invalid input received: groups are not supported.');
    const imageRef = b.imageRef ?? b.image_id;
    return core.createVolume(ctx, {
      size: b.size ?? null,
      name: b.name ?? b.display_name ?? null,
      description: b.description ?? b.display_description ?? null,
      volumeType: b.volume_type ?? null,
      availabilityZone: b.availability_zone ?? null,
      metadata: b.metadata ?? {},
      imageRef: imageRef ? imageRef.replace(/\/+$/, '').split('/').pop() : null,
      snapshotId: b.snapshot_id ?? null,
      sourceVolId: b.source_volid ?? null,
      backupId: b.backup_id ?? null,
      multiattach: b.multiattach ?? null,
    });
  },
  get: (ctx, id) => core.getVolume(ctx, id),
  update: async (ctx, id, c) => {
    const b = parseInput(
      RenameBody.extend({ metadata: z.record(z.string(), z.string()).optional() }),
      await bodyOf(c, 'volume'),
    );
    return core.updateVolume(ctx, id, { ...renamed(b), ...(b.metadata !== undefined ? { metadata: b.metadata } : {}) });
  },
  remove: (ctx, id, c) => core.deleteVolume(ctx, id, { cascade: flag(c, 'cascade'), force: flag(c, 'force') }),
  show: (v, c, ctx) => volumeJson(v, view(c, ctx)),
});

api('POST', `${V3}/volumes/:id/action`, async (c, ctx) => {
  const raw = await readJson(c.req);
  const [name, ...rest] = Object.keys(raw);
  if (!name || rest.length) throw badRequest('Invalid input received: the body must name exactly one action.');
  const arg = raw[name];
  const obj = (schema: z.ZodType) => parseInput(schema, arg ?? {});
  const id = p(c, 'id');
  switch (name) {
    case 'os-extend': {
      const b = obj(z.object({ new_size: z.union([z.number(), z.string()]) }).loose()) as { new_size: number | string };
      const n = Number(b.new_size);
      if (!Number.isInteger(n))
        throw badRequest(`Invalid input received: new_size must be an integer (${String(b.new_size)}).`);
      await core.extendVolume(ctx, id, n, { allowAttached: atLeast(c.v, 42) });
      return [202];
    }
    case 'os-retype': {
      const b = obj(
        z.object({ new_type: z.string().min(1), migration_policy: z.enum(['never', 'on-demand']).nullish() }).loose(),
      ) as {
        new_type: string;
        migration_policy?: 'never' | 'on-demand' | null;
      };
      await core.retypeVolume(ctx, id, b.new_type, b.migration_policy ?? 'never');
      return [202];
    }
    case 'os-set_bootable': {
      const b = obj(z.object({ bootable: boolish }).loose()) as { bootable: boolean };
      await core.setVolumeBootable(ctx, id, b.bootable);
      return [200];
    }
    case 'os-update_readonly_flag': {
      const b = obj(z.object({ readonly: boolish }).loose()) as { readonly: boolean };
      await core.setVolumeReadonly(ctx, id, b.readonly);
      return [202];
    }
    case 'os-reset_status': {
      const b = obj(z.object({ status: z.string().optional(), attach_status: z.string().optional() }).loose()) as {
        status?: string;
        attach_status?: string;
      };
      await core.resetVolumeStatus(ctx, id, { status: b.status, attachStatus: b.attach_status });
      return [202];
    }
    case 'os-force_delete':
      await core.deleteVolume(ctx, id, { force: true, cascade: true });
      return [202];
    default:
      throw badRequest(
        `Invalid input received: the action ${name} is not supported by this cloud (attach through the compute API).`,
      );
  }
});

metadataRoutes(`${V3}/volumes`, core.getVolumeMetadata, core.setVolumeMetadata);
api('GET', `${V3}/volumes/:id/metadata/:key`, async (c, ctx) => {
  const md = await core.getVolumeMetadata(ctx, p(c, 'id'));
  const key = p(c, 'key');
  if (!(key in md)) throw new core.StratusError('NotFound', `Metadata item ${key} was not found.`);
  return [200, { meta: { [key]: md[key] } }];
});
api('PUT', `${V3}/volumes/:id/metadata/:key`, async (c, ctx) => {
  const raw = await readJson(c.req);
  const meta = parseInput(z.record(z.string(), z.string()), raw.meta ?? {});
  const key = p(c, 'key');
  if (Object.keys(meta).length !== 1 || !(key in meta)) throw badRequest('Request body and URI mismatch');
  await core.setVolumeMetadata(ctx, p(c, 'id'), meta);
  return [200, { meta }];
});
api('DELETE', `${V3}/volumes/:id/metadata/:key`, async (c, ctx) => {
  await core.deleteVolumeMetadataItem(ctx, p(c, 'id'), p(c, 'key'));
  return [200];
});

// ---------------------------------------------------------------- types

resource({
  path: `${V3}/types`,
  key: 'volume_type',
  list: async (c, ctx) => {
    const pub = q(c, 'is_public');
    const isPublic = pub === undefined ? undefined : pub.toLowerCase() === 'none' ? null : queryBool(pub);
    const vw = view(c, ctx);
    return { volume_types: (await core.listVolumeTypes(ctx, { isPublic })).map((t) => typeJson(t, vw)) };
  },
  create: async (c, ctx) => {
    const b = parseInput(
      z
        .object({
          name: z.string(),
          description: z.string().nullish(),
          'os-volume-type-access:is_public': boolish.optional(),
          is_public: boolish.optional(),
          extra_specs: z.record(z.string(), z.string()).optional(),
        })
        .loose(),
      await bodyOf(c, 'volume_type'),
    );
    return core.createVolumeType(ctx, {
      name: b.name,
      description: b.description ?? null,
      isPublic: b['os-volume-type-access:is_public'] ?? b.is_public,
      extraSpecs: b.extra_specs,
    });
  },
  created: 200,
  get: (ctx, id) => core.getVolumeType(ctx, id),
  update: async (ctx, id, c) => {
    const b = parseInput(
      z
        .object({ name: z.string().optional(), description: z.string().nullish(), is_public: boolish.optional() })
        .loose(),
      await bodyOf(c, 'volume_type'),
    );
    return core.updateVolumeType(ctx, id, {
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.is_public !== undefined ? { isPublic: b.is_public } : {}),
    });
  },
  remove: (ctx, id) => core.deleteVolumeType(ctx, id),
  show: (t, c, ctx) => typeJson(t, view(c, ctx)),
});
api('GET', `${V3}/types/:id/extra_specs`, async (c, ctx) => {
  return [200, { extra_specs: await core.getVolumeTypeExtraSpecs(ctx, p(c, 'id')) }];
});
api('POST', `${V3}/types/:id/extra_specs`, async (c, ctx) => {
  const raw = await readJson(c.req);
  const specs = parseInput(
    z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)),
    raw.extra_specs ?? {},
  );
  return [200, { extra_specs: await core.setVolumeTypeExtraSpecs(ctx, p(c, 'id'), specs) }];
});
api('GET', `${V3}/types/:id/extra_specs/:key`, async (c, ctx) => {
  const specs = await core.getVolumeTypeExtraSpecs(ctx, p(c, 'id'));
  const key = p(c, 'key');
  if (!(key in specs))
    throw new core.StratusError('NotFound', `Volume Type ${p(c, 'id')} has no extra specs with key ${key}.`);
  return [200, { [key]: specs[key] }];
});
api('PUT', `${V3}/types/:id/extra_specs/:key`, async (c, ctx) => {
  const raw = await readJson(c.req);
  const key = p(c, 'key');
  const value = raw[key];
  if (Object.keys(raw).length !== 1 || value === undefined) throw badRequest('Request body and URI mismatch');
  await core.setVolumeTypeExtraSpecs(ctx, p(c, 'id'), { [key]: String(value) });
  return [200, { [key]: String(value) }];
});
api('DELETE', `${V3}/types/:id/extra_specs/:key`, async (c, ctx) => {
  await core.deleteVolumeTypeExtraSpec(ctx, p(c, 'id'), p(c, 'key'));
  return [202];
});

// ---------------------------------------------------------------- snapshots

listRoutes(
  'snapshots',
  (ctx, c) => core.listSnapshots(ctx, childFilters(c)),
  (s, vw) => snapshotJson(s, vw),
);
resource({
  path: `${V3}/snapshots`,
  key: 'snapshot',
  create: async (c, ctx) => {
    const b = parseInput(
      RenameBody.extend({
        volume_id: z.string(),
        force: boolish.nullish(),
        metadata: z.record(z.string(), z.string()).nullish(),
      }),
      await bodyOf(c, 'snapshot'),
    );
    return core.createSnapshot(ctx, {
      volumeId: b.volume_id,
      // From 3.66 an in-use volume is snapshotted without force (force=false is refused there in Cinder; accepted here).
      force: (b.force ?? false) || atLeast(c.v, 66),
      name: b.name ?? b.display_name ?? null,
      description: b.description ?? b.display_description ?? null,
      metadata: b.metadata ?? {},
    });
  },
  get: (ctx, id) => core.getSnapshot(ctx, id),
  update: async (ctx, id, c) =>
    core.updateSnapshot(ctx, id, renamed(parseInput(RenameBody, await bodyOf(c, 'snapshot')))),
  remove: (ctx, id) => core.deleteSnapshot(ctx, id),
  show: (s, c, ctx) => snapshotJson(s, view(c, ctx)),
});
metadataRoutes(
  `${V3}/snapshots`,
  async (ctx, id) => (await core.getSnapshot(ctx, id)).metadata,
  core.setSnapshotMetadata,
);

// ---------------------------------------------------------------- backups

api('POST', `${V3}/backups`, async (c, ctx) => {
  const b = parseInput(
    z
      .object({
        volume_id: z.string(),
        container: z.string().nullish(),
        name: z.string().nullish(),
        description: z.string().nullish(),
        incremental: boolish.nullish(),
        force: boolish.nullish(),
        snapshot_id: z.string().nullish(),
        metadata: z.record(z.string(), z.string()).nullish(),
      })
      .loose(),
    await bodyOf(c, 'backup'),
  );
  if (b.snapshot_id)
    throw badRequest('Invalid input received: backups of snapshots are not supported; back up the volume.');
  const r = await core.createBackup(ctx, {
    volumeId: b.volume_id,
    container: b.container ?? null,
    name: b.name ?? null,
    description: b.description ?? null,
    incremental: b.incremental ?? false,
    force: b.force ?? false,
    metadata: b.metadata ?? {},
  });
  const vw = view(c, ctx);
  return [202, { backup: { id: r.id, name: r.name, links: backupJson(r, vw).links } }];
});
listRoutes(
  'backups',
  (ctx, c) => core.listBackups(ctx, childFilters(c)),
  (b, vw, detail) => (detail ? backupJson(b, vw) : { id: b.id, name: b.name, links: backupJson(b, vw).links }),
);
resource({
  path: `${V3}/backups`,
  key: 'backup',
  get: (ctx, id) => core.getBackup(ctx, id),
  update: async (ctx, id, c) => {
    const b = parseInput(
      z
        .object({
          name: z.string().nullish(),
          description: z.string().nullish(),
          metadata: z.record(z.string(), z.string()).optional(),
        })
        .loose(),
      await bodyOf(c, 'backup'),
    );
    return core.updateBackup(ctx, id, {
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.description !== undefined ? { description: b.description } : {}),
      ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
    });
  },
  remove: (ctx, id, c) => core.deleteBackup(ctx, id, { force: flag(c, 'force') }),
  show: (b, c, ctx) => backupJson(b, view(c, ctx)),
});
api('POST', `${V3}/backups/:id/restore`, async (c, ctx) => {
  const b = parseInput(
    z.object({ volume_id: z.string().nullish(), name: z.string().nullish() }).loose(),
    await bodyOf(c, 'restore'),
  );
  const r = await core.restoreBackup(ctx, p(c, 'id'), { volumeId: b.volume_id ?? null, name: b.name ?? null });
  return [202, { restore: { backup_id: r.backupId, volume_id: r.volumeId, volume_name: r.volumeName } }];
});

// ---------------------------------------------------------------- transfers

for (const kind of ['os-volume-transfer', 'volume-transfers']) {
  api('POST', `${V3}/${kind}`, async (c, ctx) => {
    const b = parseInput(
      z.object({ volume_id: z.string(), name: z.string().nullish() }).loose(),
      await bodyOf(c, 'transfer'),
    );
    const t = await core.createVolumeTransfer(ctx, { volumeId: b.volume_id, name: b.name ?? null });
    return [202, { transfer: { ...transferJson(t, view(c, ctx), true, kind), auth_key: t.authKey } }];
  });
  for (const detail of [false, true]) {
    api('GET', `${V3}/${kind}${detail ? '/detail' : ''}`, async (c, ctx) => {
      const vw = view(c, ctx);
      const list = await core.listVolumeTransfers(ctx, { allTenants: flag(c, 'all_tenants') });
      return [200, { transfers: list.map((t) => transferJson(t, vw, detail, kind)) }];
    });
  }
  resource({
    path: `${V3}/${kind}`,
    key: 'transfer',
    get: (ctx, id) => core.getVolumeTransfer(ctx, id),
    remove: (ctx, id) => core.deleteVolumeTransfer(ctx, id),
    show: (t, c, ctx) => transferJson(t, view(c, ctx), true, kind),
  });
  api('POST', `${V3}/${kind}/:id/accept`, async (c, ctx) => {
    const b = parseInput(z.object({ auth_key: z.string().min(1) }).loose(), await bodyOf(c, 'accept'));
    const r = await core.acceptVolumeTransfer(ctx, p(c, 'id'), b.auth_key);
    const vw = view(c, ctx);
    return [
      202,
      {
        transfer: {
          id: r.id,
          name: r.name,
          volume_id: r.volumeId,
          links: transferJson({ ...r, projectId: '', createdAt: new Date() }, vw, false, kind).links,
        },
      },
    ];
  });
}

// ---------------------------------------------------------------- quotas, limits, zones, services

api('GET', `${V3}/os-quota-sets/:target`, async (c, ctx) => {
  const target = p(c, 'target');
  if (queryBool(q(c, 'usage') ?? null)) {
    return [200, { quota_set: { id: target, ...(await core.showVolumeQuotaUsage(ctx, target)) } }];
  }
  return [200, { quota_set: { id: target, ...(await core.showVolumeQuotas(ctx, target)) } }];
});
api('GET', `${V3}/os-quota-sets/:target/defaults`, async (c, ctx) => {
  return [200, { quota_set: { id: p(c, 'target'), ...core.showDefaultVolumeQuotas(ctx) } }];
});
api('PUT', `${V3}/os-quota-sets/:target`, async (c, ctx) => {
  const raw = await bodyOf(c, 'quota_set');
  return [200, { quota_set: await core.updateVolumeQuotas(ctx, p(c, 'target'), raw) }];
});
api('DELETE', `${V3}/os-quota-sets/:target`, async (c, ctx) => {
  await core.revertVolumeQuotas(ctx, p(c, 'target'));
  return [200];
});
api('GET', `${V3}/limits`, async (_c, ctx) => {
  const u = await core.showVolumeQuotaUsage(ctx, ctx.projectId ?? '');
  return [
    200,
    {
      limits: {
        rate: [],
        absolute: {
          maxTotalVolumes: u.volumes.limit,
          maxTotalSnapshots: u.snapshots.limit,
          maxTotalVolumeGigabytes: u.gigabytes.limit,
          maxTotalBackups: u.backups.limit,
          maxTotalBackupGigabytes: u.backup_gigabytes.limit,
          totalVolumesUsed: u.volumes.in_use,
          totalSnapshotsUsed: u.snapshots.in_use,
          totalGigabytesUsed: u.gigabytes.in_use,
          totalBackupsUsed: u.backups.in_use,
          totalBackupGigabytesUsed: u.backup_gigabytes.in_use,
        },
      },
    },
  ];
});
api('GET', `${V3}/os-availability-zone`, async () => {
  const zones = await core.volumeAvailabilityZones();
  return [
    200,
    { availabilityZoneInfo: zones.map((z) => ({ zoneName: z.name, zoneState: { available: z.available } })) },
  ];
});
api('GET', `${V3}/os-services`, async (_c, ctx) => {
  const backends = await core.listVolumeBackends(ctx);
  return [
    200,
    {
      services: backends.map((b) => ({
        binary: 'cinder-volume',
        host: b.name,
        zone: b.availabilityZone,
        status: 'enabled',
        state: b.up ? 'up' : 'down',
        updated_at: b.updatedAt.toISOString().replace('Z', ''),
        disabled_reason: null,
      })),
    },
  ];
});
api('GET', `${V3}/scheduler-stats/get_pools`, async (c, ctx) => {
  const backends = await core.listVolumeBackends(ctx);
  const detail = queryBool(q(c, 'detail') ?? null);
  return [
    200,
    {
      pools: backends.map((b) => ({
        name: `${b.name}#${b.backendName}`,
        ...(detail
          ? {
              capabilities: {
                volume_backend_name: b.backendName,
                driver_version: '1.0',
                storage_protocol: 'file',
                vendor_name: 'Stratus',
                total_capacity_gb: b.totalGb,
                free_capacity_gb: b.freeGb,
                allocated_capacity_gb: b.allocatedGb,
                provisioned_capacity_gb: b.allocatedGb,
                max_over_subscription_ratio: b.overSubscription,
                thin_provisioning_support: true,
                multiattach: true,
                timestamp: b.updatedAt.toISOString(),
              },
            }
          : {}),
      })),
    },
  ];
});

// ---------------------------------------------------------------- mount

export const volumeMount: RestMount = {
  prefix: PREFIX,
  handler: async (req, res, url) => {
    const n = negotiate(headerList(req, 'openstack-api-version'));
    if (!n.ok) {
      send(res, n.status, cinderError(n.status, n.message), { vary: 'OpenStack-API-Version' });
      return true;
    }
    for (const [k, v] of Object.entries(versionHeaders(n.version))) res.setHeader(k, v);
    versions.set(req, n.version);
    return router.handler(req, res, url);
  },
};
