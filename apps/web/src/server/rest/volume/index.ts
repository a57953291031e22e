import type { IncomingMessage, ServerResponse } from 'node:http';
import * as core from '@stratus/core';
import { type AuthContext, badRequest, can, loadConfig } from '@stratus/core';
import { z } from 'zod';
import type { RestMount } from '../../http.ts';
import {
  createRouter,
  parseInput,
  queryBool,
  readJson,
  requestBase,
  requireAuth,
  type RouteContext,
  send,
  toHttpError,
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

const FAULT: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  406: 'notAcceptable',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  500: 'computeFault',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};
export const cinderError = (status: number, message: string) => ({
  [FAULT[status] ?? 'computeFault']: { code: status, message },
});

function sendCinderError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, message } = toHttpError(err);
  const headers: Record<string, string> = status === 401 ? { 'www-authenticate': 'Keystone uri="/identity"' } : {};
  send(res, status, cinderError(status, message), headers);
}

const router = createRouter({ prefix: PREFIX, render: cinderError });
const versions = new WeakMap<IncomingMessage, Microversion>();

interface Ctx extends RouteContext {
  v: Microversion;
  root: string;
}
type Handler = (c: Ctx) => Promise<void>;
function route(method: string, pattern: string, h: Handler): void {
  router.add(method, pattern, async (c) => {
    const v = versions.get(c.req) ?? { ...MIN_VERSION };
    const root = requestBase(c.req, loadConfig().publicUrl) + PREFIX;
    try {
      await h({ ...c, v, root });
    } catch (err) {
      sendCinderError(c.res, err);
    }
  });
}

const q = (c: RouteContext, name: string) => c.url.searchParams.get(name) ?? undefined;
const p = (c: RouteContext, name: string) => c.params[name] ?? '';
const ok = (c: RouteContext, status: number, body?: unknown) => send(c.res, status, body);

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

route('POST', `${V3}/volumes`, async (c) => {
  const ctx = await auth(c);
  const b = parseInput(VolumeBody, await bodyOf(c, 'volume'));
  if (b.backup_id && !atLeast(c.v, 47)) throw badRequest('Invalid input received: backup_id needs microversion 3.47.');
  if (b.consistencygroup_id || b.group_id) throw badRequest('Invalid input received: groups are not supported.');
  const size = b.size === undefined || b.size === null ? null : Number(b.size);
  if (size !== null && (!Number.isInteger(size) || size < 1))
    throw badRequest(
      `Invalid input received: Invalid volume: volume size must be an integer and greater than 0 (size: ${String(b.size)}).`,
    );
  const imageRef = b.imageRef ?? b.image_id;
  const v = await core.createVolume(ctx, {
    size,
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
  ok(c, 202, { volume: volumeJson(v, view(c, ctx)) });
});

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
    allTenants: queryBool(q(c, 'all_tenants') ?? null) ?? false,
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

for (const detail of [false, true]) {
  route('GET', `${V3}/volumes${detail ? '/detail' : ''}`, async (c) => {
    const ctx = await auth(c);
    const o = volumeListOpts(c);
    const vw = view(c, ctx);
    const list = await core.listVolumes(ctx, o);
    const body: Record<string, unknown> = {
      volumes: list.map((v) => (detail ? volumeJson(v, vw) : volumeSummaryJson(v, vw))),
    };
    const next = nextLink(c, vw, `volumes${detail ? '/detail' : ''}`, list, o.limit);
    if (next) body.volumes_links = next;
    if (atLeast(c.v, 45) && queryBool(q(c, 'with_count') ?? null)) body.count = list.length;
    ok(c, 200, body);
  });
}

route('GET', `${V3}/volumes/:id`, async (c) => {
  const ctx = await auth(c);
  ok(c, 200, { volume: volumeJson(await core.getVolume(ctx, p(c, 'id')), view(c, ctx)) });
});

route('PUT', `${V3}/volumes/:id`, async (c) => {
  const ctx = await auth(c);
  const b = parseInput(
    z
      .object({
        name: z.string().nullish(),
        display_name: z.string().nullish(),
        description: z.string().nullish(),
        display_description: z.string().nullish(),
        metadata: z.record(z.string(), z.string()).optional(),
      })
      .loose(),
    await bodyOf(c, 'volume'),
  );
  const name = b.name !== undefined ? b.name : b.display_name;
  const description = b.description !== undefined ? b.description : b.display_description;
  const v = await core.updateVolume(ctx, p(c, 'id'), {
    ...(name !== undefined ? { name } : {}),
    ...(description !== undefined ? { description } : {}),
    ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
  });
  ok(c, 200, { volume: volumeJson(v, view(c, ctx)) });
});

route('DELETE', `${V3}/volumes/:id`, async (c) => {
  const ctx = await auth(c);
  await core.deleteVolume(ctx, p(c, 'id'), {
    cascade: queryBool(q(c, 'cascade') ?? null) ?? false,
    force: queryBool(q(c, 'force') ?? null) ?? false,
  });
  ok(c, 202);
});

route('POST', `${V3}/volumes/:id/action`, async (c) => {
  const ctx = await auth(c);
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
      return ok(c, 202);
    }
    case 'os-retype': {
      const b = obj(
        z.object({ new_type: z.string().min(1), migration_policy: z.enum(['never', 'on-demand']).nullish() }).loose(),
      ) as {
        new_type: string;
        migration_policy?: 'never' | 'on-demand' | null;
      };
      await core.retypeVolume(ctx, id, b.new_type, b.migration_policy ?? 'never');
      return ok(c, 202);
    }
    case 'os-set_bootable': {
      const b = obj(z.object({ bootable: boolish }).loose()) as { bootable: boolean };
      await core.setVolumeBootable(ctx, id, b.bootable);
      return ok(c, 200);
    }
    case 'os-update_readonly_flag': {
      const b = obj(z.object({ readonly: boolish }).loose()) as { readonly: boolean };
      await core.setVolumeReadonly(ctx, id, b.readonly);
      return ok(c, 202);
    }
    case 'os-reset_status': {
      const b = obj(z.object({ status: z.string().optional(), attach_status: z.string().optional() }).loose()) as {
        status?: string;
        attach_status?: string;
      };
      await core.resetVolumeStatus(ctx, id, { status: b.status, attachStatus: b.attach_status });
      return ok(c, 202);
    }
    case 'os-force_delete':
      await core.deleteVolume(ctx, id, { force: true, cascade: true });
      return ok(c, 202);
    default:
      throw badRequest(
        `Invalid input received: the action ${name} is not supported by this cloud (attach through the compute API).`,
      );
  }
});

route('GET', `${V3}/volumes/:id/metadata`, async (c) => {
  const ctx = await auth(c);
  ok(c, 200, { metadata: await core.getVolumeMetadata(ctx, p(c, 'id')) });
});
for (const [method, replace] of [
  ['POST', false],
  ['PUT', true],
] as const) {
  route(method, `${V3}/volumes/:id/metadata`, async (c) => {
    const ctx = await auth(c);
    const raw = await readJson(c.req);
    const md = parseInput(z.record(z.string(), z.string()), raw.metadata ?? {});
    ok(c, 200, { metadata: await core.setVolumeMetadata(ctx, p(c, 'id'), md, { replace }) });
  });
}
route('GET', `${V3}/volumes/:id/metadata/:key`, async (c) => {
  const ctx = await auth(c);
  const md = await core.getVolumeMetadata(ctx, p(c, 'id'));
  const key = p(c, 'key');
  if (!(key in md)) throw new core.StratusError('NotFound', `Metadata item ${key} was not found.`);
  ok(c, 200, { meta: { [key]: md[key] } });
});
route('PUT', `${V3}/volumes/:id/metadata/:key`, async (c) => {
  const ctx = await auth(c);
  const raw = await readJson(c.req);
  const meta = parseInput(z.record(z.string(), z.string()), raw.meta ?? {});
  const key = p(c, 'key');
  if (Object.keys(meta).length !== 1 || !(key in meta)) throw badRequest('Request body and URI mismatch');
  await core.setVolumeMetadata(ctx, p(c, 'id'), meta);
  ok(c, 200, { meta });
});
route('DELETE', `${V3}/volumes/:id/metadata/:key`, async (c) => {
  const ctx = await auth(c);
  await core.deleteVolumeMetadataItem(ctx, p(c, 'id'), p(c, 'key'));
  ok(c, 200);
});

// ---------------------------------------------------------------- types

route('GET', `${V3}/types`, async (c) => {
  const ctx = await auth(c);
  const pub = q(c, 'is_public');
  const isPublic = pub === undefined ? undefined : pub.toLowerCase() === 'none' ? null : queryBool(pub);
  const vw = view(c, ctx);
  ok(c, 200, { volume_types: (await core.listVolumeTypes(ctx, { isPublic })).map((t) => typeJson(t, vw)) });
});
route('GET', `${V3}/types/:id`, async (c) => {
  const ctx = await auth(c);
  ok(c, 200, { volume_type: typeJson(await core.getVolumeType(ctx, p(c, 'id')), view(c, ctx)) });
});
route('POST', `${V3}/types`, async (c) => {
  const ctx = await auth(c);
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
  const t = await core.createVolumeType(ctx, {
    name: b.name,
    description: b.description ?? null,
    isPublic: b['os-volume-type-access:is_public'] ?? b.is_public ?? true,
    extraSpecs: b.extra_specs ?? {},
  });
  ok(c, 200, { volume_type: typeJson(t, view(c, ctx)) });
});
route('PUT', `${V3}/types/:id`, async (c) => {
  const ctx = await auth(c);
  const b = parseInput(
    z.object({ name: z.string().optional(), description: z.string().nullish(), is_public: boolish.optional() }).loose(),
    await bodyOf(c, 'volume_type'),
  );
  const t = await core.updateVolumeType(ctx, p(c, 'id'), {
    ...(b.name !== undefined ? { name: b.name } : {}),
    ...(b.description !== undefined ? { description: b.description } : {}),
    ...(b.is_public !== undefined ? { isPublic: b.is_public } : {}),
  });
  ok(c, 200, { volume_type: typeJson(t, view(c, ctx)) });
});
route('DELETE', `${V3}/types/:id`, async (c) => {
  const ctx = await auth(c);
  await core.deleteVolumeType(ctx, p(c, 'id'));
  ok(c, 202);
});
route('GET', `${V3}/types/:id/extra_specs`, async (c) => {
  const ctx = await auth(c);
  ok(c, 200, { extra_specs: await core.getVolumeTypeExtraSpecs(ctx, p(c, 'id')) });
});
route('POST', `${V3}/types/:id/extra_specs`, async (c) => {
  const ctx = await auth(c);
  const raw = await readJson(c.req);
  const specs = parseInput(
    z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)),
    raw.extra_specs ?? {},
  );
  ok(c, 200, { extra_specs: await core.setVolumeTypeExtraSpecs(ctx, p(c, 'id'), specs) });
});
route('GET', `${V3}/types/:id/extra_specs/:key`, async (c) => {
  const ctx = await auth(c);
  const specs = await core.getVolumeTypeExtraSpecs(ctx, p(c, 'id'));
  const key = p(c, 'key');
  if (!(key in specs))
    throw new core.StratusError('NotFound', `Volume Type ${p(c, 'id')} has no extra specs with key ${key}.`);
  ok(c, 200, { [key]: specs[key] });
});
route('PUT', `${V3}/types/:id/extra_specs/:key`, async (c) => {
  const ctx = await auth(c);
  const raw = await readJson(c.req);
  const key = p(c, 'key');
  const value = raw[key];
  if (Object.keys(raw).length !== 1 || value === undefined) throw badRequest('Request body and URI mismatch');
  await core.setVolumeTypeExtraSpecs(ctx, p(c, 'id'), { [key]: String(value) });
  ok(c, 200, { [key]: String(value) });
});
route('DELETE', `${V3}/types/:id/extra_specs/:key`, async (c) => {
  const ctx = await auth(c);
  await core.deleteVolumeTypeExtraSpec(ctx, p(c, 'id'), p(c, 'key'));
  ok(c, 202);
});

// ---------------------------------------------------------------- snapshots

route('POST', `${V3}/snapshots`, async (c) => {
  const ctx = await auth(c);
  const b = parseInput(
    z
      .object({
        volume_id: z.string(),
        force: boolish.nullish(),
        name: z.string().nullish(),
        display_name: z.string().nullish(),
        description: z.string().nullish(),
        display_description: z.string().nullish(),
        metadata: z.record(z.string(), z.string()).nullish(),
      })
      .loose(),
    await bodyOf(c, 'snapshot'),
  );
  const s = await core.createSnapshot(ctx, {
    volumeId: b.volume_id,
    // From 3.66 an in-use volume is snapshotted without force (force=false is refused there in Cinder; accepted here).
    force: (b.force ?? false) || atLeast(c.v, 66),
    name: b.name ?? b.display_name ?? null,
    description: b.description ?? b.display_description ?? null,
    metadata: b.metadata ?? {},
  });
  ok(c, 202, { snapshot: snapshotJson(s, view(c, ctx)) });
});
for (const detail of [false, true]) {
  route('GET', `${V3}/snapshots${detail ? '/detail' : ''}`, async (c) => {
    const ctx = await auth(c);
    const vw = view(c, ctx);
    const limit = limitOf(c);
    const list = await core.listSnapshots(ctx, {
      allTenants: queryBool(q(c, 'all_tenants') ?? null) ?? false,
      projectId: q(c, 'project_id'),
      volumeId: q(c, 'volume_id'),
      name: q(c, 'name'),
      status: q(c, 'status'),
      marker: q(c, 'marker'),
      limit,
    });
    const body: Record<string, unknown> = { snapshots: list.map((s) => snapshotJson(s, vw)) };
    const next = nextLink(c, vw, `snapshots${detail ? '/detail' : ''}`, list, limit);
    if (next) body.snapshots_links = next;
    ok(c, 200, body);
  });
}
route('GET', `${V3}/snapshots/:id`, async (c) => {
  const ctx = await auth(c);
  ok(c, 200, { snapshot: snapshotJson(await core.getSnapshot(ctx, p(c, 'id')), view(c, ctx)) });
});
route('PUT', `${V3}/snapshots/:id`, async (c) => {
  const ctx = await auth(c);
  const b = parseInput(
    z
      .object({
        name: z.string().nullish(),
        display_name: z.string().nullish(),
        description: z.string().nullish(),
        display_description: z.string().nullish(),
      })
      .loose(),
    await bodyOf(c, 'snapshot'),
  );
  const name = b.name !== undefined ? b.name : b.display_name;
  const description = b.description !== undefined ? b.description : b.display_description;
  const s = await core.updateSnapshot(ctx, p(c, 'id'), {
    ...(name !== undefined ? { name } : {}),
    ...(description !== undefined ? { description } : {}),
  });
  ok(c, 200, { snapshot: snapshotJson(s, view(c, ctx)) });
});
route('DELETE', `${V3}/snapshots/:id`, async (c) => {
  const ctx = await auth(c);
  await core.deleteSnapshot(ctx, p(c, 'id'));
  ok(c, 202);
});
route('GET', `${V3}/snapshots/:id/metadata`, async (c) => {
  const ctx = await auth(c);
  ok(c, 200, { metadata: (await core.getSnapshot(ctx, p(c, 'id'))).metadata });
});
for (const [method, replace] of [
  ['POST', false],
  ['PUT', true],
] as const) {
  route(method, `${V3}/snapshots/:id/metadata`, async (c) => {
    const ctx = await auth(c);
    const raw = await readJson(c.req);
    const md = parseInput(z.record(z.string(), z.string()), raw.metadata ?? {});
    ok(c, 200, { metadata: await core.setSnapshotMetadata(ctx, p(c, 'id'), md, { replace }) });
  });
}

// ---------------------------------------------------------------- backups

route('POST', `${V3}/backups`, async (c) => {
  const ctx = await auth(c);
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
  ok(c, 202, { backup: { id: r.id, name: r.name, links: backupJson(r, vw).links } });
});
for (const detail of [false, true]) {
  route('GET', `${V3}/backups${detail ? '/detail' : ''}`, async (c) => {
    const ctx = await auth(c);
    const vw = view(c, ctx);
    const limit = limitOf(c);
    const list = await core.listBackups(ctx, {
      allTenants: queryBool(q(c, 'all_tenants') ?? null) ?? false,
      projectId: q(c, 'project_id'),
      volumeId: q(c, 'volume_id'),
      name: q(c, 'name'),
      status: q(c, 'status'),
      marker: q(c, 'marker'),
      limit,
    });
    const body: Record<string, unknown> = {
      backups: list.map((b) =>
        detail ? backupJson(b, vw) : { id: b.id, name: b.name, links: backupJson(b, vw).links },
      ),
    };
    const next = nextLink(c, vw, `backups${detail ? '/detail' : ''}`, list, limit);
    if (next) body.backups_links = next;
    ok(c, 200, body);
  });
}
route('GET', `${V3}/backups/:id`, async (c) => {
  const ctx = await auth(c);
  ok(c, 200, { backup: backupJson(await core.getBackup(ctx, p(c, 'id')), view(c, ctx)) });
});
route('PUT', `${V3}/backups/:id`, async (c) => {
  const ctx = await auth(c);
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
  const r = await core.updateBackup(ctx, p(c, 'id'), {
    ...(b.name !== undefined ? { name: b.name } : {}),
    ...(b.description !== undefined ? { description: b.description } : {}),
    ...(b.metadata !== undefined ? { metadata: b.metadata } : {}),
  });
  ok(c, 200, { backup: backupJson(r, view(c, ctx)) });
});
route('DELETE', `${V3}/backups/:id`, async (c) => {
  const ctx = await auth(c);
  await core.deleteBackup(ctx, p(c, 'id'), { force: queryBool(q(c, 'force') ?? null) ?? false });
  ok(c, 202);
});
route('POST', `${V3}/backups/:id/restore`, async (c) => {
  const ctx = await auth(c);
  const b = parseInput(
    z.object({ volume_id: z.string().nullish(), name: z.string().nullish() }).loose(),
    await bodyOf(c, 'restore'),
  );
  const r = await core.restoreBackup(ctx, p(c, 'id'), { volumeId: b.volume_id ?? null, name: b.name ?? null });
  ok(c, 202, { restore: { backup_id: r.backupId, volume_id: r.volumeId, volume_name: r.volumeName } });
});

// ---------------------------------------------------------------- transfers

for (const kind of ['os-volume-transfer', 'volume-transfers']) {
  route('POST', `${V3}/${kind}`, async (c) => {
    const ctx = await auth(c);
    const b = parseInput(
      z.object({ volume_id: z.string(), name: z.string().nullish() }).loose(),
      await bodyOf(c, 'transfer'),
    );
    const t = await core.createVolumeTransfer(ctx, { volumeId: b.volume_id, name: b.name ?? null });
    ok(c, 202, { transfer: { ...transferJson(t, view(c, ctx), true, kind), auth_key: t.authKey } });
  });
  for (const detail of [false, true]) {
    route('GET', `${V3}/${kind}${detail ? '/detail' : ''}`, async (c) => {
      const ctx = await auth(c);
      const vw = view(c, ctx);
      const list = await core.listVolumeTransfers(ctx, { allTenants: queryBool(q(c, 'all_tenants') ?? null) ?? false });
      ok(c, 200, { transfers: list.map((t) => transferJson(t, vw, detail, kind)) });
    });
  }
  route('GET', `${V3}/${kind}/:id`, async (c) => {
    const ctx = await auth(c);
    ok(c, 200, { transfer: transferJson(await core.getVolumeTransfer(ctx, p(c, 'id')), view(c, ctx), true, kind) });
  });
  route('DELETE', `${V3}/${kind}/:id`, async (c) => {
    const ctx = await auth(c);
    await core.deleteVolumeTransfer(ctx, p(c, 'id'));
    ok(c, 202);
  });
  route('POST', `${V3}/${kind}/:id/accept`, async (c) => {
    const ctx = await auth(c);
    const b = parseInput(z.object({ auth_key: z.string().min(1) }).loose(), await bodyOf(c, 'accept'));
    const r = await core.acceptVolumeTransfer(ctx, p(c, 'id'), b.auth_key);
    const vw = view(c, ctx);
    ok(c, 202, {
      transfer: {
        id: r.id,
        name: r.name,
        volume_id: r.volumeId,
        links: transferJson({ ...r, projectId: '', createdAt: new Date() }, vw, false, kind).links,
      },
    });
  });
}

// ---------------------------------------------------------------- quotas, limits, zones, services

route('GET', `${V3}/os-quota-sets/:target`, async (c) => {
  const ctx = await auth(c);
  const target = p(c, 'target');
  if (queryBool(q(c, 'usage') ?? null)) {
    ok(c, 200, { quota_set: { id: target, ...(await core.showVolumeQuotaUsage(ctx, target)) } });
    return;
  }
  ok(c, 200, { quota_set: { id: target, ...(await core.showVolumeQuotas(ctx, target)) } });
});
route('GET', `${V3}/os-quota-sets/:target/defaults`, async (c) => {
  const ctx = await auth(c);
  ok(c, 200, { quota_set: { id: p(c, 'target'), ...core.showDefaultVolumeQuotas(ctx) } });
});
route('PUT', `${V3}/os-quota-sets/:target`, async (c) => {
  const ctx = await auth(c);
  const raw = await bodyOf(c, 'quota_set');
  ok(c, 200, { quota_set: await core.updateVolumeQuotas(ctx, p(c, 'target'), raw) });
});
route('DELETE', `${V3}/os-quota-sets/:target`, async (c) => {
  const ctx = await auth(c);
  await core.revertVolumeQuotas(ctx, p(c, 'target'));
  ok(c, 200);
});
route('GET', `${V3}/limits`, async (c) => {
  const ctx = await auth(c);
  const u = await core.showVolumeQuotaUsage(ctx, ctx.projectId ?? '');
  ok(c, 200, {
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
  });
});
route('GET', `${V3}/os-availability-zone`, async (c) => {
  await auth(c);
  const zones = await core.volumeAvailabilityZones();
  ok(c, 200, { availabilityZoneInfo: zones.map((z) => ({ zoneName: z.name, zoneState: { available: z.available } })) });
});
route('GET', `${V3}/os-services`, async (c) => {
  const ctx = await auth(c);
  const backends = await core.listVolumeBackends(ctx);
  ok(c, 200, {
    services: backends.map((b) => ({
      binary: 'cinder-volume',
      host: b.name,
      zone: b.availabilityZone,
      status: 'enabled',
      state: b.up ? 'up' : 'down',
      updated_at: b.updatedAt.toISOString().replace('Z', ''),
      disabled_reason: null,
    })),
  });
});
route('GET', `${V3}/scheduler-stats/get_pools`, async (c) => {
  const ctx = await auth(c);
  const backends = await core.listVolumeBackends(ctx);
  const detail = queryBool(q(c, 'detail') ?? null);
  ok(c, 200, {
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
  });
});

// ---------------------------------------------------------------- mount

export const volumeMount: RestMount = {
  prefix: PREFIX,
  handler: async (req, res, url) => {
    const n = negotiate(headerValue(req, 'openstack-api-version'));
    if (!n.ok) {
      send(res, n.status, cinderError(n.status, n.message), { vary: 'OpenStack-API-Version' });
      return true;
    }
    for (const [k, v] of Object.entries(versionHeaders(n.version))) res.setHeader(k, v);
    versions.set(req, n.version);
    return router.handler(req, res, url);
  },
};

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}
