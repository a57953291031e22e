import type { IncomingMessage, ServerResponse } from 'node:http';
import * as pl from '@stratus/core';
import { type AuthContext, badRequest, currentRequestId, isStratusError, loadConfig, notFound } from '@stratus/core';
import { z } from 'zod';
import type { RestMount } from '../../http.ts';
import {
  createRouter,
  parseInput,
  readJson,
  requestBase,
  requireAuth,
  type RouteContext,
  send,
  titleOf,
  toHttpError,
} from '../common.ts';
import { MAX_VERSION, MIN_VERSION, type Microversion, parseMicroversion, versionString } from './microversion.ts';
import { candidatesQuery, providerListQuery } from './query.ts';
import { inventoryJson, providerJson, resourceClassJson } from './shapes.ts';

/*
 * Placement API under /placement: a thin adapter over core/placement. Versions 1.0–1.29
 * (what osc-placement 4 negotiates); responses follow each microversion's format.
 * Errors use Placement's body: {"errors":[{status,title,detail,code,request_id}]}.
 */
const PREFIX = '/placement';
const versions = new WeakMap<IncomingMessage, Microversion>();

export function placementErrorBody(
  status: number,
  detail: string,
  code = 'placement.undefined_code',
  extra: Record<string, string> = {},
) {
  return { errors: [{ status, title: titleOf(status), detail, code, request_id: currentRequestId() ?? '', ...extra }] };
}

function sendPlacementError(res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, message } = toHttpError(err);
  const details = isStratusError(err) ? err.details : undefined;
  const code = typeof details?.placementCode === 'string' ? details.placementCode : 'placement.undefined_code';
  const extra: Record<string, string> = {};
  if (status === 406 && typeof details?.maxVersion === 'string' && typeof details.minVersion === 'string') {
    extra.max_version = details.maxVersion;
    extra.min_version = details.minVersion;
  }
  const headers: Record<string, string> = status === 401 ? { 'www-authenticate': 'Keystone uri="/identity"' } : {};
  send(res, status, placementErrorBody(status, message, code, extra), headers);
}

const router = createRouter({ prefix: PREFIX, render: (status, message) => placementErrorBody(status, message) });
type Handler = (c: RouteContext & { v: Microversion }) => Promise<void>;
/** Adds a route whose errors carry placement's codes; `min` is the microversion it appeared in. */
function route(method: string, pattern: string, handler: Handler, min = 0): void {
  router.add(method, pattern, async (c) => {
    try {
      const v = versions.get(c.req);
      if (!v) throw new Error('microversion not parsed');
      if (!v.ge(min)) throw notFound('The resource could not be found.');
      await handler({ ...c, v });
    } catch (err) {
      sendPlacementError(c.res, err);
    }
  });
}

const p = (c: RouteContext, name: string) => c.params[name] ?? '';
const auth = (c: RouteContext): Promise<AuthContext> => requireAuth(c.req);
/** Location headers are absolute (WebOb makes them so in real placement; osc-placement GETs them). */
const location = (c: RouteContext, path: string) => `${requestBase(c.req, loadConfig().publicUrl)}${PREFIX}${path}`;

async function body<S extends z.ZodType>(c: RouteContext, schema: S): Promise<z.output<S>> {
  const raw = await readJson(c.req);
  const r = schema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0];
    throw badRequest(
      `JSON does not validate: ${i?.path.length ? `'${i.path.join('.')}': ` : ''}${i?.message ?? 'invalid'}`,
    );
  }
  return r.data;
}
const Generation = z.number().int().min(0);
const Uuid = z.string().uuid();

// ---------------------------------------------------------------- root

route('GET', '/', async (c) => {
  send(c.res, 200, {
    versions: [
      {
        id: 'v1.0',
        min_version: versionString(MIN_VERSION),
        max_version: versionString(MAX_VERSION),
        status: 'CURRENT',
        links: [],
      },
    ],
  });
});

// ---------------------------------------------------------------- resource providers

route('GET', '/resource_providers', async (c) => {
  const ctx = await auth(c);
  const rps = await pl.listResourceProviders(ctx, providerListQuery(c.url, c.v));
  send(c.res, 200, { resource_providers: rps.map((rp) => providerJson(rp, c.v)) });
});

const CreateRp = z.strictObject({
  name: z.string().min(1).max(200),
  uuid: Uuid.optional(),
  parent_provider_uuid: Uuid.nullable().optional(),
});
route('POST', '/resource_providers', async (c) => {
  const ctx = await auth(c);
  const b = await body(c, CreateRp);
  if (b.parent_provider_uuid !== undefined && !c.v.ge(14))
    throw badRequest(
      "JSON does not validate: Additional properties are not allowed ('parent_provider_uuid' was unexpected)",
    );
  const rp = await pl.createResourceProvider(ctx, {
    name: b.name,
    ...(b.uuid ? { uuid: b.uuid } : {}),
    parentProviderUuid: b.parent_provider_uuid ?? null,
  });
  const loc = location(c, `/resource_providers/${rp.uuid}`);
  if (c.v.ge(20)) send(c.res, 200, providerJson(rp, c.v), { location: loc });
  else send(c.res, 201, undefined, { location: loc });
});

route('GET', '/resource_providers/:uuid', async (c) => {
  const ctx = await auth(c);
  send(c.res, 200, providerJson(await pl.getResourceProvider(ctx, p(c, 'uuid')), c.v));
});

const UpdateRp = z.strictObject({ name: z.string().min(1).max(200), parent_provider_uuid: Uuid.nullable().optional() });
route('PUT', '/resource_providers/:uuid', async (c) => {
  const ctx = await auth(c);
  const b = await body(c, UpdateRp);
  const rp = await pl.updateResourceProvider(ctx, p(c, 'uuid'), {
    name: b.name,
    ...(b.parent_provider_uuid !== undefined && c.v.ge(14) ? { parentProviderUuid: b.parent_provider_uuid } : {}),
  });
  send(c.res, 200, providerJson(rp, c.v));
});

route('DELETE', '/resource_providers/:uuid', async (c) => {
  const ctx = await auth(c);
  await pl.deleteResourceProvider(ctx, p(c, 'uuid'));
  send(c.res, 204);
});

// ---------------------------------------------------------------- inventories

const InventoryFields = {
  total: z.number().int(),
  reserved: z.number().int().optional(),
  min_unit: z.number().int().optional(),
  max_unit: z.number().int().optional(),
  step_size: z.number().int().optional(),
  allocation_ratio: z.number().optional(),
};
const Inventory = z.strictObject(InventoryFields);
type InventoryBody = z.output<typeof Inventory>;
const toInput = (i: InventoryBody): pl.InventoryInput => ({
  total: i.total,
  ...(i.reserved !== undefined ? { reserved: i.reserved } : {}),
  ...(i.min_unit !== undefined ? { minUnit: i.min_unit } : {}),
  ...(i.max_unit !== undefined ? { maxUnit: i.max_unit } : {}),
  ...(i.step_size !== undefined ? { stepSize: i.step_size } : {}),
  ...(i.allocation_ratio !== undefined ? { allocationRatio: i.allocation_ratio } : {}),
});

route('GET', '/resource_providers/:uuid/inventories', async (c) => {
  const ctx = await auth(c);
  const r = await pl.getInventories(ctx, p(c, 'uuid'));
  send(c.res, 200, {
    resource_provider_generation: r.resourceProviderGeneration,
    inventories: Object.fromEntries(Object.entries(r.inventories).map(([rc, inv]) => [rc, inventoryJson(inv)])),
  });
});

const PutInventories = z.strictObject({
  resource_provider_generation: Generation,
  inventories: z.record(z.string(), Inventory),
});
route('PUT', '/resource_providers/:uuid/inventories', async (c) => {
  const ctx = await auth(c);
  const b = await body(c, PutInventories);
  const r = await pl.setInventories(ctx, p(c, 'uuid'), {
    resourceProviderGeneration: b.resource_provider_generation,
    inventories: Object.fromEntries(Object.entries(b.inventories).map(([rc, inv]) => [rc, toInput(inv)])),
  });
  send(c.res, 200, {
    resource_provider_generation: r.resourceProviderGeneration,
    inventories: Object.fromEntries(Object.entries(r.inventories).map(([rc, inv]) => [rc, inventoryJson(inv)])),
  });
});

const PostInventory = z.strictObject({ resource_class: z.string().min(1), ...InventoryFields });
route('POST', '/resource_providers/:uuid/inventories', async (c) => {
  const ctx = await auth(c);
  const { resource_class, ...inv } = await body(c, PostInventory);
  const current = await pl.getResourceProvider(ctx, p(c, 'uuid'));
  const r = await pl.setInventory(
    ctx,
    current.uuid,
    resource_class,
    { ...toInput(inv), resourceProviderGeneration: current.generation },
    { mustNotExist: true },
  );
  send(
    c.res,
    201,
    { resource_provider_generation: r.resourceProviderGeneration, ...inventoryJson(r) },
    {
      location: location(c, `/resource_providers/${current.uuid}/inventories/${resource_class}`),
    },
  );
});

route(
  'DELETE',
  '/resource_providers/:uuid/inventories',
  async (c) => {
    const ctx = await auth(c);
    await pl.deleteInventory(ctx, p(c, 'uuid'));
    send(c.res, 204);
  },
  5,
);

route('GET', '/resource_providers/:uuid/inventories/:rc', async (c) => {
  const ctx = await auth(c);
  const r = await pl.getInventory(ctx, p(c, 'uuid'), p(c, 'rc'));
  send(c.res, 200, { resource_provider_generation: r.resourceProviderGeneration, ...inventoryJson(r) });
});

const PutInventory = z.strictObject({ resource_provider_generation: Generation, ...InventoryFields });
route('PUT', '/resource_providers/:uuid/inventories/:rc', async (c) => {
  const ctx = await auth(c);
  const { resource_provider_generation, ...inv } = await body(c, PutInventory);
  const r = await pl.setInventory(ctx, p(c, 'uuid'), p(c, 'rc'), {
    ...toInput(inv),
    resourceProviderGeneration: resource_provider_generation,
  });
  send(c.res, 200, { resource_provider_generation: r.resourceProviderGeneration, ...inventoryJson(r) });
});

route('DELETE', '/resource_providers/:uuid/inventories/:rc', async (c) => {
  const ctx = await auth(c);
  await pl.deleteInventory(ctx, p(c, 'uuid'), p(c, 'rc'));
  send(c.res, 204);
});

// ---------------------------------------------------------------- usages, allocations of a provider

route('GET', '/resource_providers/:uuid/usages', async (c) => {
  const ctx = await auth(c);
  const r = await pl.getProviderUsages(ctx, p(c, 'uuid'));
  send(c.res, 200, { resource_provider_generation: r.resourceProviderGeneration, usages: r.usages });
});

route('GET', '/resource_providers/:uuid/allocations', async (c) => {
  const ctx = await auth(c);
  const r = await pl.getProviderAllocations(ctx, p(c, 'uuid'));
  send(c.res, 200, {
    resource_provider_generation: r.resourceProviderGeneration,
    allocations: Object.fromEntries(
      Object.entries(r.allocations).map(([consumer, resources]) => [consumer, { resources }]),
    ),
  });
});

route(
  'GET',
  '/usages',
  async (c) => {
    const ctx = await auth(c);
    const projectId = c.url.searchParams.get('project_id');
    if (!projectId) throw badRequest("Invalid query string parameters: 'project_id' is a required property");
    const userId = c.url.searchParams.get('user_id');
    send(c.res, 200, { usages: await pl.getProjectUsages(ctx, { projectId, ...(userId ? { userId } : {}) }) });
  },
  9,
);

// ---------------------------------------------------------------- traits

route(
  'GET',
  '/traits',
  async (c) => {
    const ctx = await auth(c);
    const name = c.url.searchParams.get('name');
    const associated = c.url.searchParams.get('associated');
    const q: { startsWith?: string; in?: string[]; associated?: boolean } = {};
    if (name?.startsWith('startswith:')) q.startsWith = name.slice('startswith:'.length);
    else if (name?.startsWith('in:')) q.in = name.slice(3).split(',').filter(Boolean);
    else if (name)
      throw badRequest(
        `Badly formatted name parameter. Expected name query string parameter in form: ?name=[in|startswith]:[name1,name2|prefix]. Got: "${name}"`,
      );
    if (associated !== null) q.associated = !['false', '0', 'no'].includes(associated.toLowerCase());
    send(c.res, 200, { traits: await pl.listTraits(ctx, q) });
  },
  6,
);
route(
  'GET',
  '/traits/:name',
  async (c) => {
    await pl.getTrait(await auth(c), p(c, 'name'));
    send(c.res, 204);
  },
  6,
);
route(
  'PUT',
  '/traits/:name',
  async (c) => {
    const r = await pl.createTrait(await auth(c), p(c, 'name'));
    send(c.res, r === 'created' ? 201 : 204, undefined, { location: location(c, `/traits/${p(c, 'name')}`) });
  },
  6,
);
route(
  'DELETE',
  '/traits/:name',
  async (c) => {
    await pl.deleteTrait(await auth(c), p(c, 'name'));
    send(c.res, 204);
  },
  6,
);

route(
  'GET',
  '/resource_providers/:uuid/traits',
  async (c) => {
    const r = await pl.getProviderTraits(await auth(c), p(c, 'uuid'));
    send(c.res, 200, { traits: r.traits, resource_provider_generation: r.resourceProviderGeneration });
  },
  6,
);
const PutTraits = z.strictObject({ traits: z.array(z.string()), resource_provider_generation: Generation });
route(
  'PUT',
  '/resource_providers/:uuid/traits',
  async (c) => {
    const ctx = await auth(c);
    const b = await body(c, PutTraits);
    const r = await pl.setProviderTraits(ctx, p(c, 'uuid'), {
      traits: b.traits,
      resourceProviderGeneration: b.resource_provider_generation,
    });
    send(c.res, 200, { traits: r.traits, resource_provider_generation: r.resourceProviderGeneration });
  },
  6,
);
route(
  'DELETE',
  '/resource_providers/:uuid/traits',
  async (c) => {
    await pl.deleteProviderTraits(await auth(c), p(c, 'uuid'));
    send(c.res, 204);
  },
  6,
);

// ---------------------------------------------------------------- aggregates

const aggregatesJson = (r: { aggregates: string[]; resourceProviderGeneration: number }, v: Microversion) =>
  v.ge(19)
    ? { aggregates: r.aggregates, resource_provider_generation: r.resourceProviderGeneration }
    : { aggregates: r.aggregates };
route(
  'GET',
  '/resource_providers/:uuid/aggregates',
  async (c) => {
    send(c.res, 200, aggregatesJson(await pl.getProviderAggregates(await auth(c), p(c, 'uuid')), c.v));
  },
  1,
);
route(
  'PUT',
  '/resource_providers/:uuid/aggregates',
  async (c) => {
    const ctx = await auth(c);
    let input: { aggregates: string[]; resourceProviderGeneration?: number };
    if (c.v.ge(19)) {
      const b = await body(c, z.strictObject({ aggregates: z.array(Uuid), resource_provider_generation: Generation }));
      input = { aggregates: b.aggregates, resourceProviderGeneration: b.resource_provider_generation };
    } else {
      // Before 1.19 the body is a bare list, which readJson (objects only) refuses: read it here.
      input = { aggregates: parseInput(z.array(Uuid), await readJsonArray(c.req)) };
    }
    send(c.res, 200, aggregatesJson(await pl.setProviderAggregates(ctx, p(c, 'uuid'), input), c.v));
  },
  1,
);

async function readJsonArray(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += b.length;
    if (size > 1024 * 1024) throw badRequest('Request body is too large.');
    chunks.push(b);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw badRequest('Malformed JSON in the request body.');
  }
}

// ---------------------------------------------------------------- resource classes

route(
  'GET',
  '/resource_classes',
  async (c) => {
    const names = await pl.listResourceClasses(await auth(c));
    send(c.res, 200, { resource_classes: names.map((n) => resourceClassJson(n)) });
  },
  2,
);
route(
  'POST',
  '/resource_classes',
  async (c) => {
    const ctx = await auth(c);
    const b = await body(c, z.strictObject({ name: z.string().min(1).max(255) }));
    if ((await pl.createResourceClass(ctx, b.name)) === 'exists')
      throw pl.placementError(
        'Conflict',
        `Conflicting resource class already exists: ${b.name}`,
        'placement.duplicate_name',
      );
    send(c.res, 201, undefined, { location: location(c, `/resource_classes/${b.name}`) });
  },
  2,
);
route(
  'GET',
  '/resource_classes/:name',
  async (c) => {
    await pl.getResourceClass(await auth(c), p(c, 'name'));
    send(c.res, 200, resourceClassJson(p(c, 'name')));
  },
  2,
);
route(
  'PUT',
  '/resource_classes/:name',
  async (c) => {
    const r = await pl.createResourceClass(await auth(c), p(c, 'name'));
    send(c.res, r === 'created' ? 201 : 204, undefined, { location: location(c, `/resource_classes/${p(c, 'name')}`) });
  },
  7,
);
route(
  'DELETE',
  '/resource_classes/:name',
  async (c) => {
    await pl.deleteResourceClass(await auth(c), p(c, 'name'));
    send(c.res, 204);
  },
  2,
);

// ---------------------------------------------------------------- allocations

/** Placement's project and user for consumers written by clients older than 1.8. */
const INCOMPLETE = '00000000-0000-0000-0000-000000000000';
const ResourcesBody = z.record(z.string(), z.number().int().min(1));
const AllocDict = z.record(z.string(), z.object({ resources: ResourcesBody, generation: z.number().int().optional() }));
const AllocList = z.array(
  z.strictObject({ resource_provider: z.strictObject({ uuid: Uuid }), resources: ResourcesBody }),
);

function consumerSchema(v: Microversion) {
  const allocations = v.ge(12) ? AllocDict : AllocList;
  return z.object({
    allocations,
    project_id: v.ge(8) ? z.string().min(1) : z.string().min(1).optional(),
    user_id: v.ge(8) ? z.string().min(1) : z.string().min(1).optional(),
    ...(v.ge(28) ? { consumer_generation: z.number().int().min(0).nullable() } : {}),
  });
}
type ConsumerBody = z.output<ReturnType<typeof consumerSchema>>;

function toConsumer(consumerId: string, b: ConsumerBody, v: Microversion) {
  const allocations = Array.isArray(b.allocations)
    ? b.allocations.map((a) => ({ providerId: a.resource_provider.uuid, resources: a.resources }))
    : Object.entries(b.allocations).map(([providerId, a]) => ({ providerId, resources: a.resources }));
  if (allocations.length === 0 && !v.ge(28)) throw badRequest('JSON does not validate: allocations must not be empty.');
  const generation = 'consumer_generation' in b ? b.consumer_generation : undefined;
  return {
    consumerId,
    projectId: b.project_id ?? INCOMPLETE,
    userId: b.user_id ?? INCOMPLETE,
    allocations,
    ...(generation !== undefined ? { consumerGeneration: typeof generation === 'number' ? generation : null } : {}),
  };
}

route('GET', '/allocations/:consumer', async (c) => {
  const ctx = await auth(c);
  if (!Uuid.safeParse(p(c, 'consumer')).success) throw badRequest(`Malformed consumer_uuid: ${p(c, 'consumer')}`);
  const r = await pl.getConsumerAllocations(ctx, p(c, 'consumer'));
  const out: Record<string, unknown> = {
    allocations: Object.fromEntries(
      r.allocations.map((a) => [a.providerId, { generation: a.providerGeneration, resources: a.resources }]),
    ),
  };
  if (c.v.ge(12) && r.projectId !== null) {
    out.project_id = r.projectId;
    out.user_id = r.userId;
  }
  if (c.v.ge(28) && r.generation !== null) out.consumer_generation = r.generation;
  send(c.res, 200, out);
});

route('PUT', '/allocations/:consumer', async (c) => {
  const ctx = await auth(c);
  if (!Uuid.safeParse(p(c, 'consumer')).success) throw badRequest(`Malformed consumer_uuid: ${p(c, 'consumer')}`);
  const b = await body(c, consumerSchema(c.v));
  await pl.claimAllocations(ctx, toConsumer(p(c, 'consumer'), b, c.v));
  send(c.res, 204);
});

route(
  'POST',
  '/allocations',
  async (c) => {
    const ctx = await auth(c);
    const b = await body(c, z.record(Uuid, consumerSchema(c.v)));
    await pl.replaceManyAllocations(
      ctx,
      Object.entries(b).map(([id, cb]) => toConsumer(id, cb, c.v)),
    );
    send(c.res, 204);
  },
  13,
);

route('DELETE', '/allocations/:consumer', async (c) => {
  const ctx = await auth(c);
  if (!Uuid.safeParse(p(c, 'consumer')).success) throw badRequest(`Malformed consumer_uuid: ${p(c, 'consumer')}`);
  await pl.deleteAllocations(ctx, p(c, 'consumer'));
  send(c.res, 204);
});

// ---------------------------------------------------------------- allocation candidates

route(
  'GET',
  '/allocation_candidates',
  async (c) => {
    const ctx = await auth(c);
    const q = candidatesQuery(c.url, c.v);
    const r = await pl.getAllocationCandidates(ctx, q);
    const requested = new Set(Object.keys(q.resources));
    const allocation_requests = r.allocationRequests.map((ar) =>
      c.v.ge(12)
        ? { allocations: Object.fromEntries(ar.allocations.map((a) => [a.providerId, { resources: a.resources }])) }
        : {
            allocations: ar.allocations.map((a) => ({
              resource_provider: { uuid: a.providerId },
              resources: a.resources,
            })),
          },
    );
    const provider_summaries = Object.fromEntries(
      Object.values(r.providerSummaries).map((s) => {
        const resources = Object.fromEntries(
          Object.entries(s.resources).filter(([rc]) => c.v.ge(27) || requested.has(rc)),
        );
        return [
          s.uuid,
          {
            resources,
            ...(c.v.ge(17) ? { traits: s.traits } : {}),
            ...(c.v.ge(29)
              ? { parent_provider_uuid: s.parentProviderUuid, root_provider_uuid: s.rootProviderUuid }
              : {}),
          },
        ];
      }),
    );
    send(c.res, 200, { allocation_requests, provider_summaries });
  },
  10,
);

// ---------------------------------------------------------------- mount

export const placementMount: RestMount = {
  prefix: PREFIX,
  handler: async (req, res, url) => {
    if (url.pathname !== PREFIX && !url.pathname.startsWith(`${PREFIX}/`)) return false;
    let v: Microversion;
    try {
      v = parseMicroversion(req);
    } catch (err) {
      res.setHeader('vary', 'openstack-api-version');
      sendPlacementError(res, err);
      return true;
    }
    versions.set(req, v);
    res.setHeader('openstack-api-version', `placement ${v.toString()}`);
    res.setHeader('vary', 'openstack-api-version');
    if (v.ge(15) && (req.method === 'GET' || req.method === 'HEAD')) {
      res.setHeader('cache-control', 'no-cache');
      res.setHeader('last-modified', new Date().toUTCString());
    }
    return router.handler(req, res, url);
  },
};
