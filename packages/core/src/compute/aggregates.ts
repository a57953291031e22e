import { emitEvent, Prisma, type Tx } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { setProviderAggregateMembershipInTx } from '../placement/traits.ts';
import { badRequest, conflict, notFound } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import type { HostAggregate } from '../scheduler/types.ts';
import { cfg, db, newUuid } from './common.ts';

/*
 * Host aggregates (Nova's os-aggregates): named groups of compute hosts with metadata.
 * The availability_zone key makes an aggregate an availability zone: its hosts are in
 * that zone, hosts in no such aggregate are in the default zone. A host's zone is unique
 * (two aggregates with different zones cannot share a host). Membership is mirrored into
 * placement (the host's resource provider joins the aggregate's uuid), as Nova does. The
 * scheduler reads aggregates for AggregateInstanceExtraSpecsFilter and the zone filter.
 */

export const AZ_KEY = 'availability_zone';
/** The zone Nova gives services that are not compute hosts; no aggregate may take it. */
export const INTERNAL_ZONE = 'internal';

export interface HostAggregateView {
  id: number;
  uuid: string;
  name: string;
  availabilityZone: string | null;
  hosts: string[];
  metadata: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

type Row = Prisma.AggregateGetPayload<{ include: { hosts: true } }>;

const Metadata = z.record(z.string(), z.string());
function metadataOf(json: unknown): Record<string, string> {
  const r = Metadata.safeParse(json);
  return r.success ? r.data : {};
}

function toView(r: Row): HostAggregateView {
  const metadata = metadataOf(r.metadata);
  return {
    id: r.id,
    uuid: r.uuid,
    name: r.name,
    availabilityZone: metadata[AZ_KEY] ?? null,
    hosts: r.hosts.map((h) => h.host).sort(),
    metadata,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

const Name = z
  .string()
  .max(255)
  .refine((s) => s.trim().length > 0, { message: 'must not be empty or blank' });
const Zone = z
  .string()
  .max(255)
  .refine((s) => s.trim().length > 0, { message: 'must not be empty or blank' })
  .refine((s) => s !== INTERNAL_ZONE, { message: `the zone name '${INTERNAL_ZONE}' is reserved` });

function parse<T extends z.ZodType>(schema: T, field: string, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (!r.success) throw badRequest(`Invalid input for field/attribute ${field}. ${r.error.issues[0]?.message ?? ''}`);
  return r.data;
}

async function findRow(client: Pick<Tx, 'aggregate' | '$queryRaw'>, id: string | number, lock = false): Promise<Row> {
  const n = typeof id === 'number' ? id : /^\d+$/.test(id) ? Number(id) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > 2147483647) throw notFound(`Aggregate ${id} could not be found.`);
  // In a transaction: serialises changes of one aggregate (membership, zone).
  if (lock) await client.$queryRaw`SELECT id FROM "Aggregate" WHERE id = ${n} FOR UPDATE`;
  const row = await client.aggregate.findUnique({ where: { id: n }, include: { hosts: true } });
  if (!row) throw notFound(`Aggregate ${id} could not be found.`);
  return row;
}

/**
 * Every aggregate change that touches zones takes this lock first, so two parallel
 * changes cannot each pass the "one zone per host" check and together break it.
 */
async function lockZones(tx: Tx): Promise<void> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(hashtext('stratus:aggregate-zones'))::text`;
}

async function emit(tx: Tx, type: 'aggregate.updated' | 'aggregate.deleted', id: number): Promise<void> {
  await emitEvent(tx, { type, projectId: null, resourceId: String(id), data: {} });
}

/** Zones of these hosts from other aggregates than `except`: host → set of zones. */
async function zonesOfHosts(tx: Tx, hosts: string[], except?: number): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  if (hosts.length === 0) return out;
  const rows = await tx.aggregateHost.findMany({
    where: { host: { in: hosts }, ...(except !== undefined ? { aggregateId: { not: except } } : {}) },
    include: { aggregate: true },
  });
  for (const r of rows) {
    const zone = metadataOf(r.aggregate.metadata)[AZ_KEY];
    if (zone === undefined) continue;
    const set = out.get(r.host) ?? new Set<string>();
    set.add(zone);
    out.set(r.host, set);
  }
  return out;
}

/** A new zone for an aggregate's hosts must not contradict their other aggregates' zones. */
async function checkZoneChange(tx: Tx, agg: Row, zone: string | null, action: string): Promise<void> {
  if (zone === null) return;
  const others = await zonesOfHosts(
    tx,
    agg.hosts.map((h) => h.host),
    agg.id,
  );
  const clash = [...others.entries()].filter(([, zones]) => [...zones].some((z) => z !== zone));
  if (clash.length > 0) {
    throw badRequest(
      `Invalid action ${action} on aggregate ${agg.id}: One or more hosts already in availability zone(s) ${[
        ...new Set(clash.flatMap(([, z]) => [...z])),
      ].join(', ')}`,
    );
  }
}

const isUniqueViolation = (e: unknown) => e instanceof Prisma.PrismaClientKnownRequestError && e.code === 'P2002';

export async function listAggregates(ctx: AuthContext): Promise<HostAggregateView[]> {
  enforce(ctx, 'os_compute_api:os-aggregates:index');
  const rows = await db().aggregate.findMany({ include: { hosts: true }, orderBy: { id: 'asc' } });
  return rows.map(toView);
}

export async function getAggregate(ctx: AuthContext, id: string | number): Promise<HostAggregateView> {
  enforce(ctx, 'os_compute_api:os-aggregates:show');
  return toView(await findRow(db(), id));
}

export async function createAggregate(
  ctx: AuthContext,
  input: { name: string; availabilityZone?: string | null },
): Promise<HostAggregateView> {
  enforce(ctx, 'os_compute_api:os-aggregates:create');
  const name = parse(Name, 'name', input.name);
  const zone = input.availabilityZone == null ? null : parse(Zone, 'availability_zone', input.availabilityZone);
  try {
    return await db().$transaction(async (tx) => {
      const row = await tx.aggregate.create({
        data: { uuid: newUuid(), name, metadata: zone === null ? {} : { [AZ_KEY]: zone } },
        include: { hosts: true },
      });
      await emit(tx, 'aggregate.updated', row.id);
      return toView(row);
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`Aggregate ${name} already exists.`);
    throw e;
  }
}

/** PUT /os-aggregates/{id}: rename and/or change the zone (null or absent keeps it). */
export async function updateAggregate(
  ctx: AuthContext,
  id: string | number,
  input: { name?: string; availabilityZone?: string | null },
): Promise<HostAggregateView> {
  enforce(ctx, 'os_compute_api:os-aggregates:update');
  if (input.name === undefined && input.availabilityZone === undefined) {
    throw badRequest("Invalid input for field/attribute aggregate. At least one of 'name' or 'availability_zone'.");
  }
  const name = input.name === undefined ? undefined : parse(Name, 'name', input.name);
  const zone = input.availabilityZone == null ? undefined : parse(Zone, 'availability_zone', input.availabilityZone);
  try {
    return await db().$transaction(async (tx) => {
      await lockZones(tx);
      const agg = await findRow(tx, id, true);
      const metadata = metadataOf(agg.metadata);
      if (zone !== undefined) {
        await checkZoneChange(tx, agg, zone, 'update aggregate');
        metadata[AZ_KEY] = zone;
      }
      const row = await tx.aggregate.update({
        where: { id: agg.id },
        data: { ...(name !== undefined ? { name } : {}), metadata },
        include: { hosts: true },
      });
      await emit(tx, 'aggregate.updated', row.id);
      return toView(row);
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`Aggregate ${name ?? ''} already exists.`);
    throw e;
  }
}

/** Only an empty aggregate can go (Nova: remove its hosts first). */
export async function deleteAggregate(ctx: AuthContext, id: string | number): Promise<void> {
  enforce(ctx, 'os_compute_api:os-aggregates:delete');
  await db().$transaction(async (tx) => {
    const agg = await findRow(tx, id, true);
    if (agg.hosts.length > 0) {
      throw badRequest(`Invalid action delete on aggregate ${agg.id}: Host aggregate is not empty`);
    }
    await tx.aggregate.delete({ where: { id: agg.id } });
    await emit(tx, 'aggregate.deleted', agg.id);
  });
}

export async function addAggregateHost(
  ctx: AuthContext,
  id: string | number,
  host: string,
): Promise<HostAggregateView> {
  enforce(ctx, 'os_compute_api:os-aggregates:add_host');
  return db().$transaction(async (tx) => {
    await lockZones(tx);
    const agg = await findRow(tx, id, true);
    const node = await tx.computeNode.findUnique({ where: { host } });
    if (!node) throw notFound(`Compute host ${host} could not be found.`);
    if (agg.hosts.some((h) => h.host === host)) throw conflict(`Aggregate ${agg.id} already has host ${host}.`);
    const zone = metadataOf(agg.metadata)[AZ_KEY];
    if (zone !== undefined) {
      const current = [...((await zonesOfHosts(tx, [host])).get(host) ?? [])];
      const clash = current.filter((z) => z !== zone);
      if (clash.length > 0) {
        throw conflict(
          `Cannot add host to aggregate ${agg.id}. Reason: One or more hosts already in availability zone(s) ${clash.join(', ')}.`,
        );
      }
      // The servers on the host would change zone under their users' feet.
      if (current.length === 0 && zone !== cfg().defaultAvailabilityZone) {
        const servers = await tx.server.count({ where: { host, deleted: false } });
        if (servers > 0) {
          throw conflict(
            `Cannot add host to aggregate ${agg.id}. Reason: Host ${host} has ${servers} instance(s) in availability zone ${cfg().defaultAvailabilityZone}.`,
          );
        }
      }
    }
    await tx.aggregateHost.create({ data: { aggregateId: agg.id, host } });
    await setProviderAggregateMembershipInTx(tx, node.resourceProviderUuid, agg.uuid, true);
    await tx.aggregate.update({ where: { id: agg.id }, data: { updatedAt: new Date() } });
    await emit(tx, 'aggregate.updated', agg.id);
    return toView(await findRow(tx, agg.id));
  });
}

export async function removeAggregateHost(
  ctx: AuthContext,
  id: string | number,
  host: string,
): Promise<HostAggregateView> {
  enforce(ctx, 'os_compute_api:os-aggregates:remove_host');
  return db().$transaction(async (tx) => {
    const agg = await findRow(tx, id, true);
    if (!agg.hosts.some((h) => h.host === host)) {
      throw notFound(`Cannot remove host ${host} in aggregate ${agg.id}: not found.`);
    }
    await tx.aggregateHost.delete({ where: { aggregateId_host: { aggregateId: agg.id, host } } });
    const node = await tx.computeNode.findUnique({ where: { host } });
    if (node) await setProviderAggregateMembershipInTx(tx, node.resourceProviderUuid, agg.uuid, false);
    await tx.aggregate.update({ where: { id: agg.id }, data: { updatedAt: new Date() } });
    await emit(tx, 'aggregate.updated', agg.id);
    return toView(await findRow(tx, agg.id));
  });
}

const MetadataInput = z.record(z.string().min(1).max(255), z.string().max(255).nullable());

/** set_metadata: merges; a null value removes the key. availability_zone moves the zone. */
export async function setAggregateMetadata(
  ctx: AuthContext,
  id: string | number,
  metadata: Record<string, string | null>,
): Promise<HostAggregateView> {
  enforce(ctx, 'os_compute_api:os-aggregates:set_metadata');
  const changes = parse(MetadataInput, 'metadata', metadata);
  const zoneChange = changes[AZ_KEY];
  if (typeof zoneChange === 'string') parse(Zone, 'availability_zone', zoneChange);
  return db().$transaction(async (tx) => {
    await lockZones(tx);
    const agg = await findRow(tx, id, true);
    if (typeof zoneChange === 'string') await checkZoneChange(tx, agg, zoneChange, 'update aggregate metadata');
    const merged = metadataOf(agg.metadata);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null) delete merged[k];
      else merged[k] = v;
    }
    const row = await tx.aggregate.update({
      where: { id: agg.id },
      data: { metadata: merged },
      include: { hosts: true },
    });
    await emit(tx, 'aggregate.updated', row.id);
    return toView(row);
  });
}

// ---------------------------------------------------------------- for the scheduler and zones

/** The aggregates of each of these hosts (name and metadata), for the scheduler's filters. */
export async function aggregatesOfHosts(hosts: string[]): Promise<Map<string, HostAggregate[]>> {
  const out = new Map<string, HostAggregate[]>();
  if (hosts.length === 0) return out;
  const rows = await db().aggregateHost.findMany({ where: { host: { in: hosts } }, include: { aggregate: true } });
  for (const r of rows) {
    const list = out.get(r.host) ?? [];
    list.push({ name: r.aggregate.name, metadata: metadataOf(r.aggregate.metadata) });
    out.set(r.host, list);
  }
  return out;
}

/** A host's availability zone: its aggregates' availability_zone, else the default zone. */
export function zoneOf(aggregates: HostAggregate[] | undefined): string {
  return aggregates?.map((a) => a.metadata[AZ_KEY]).find((z) => z !== undefined) ?? cfg().defaultAvailabilityZone;
}

/** Every zone that exists: the default one and those of aggregates (with or without hosts). */
export async function knownZones(): Promise<Set<string>> {
  const rows = await db().aggregate.findMany({ select: { metadata: true } });
  const zones = new Set([cfg().defaultAvailabilityZone]);
  for (const r of rows) {
    const z = metadataOf(r.metadata)[AZ_KEY];
    if (z !== undefined) zones.add(z);
  }
  return zones;
}
