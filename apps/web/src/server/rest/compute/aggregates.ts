import * as core from '@stratus/core';
import { badRequest } from '@stratus/core';
import { z } from 'zod';
import { parseInput, readJson, type RouteContext, requireAuth, send } from '../common.ts';
import { atLeast, type Microversion } from './microversion.ts';
import { isoMicro } from './shapes.ts';

/*
 * Nova's os-aggregates (admin): list, create, show, update, delete, and the add_host,
 * remove_host and set_metadata actions. A thin adapter over core/compute/aggregates.ts;
 * uuid appears from 2.41. The create answer has no hosts or metadata, as Nova's.
 */
type Ctx = RouteContext & { v: Microversion };
type AddRoute = (method: string, pattern: string, h: (c: Ctx) => Promise<void>) => void;

export function aggregateJson(a: core.HostAggregateView, v: Microversion, full = true): Record<string, unknown> {
  const out: Record<string, unknown> = {
    availability_zone: a.availabilityZone,
    created_at: isoMicro(a.createdAt),
    deleted: false,
    deleted_at: null,
    id: a.id,
    name: a.name,
    updated_at: isoMicro(a.updatedAt),
  };
  if (full) {
    out.hosts = a.hosts;
    out.metadata = a.metadata;
  }
  if (atLeast(v, 41)) out.uuid = a.uuid;
  return out;
}

async function bodyOf(c: RouteContext, key: string): Promise<unknown> {
  const raw = await readJson(c.req);
  if (!(key in raw)) throw badRequest(`Invalid input for field/attribute ${key}. '${key}' is a required property`);
  return raw[key];
}

const CreateBody = z.object({ name: z.string(), availability_zone: z.string().nullish() }).strict();
const UpdateBody = z.object({ name: z.string().optional(), availability_zone: z.string().nullish() }).strict();
const HostBody = z.object({ host: z.string().min(1).max(255) }).strict();
const MetadataBody = z
  .object({ metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])) })
  .strict();

export function registerAggregateRoutes(route: AddRoute, V: string): void {
  route('GET', `${V}/os-aggregates`, async (c) => {
    const ctx = await requireAuth(c.req);
    const list = await core.listAggregates(ctx);
    send(c.res, 200, { aggregates: list.map((a) => aggregateJson(a, c.v)) });
  });
  route('POST', `${V}/os-aggregates`, async (c) => {
    const ctx = await requireAuth(c.req);
    const b = parseInput(CreateBody, await bodyOf(c, 'aggregate'));
    const a = await core.createAggregate(ctx, { name: b.name, availabilityZone: b.availability_zone ?? null });
    send(c.res, 200, { aggregate: aggregateJson(a, c.v, false) });
  });
  route('GET', `${V}/os-aggregates/:id`, async (c) => {
    const ctx = await requireAuth(c.req);
    send(c.res, 200, { aggregate: aggregateJson(await core.getAggregate(ctx, c.params.id ?? ''), c.v) });
  });
  route('PUT', `${V}/os-aggregates/:id`, async (c) => {
    const ctx = await requireAuth(c.req);
    const b = parseInput(UpdateBody, await bodyOf(c, 'aggregate'));
    const a = await core.updateAggregate(ctx, c.params.id ?? '', {
      ...(b.name !== undefined ? { name: b.name } : {}),
      ...(b.availability_zone !== undefined ? { availabilityZone: b.availability_zone } : {}),
    });
    send(c.res, 200, { aggregate: aggregateJson(a, c.v) });
  });
  route('DELETE', `${V}/os-aggregates/:id`, async (c) => {
    const ctx = await requireAuth(c.req);
    await core.deleteAggregate(ctx, c.params.id ?? '');
    send(c.res, 200);
  });
  route('POST', `${V}/os-aggregates/:id/action`, async (c) => {
    const ctx = await requireAuth(c.req);
    const raw = await readJson(c.req);
    const [name, ...rest] = Object.keys(raw);
    if (!name || rest.length > 0) throw badRequest('The body must name exactly one action.');
    const id = c.params.id ?? '';
    let a: core.HostAggregateView;
    switch (name) {
      case 'add_host':
        a = await core.addAggregateHost(ctx, id, parseInput(HostBody, raw[name]).host);
        break;
      case 'remove_host':
        a = await core.removeAggregateHost(ctx, id, parseInput(HostBody, raw[name]).host);
        break;
      case 'set_metadata': {
        const b = parseInput(MetadataBody, raw[name]);
        a = await core.setAggregateMetadata(
          ctx,
          id,
          Object.fromEntries(Object.entries(b.metadata).map(([k, v]) => [k, v === null ? null : String(v)])),
        );
        break;
      }
      default:
        throw badRequest(`Invalid action ${name}: there is no such aggregate action.`);
    }
    send(c.res, 200, { aggregate: aggregateJson(a, c.v) });
  });
}
