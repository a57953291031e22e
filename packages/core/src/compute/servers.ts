import { randomBytes } from 'node:crypto';
import type { InstanceAction as InstanceActionRow, Prisma, Server as ServerRow, Tx } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import { enqueueJob } from '../platform/jobs.ts';
import { currentRequestId } from '../platform/log.ts';
import { badRequest, conflict, notFound, StratusError } from '../platform/errors.ts';
import { markerPage } from '../platform/paging.ts';
import { can, enforce } from '../policy/index.ts';
import { db, isAdmin, isUuid, newUuid, overLimit, projectOf } from './common.ts';
import { knownZones } from './aggregates.ts';
import { getFlavor } from './flavors.ts';
import { imageBackend } from './images.ts';
import { buildJobDef, deleteJobDef, type PowerOp, powerJobDef, scheduleJobDef, serverQueue } from './jobs.ts';
import { lockProjectQuota, quotaLimits, quotaUsage } from './quotas.ts';
import {
  emitServerEvent,
  eventFinish,
  eventStart,
  fault as makeFault,
  finishAction,
  startAction,
  updateServer,
} from './records.ts';
import { releaseMigrations } from './lifecycle.ts';
import { releaseAllocation } from './scheduling.ts';
import { planBootVolumes, releaseServerVolumes, reserveBootVolumes, volumesAttachedTo } from './volume-attachments.ts';
import { getNetwork } from '../network/networks.ts';
import { getPort } from '../network/ports.ts';
import { type AddressMap, listServerAddresses } from '../network/server.ts';
import { readServerLogWindow } from '../console/log.ts';
import { canDo, PowerState, type ServerAction, serverStatus, statesForStatus, TaskState, VmState } from './state.ts';

export interface FlavorSnapshot {
  id: string;
  name: string;
  vcpus: number;
  ramMb: number;
  diskGb: number;
  ephemeralGb: number;
  swapMb: number;
  extraSpecs: Record<string, string>;
}
export const FlavorSnapshot = z.object({
  id: z.string(),
  name: z.string(),
  vcpus: z.number(),
  ramMb: z.number(),
  diskGb: z.number(),
  ephemeralGb: z.number().default(0),
  swapMb: z.number().default(0),
  extraSpecs: z.record(z.string(), z.string()).default({}),
});

/** What a server keeps of its flavor: the flavor as it is now (boot, resize). */
export function flavorSnapshot(f: FlavorSnapshot): FlavorSnapshot {
  return {
    id: f.id,
    name: f.name,
    vcpus: f.vcpus,
    ramMb: f.ramMb,
    diskGb: f.diskGb,
    ephemeralGb: f.ephemeralGb,
    swapMb: f.swapMb,
    extraSpecs: f.extraSpecs,
  };
}

export interface Fault {
  code: number;
  message: string;
  details: string;
  created: string;
}
const FaultSchema = z.object({
  code: z.number(),
  message: z.string(),
  details: z.string().default(''),
  created: z.string(),
});
const Metadata = z.record(z.string(), z.string());

export interface Server {
  id: string;
  name: string;
  hostname: string;
  projectId: string;
  userId: string;
  flavor: FlavorSnapshot;
  imageId: string;
  keyName: string | null;
  keyData: string | null;
  userData: string | null;
  metadata: Record<string, string>;
  availabilityZone: string | null;
  reservationId: string;
  launchIndex: number;
  host: string | null;
  node: string | null;
  vmState: string;
  taskState: string | null;
  powerState: number;
  status: string;
  locked: boolean;
  lockedReason: string | null;
  fault: Fault | null;
  accessIpV4: string | null;
  accessIpV6: string | null;
  serverGroupId: string | null;
  launchedAt: Date | null;
  terminatedAt: Date | null;
  deleted: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export function toServer(r: ServerRow): Server {
  const flavor = FlavorSnapshot.parse(r.flavor);
  const f = r.fault ? FaultSchema.safeParse(r.fault) : undefined;
  const md = Metadata.safeParse(r.metadata);
  return {
    id: r.id,
    name: r.name,
    hostname: r.hostname,
    projectId: r.projectId,
    userId: r.userId,
    flavor,
    imageId: r.imageId,
    keyName: r.keyName,
    keyData: r.keyData,
    userData: r.userData,
    metadata: md.success ? md.data : {},
    availabilityZone: r.availabilityZone,
    reservationId: r.reservationId,
    launchIndex: r.launchIndex,
    host: r.host,
    node: r.node,
    vmState: r.vmState,
    taskState: r.taskState,
    powerState: r.powerState,
    status: r.deleted ? 'DELETED' : serverStatus(r.vmState, r.taskState),
    locked: r.locked,
    lockedReason: r.lockedReason,
    fault: f?.success ? f.data : null,
    accessIpV4: r.accessIpV4,
    accessIpV6: r.accessIpV6,
    serverGroupId: r.serverGroupId,
    launchedAt: r.launchedAt,
    terminatedAt: r.terminatedAt,
    deleted: r.deleted,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

// ---------------------------------------------------------------- create

const MetadataInput = z
  .record(z.string().min(1).max(255), z.string().max(255))
  .refine((m) => Object.keys(m).length <= 1000, 'too many metadata items');

export const ServerCreate = z.object({
  name: z
    .string()
    .min(1)
    .max(255)
    .refine((s) => s.trim().length > 0 && s.trim() === s, 'name must not be blank or start/end with spaces'),
  /** May be empty when block_device_mapping_v2 gives a root volume (boot from volume). */
  imageRef: z.string(),
  /** Nova's block_device_mapping_v2, checked by volume-attachments.ts (planBootVolumes). */
  blockDeviceMapping: z.array(z.unknown()).optional(),
  flavorRef: z.string().min(1),
  keyName: z.string().min(1).nullish(),
  minCount: z.coerce.number().int().min(1).default(1),
  maxCount: z.coerce.number().int().min(1).optional(),
  /** base64, as Nova takes it. */
  userData: z
    .string()
    .max(65535)
    .regex(/^[A-Za-z0-9+/=\s]*$/, 'user_data must be base64')
    .nullish(),
  metadata: MetadataInput.optional(),
  availabilityZone: z.string().min(1).nullish(),
  /** 'none' and 'auto' as Nova 2.37; a list of requested networks otherwise. */
  networks: z
    .union([
      z.literal('none'),
      z.literal('auto'),
      z.array(z.object({ uuid: z.string().optional(), port: z.string().optional(), fixed_ip: z.string().optional() })),
    ])
    .optional(),
  accessIpV4: z.ipv4().nullish(),
  accessIpV6: z.ipv6().nullish(),
  serverGroupId: z.string().nullish(),
});
export type ServerCreate = z.input<typeof ServerCreate>;

/** A network the build gives the server a port on: a new port on `networkId`, or the user's `portId`. */
export type RequestedNetwork = {
  networkId?: string;
  portId?: string;
  fixedIp?: string;
};
export const RequestedNetworks = z.array(
  z.object({ networkId: z.string().optional(), portId: z.string().optional(), fixedIp: z.string().optional() }),
);

/**
 * Nova's checks of `networks`: each network must exist and be visible to the caller,
 * each port must be visible and free; 'auto' (and no `networks` at all) means the
 * project's only network, when it has exactly one; 'none' means no network.
 */
async function resolveNetworks(
  ctx: AuthContext,
  projectId: string,
  networks: z.infer<typeof ServerCreate>['networks'],
  count: number,
): Promise<RequestedNetwork[]> {
  if (networks === 'none') return [];
  if (networks === undefined || networks === 'auto') {
    const own = await db().network.findMany({
      where: { projectId, external: false },
      select: { id: true },
      take: 2,
    });
    return own.length === 1 && own[0] ? [{ networkId: own[0].id }] : [];
  }
  const out: RequestedNetwork[] = [];
  for (const n of networks) {
    if (n.port) {
      if (count > 1)
        throw badRequest(
          'Unable to launch multiple instances with a single configured port ID. Please launch your instance one by one with different ports.',
        );
      const port = await getPort(ctx, n.port).catch((err: unknown) => {
        if (err instanceof StratusError && err.code === 'NotFound')
          throw badRequest(`Port ${n.port} could not be found.`);
        throw err;
      });
      if (port.deviceId) throw conflict(`Port ${port.id} is still in use.`);
      if (out.some((o) => o.portId === port.id)) throw badRequest(`Port ${port.id} is requested more than once.`);
      out.push({ portId: port.id });
      continue;
    }
    if (!n.uuid) throw badRequest('Bad networks format: network uuid is not in proper format');
    const uuid = n.uuid;
    const net = await getNetwork(ctx, uuid).catch((err: unknown) => {
      if (err instanceof StratusError && err.code === 'NotFound')
        throw badRequest(`Network ${uuid} could not be found.`);
      throw err;
    });
    if (n.fixed_ip !== undefined) {
      if (!z.union([z.ipv4(), z.ipv6()]).safeParse(n.fixed_ip).success)
        throw badRequest(`Invalid fixed IP address (${n.fixed_ip})`);
      if (count > 1) throw badRequest('Unable to launch multiple instances with a single fixed IP address.');
    }
    out.push({ networkId: net.id, ...(n.fixed_ip !== undefined ? { fixedIp: n.fixed_ip } : {}) });
  }
  return out;
}

/**
 * The context a build acts in on the networking service: the server's owner as a
 * member of its project (Nova passes the user's request context along the same way).
 */
export function serverContext(s: Pick<ServerRow, 'userId' | 'projectId'>): AuthContext {
  return {
    userId: s.userId,
    userName: '',
    domainId: '',
    projectId: s.projectId,
    projectName: null,
    domainScopeId: null,
    system: false,
    roles: ['member', 'reader'],
    tokenId: '',
    auditId: '',
    expiresAt: new Date(Date.now() + 3600_000),
    methods: [],
  };
}

/** The ports the user passed with --nic port-id=: unbound, not deleted, with the server. */
export function userPortsOf(s: Pick<ServerRow, 'requestedNetworks'>): string[] {
  const r = RequestedNetworks.safeParse(s.requestedNetworks);
  return r.success ? r.data.flatMap((n) => (n.portId ? [n.portId] : [])) : [];
}

function hostnameOf(name: string, index: number, multi: boolean): string {
  let h = name
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 63);
  if (!h) h = 'server';
  return multi ? `${h}-${index + 1}`.slice(0, 63) : h;
}

export interface CreateResult {
  servers: Server[];
  reservationId: string;
  adminPass: string;
}

/**
 * Validates, checks quota under the project's lock, and in one transaction writes the
 * server(s), their `create` actions and their schedule jobs.
 */
export async function createServers(ctx: AuthContext, input: ServerCreate): Promise<CreateResult> {
  const projectId = projectOf(ctx);
  enforce(ctx, 'os_compute_api:servers:create', { project_id: projectId, user_id: ctx.userId });
  const parsed = ServerCreate.safeParse(input);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw badRequest(`Invalid input for field/attribute ${i?.path.join('.') || 'server'}. ${i?.message ?? ''}`.trim());
  }
  const v = parsed.data;
  const maxCount = v.maxCount ?? v.minCount;
  if (maxCount < v.minCount) throw badRequest('min_count must be <= max_count');

  const flavor = await getFlavor(ctx, v.flavorRef).catch((err: unknown) => {
    if (err instanceof StratusError && err.code === 'NotFound')
      throw badRequest(`Flavor ${v.flavorRef} could not be found.`);
    throw err;
  });
  if (flavor.disabled) throw badRequest(`Flavor ${flavor.id} is disabled.`);

  const boot = v.blockDeviceMapping?.length
    ? await planBootVolumes(ctx, v.blockDeviceMapping, { count: maxCount, imageRef: v.imageRef || null })
    : undefined;
  const fromVolume = boot?.volumes.some((b) => b.bootIndex === 0) ?? false;
  if (!v.imageRef && !fromVolume) throw badRequest('Invalid input for field/attribute imageRef. imageRef is required.');
  const image = fromVolume
    ? // Nova keeps no image on a server booted from a volume (the volume carries its image metadata).
      { id: '', minRamMb: 0, minDiskGb: 0, virtualSizeBytes: null, sizeBytes: null }
    : await imageBackend().find(ctx, v.imageRef);
  if (!image) throw badRequest(`Image ${v.imageRef} could not be found.`);
  if ('status' in image && image.status !== 'active') throw badRequest(`Image ${image.id} is not active.`);
  if (flavor.ramMb < image.minRamMb) throw badRequest(`Flavor's memory is too small for requested image.`);
  if (flavor.diskGb > 0 && !fromVolume) {
    if (flavor.diskGb < image.minDiskGb)
      throw badRequest(
        `Flavor's disk is too small for requested image. Flavor disk is ${flavor.diskGb * 1024 ** 3} bytes, minimum disk is ${image.minDiskGb * 1024 ** 3} bytes.`,
      );
    const size = image.virtualSizeBytes ?? image.sizeBytes ?? 0;
    if (size > flavor.diskGb * 1024 ** 3)
      throw badRequest(
        `Flavor's disk is too small for requested image. Flavor disk is ${flavor.diskGb * 1024 ** 3} bytes, image is ${size} bytes.`,
      );
  }

  let keyData: string | null = null;
  if (v.keyName) {
    const kp = await db().keyPair.findUnique({ where: { userId_name: { userId: ctx.userId, name: v.keyName } } });
    if (!kp) throw badRequest(`Invalid key_name provided.`);
    keyData = kp.publicKey;
  }

  const requested = await resolveNetworks(ctx, projectId, v.networks, maxCount);

  if (v.userData) {
    const decoded = Buffer.from(v.userData.replace(/\s+/g, ''), 'base64');
    if (decoded.toString('base64').replace(/=+$/, '') !== v.userData.replace(/\s+/g, '').replace(/=+$/, '')) {
      throw badRequest('User data needs to be valid base 64.');
    }
  }

  const az = v.availabilityZone ?? null;
  if (az) {
    // "zone", or the admin-only "zone:host" that forces a host (the zone may then be empty).
    const [zone = '', forcedHost] = az.split(':');
    if (forcedHost !== undefined) enforce(ctx, 'os_compute_api:servers:create:forced_host', { project_id: projectId });
    if ((zone || forcedHost === undefined) && !(await knownZones()).has(zone)) {
      throw badRequest(`The requested availability zone is not available`);
    }
  }

  let groupId: string | null = null;
  if (v.serverGroupId) {
    const g = isUuid(v.serverGroupId) ? await db().serverGroup.findUnique({ where: { id: v.serverGroupId } }) : null;
    if (!g || (g.projectId !== projectId && !isAdmin(ctx))) throw badRequest(`Invalid server group ${v.serverGroupId}`);
    groupId = g.id;
  }

  const snapshot = flavorSnapshot(flavor);
  const metadata = v.metadata ?? {};
  const reservationId = `r-${randomBytes(4).toString('hex')}`;
  const requestId = currentRequestId() ?? `req-${newUuid()}`;

  const rows = await db().$transaction(
    async (tx) => {
      await lockProjectQuota(tx, projectId);
      const limits = await quotaLimits(projectId, tx);
      if (limits.metadata_items >= 0 && Object.keys(metadata).length > limits.metadata_items) {
        throw overLimit(
          `Quota exceeded for metadata_items: Requested ${Object.keys(metadata).length}, but limit is ${limits.metadata_items}`,
        );
      }
      const used = await quotaUsage(projectId, tx);
      const fits = (limit: number, inUse: number, per: number) =>
        limit < 0 || per === 0 ? maxCount : Math.floor((limit - inUse) / per);
      const count = Math.min(
        maxCount,
        fits(limits.instances, used.instances, 1),
        fits(limits.cores, used.cores, flavor.vcpus),
        fits(limits.ram, used.ram, flavor.ramMb),
      );
      if (count < v.minCount) {
        const over =
          limits.instances >= 0 && used.instances + v.minCount > limits.instances
            ? { r: 'instances', req: v.minCount, used: used.instances, lim: limits.instances }
            : limits.cores >= 0 && used.cores + v.minCount * flavor.vcpus > limits.cores
              ? { r: 'cores', req: v.minCount * flavor.vcpus, used: used.cores, lim: limits.cores }
              : { r: 'ram', req: v.minCount * flavor.ramMb, used: used.ram, lim: limits.ram };
        throw overLimit(
          `Quota exceeded for ${over.r}: Requested ${over.req}, but already used ${over.used} of ${over.lim} ${over.r}`,
        );
      }
      const created: ServerRow[] = [];
      for (let i = 0; i < count; i++) {
        const id = newUuid();
        const s = await tx.server.create({
          data: {
            id,
            name: count > 1 ? `${v.name}-${i + 1}` : v.name,
            hostname: hostnameOf(v.name, i, count > 1),
            projectId,
            userId: ctx.userId,
            flavorId: flavor.id,
            flavor: { ...snapshot },
            imageId: image.id,
            keyName: v.keyName ?? null,
            keyData,
            userData: v.userData ? v.userData.replace(/\s+/g, '') : null,
            metadata,
            availabilityZone: az,
            reservationId,
            launchIndex: i,
            vmState: VmState.BUILDING,
            taskState: TaskState.SCHEDULING,
            powerState: PowerState.NOSTATE,
            accessIpV4: v.accessIpV4 ?? null,
            accessIpV6: v.accessIpV6 ?? null,
            serverGroupId: groupId,
            requestedNetworks: requested,
          },
        });
        if (groupId) await tx.serverGroupMember.create({ data: { groupId, serverId: id } });
        if (boot) await reserveBootVolumes(tx, id, projectId, boot);
        const actionId = await startAction(tx, {
          serverId: id,
          action: 'create',
          requestId,
          projectId,
          userId: ctx.userId,
        });
        await enqueueJob(tx, scheduleJobDef, { serverId: id, actionId }, { jobKey: `schedule:${id}` });
        await emitServerEvent(tx, s, 'server.created');
        created.push(s);
      }
      return created;
    },
    { maxWait: 60_000, timeout: 60_000 },
  );
  return { servers: rows.map(toServer), reservationId, adminPass: randomBytes(9).toString('base64url') };
}

// ---------------------------------------------------------------- read

export async function loadServer(
  ctx: AuthContext,
  id: string,
  action: string,
  opts: { includeDeleted?: boolean } = {},
): Promise<ServerRow> {
  const r = isUuid(id) ? await db().server.findUnique({ where: { id } }) : null;
  if (!r || (r.deleted && !opts.includeDeleted)) throw notFound(`Instance ${id} could not be found.`);
  // Another project's server is "not found" to a non-admin, as Nova answers.
  if (!can(ctx, action, { project_id: r.projectId, user_id: r.userId })) {
    if (r.projectId !== ctx.projectId) throw notFound(`Instance ${id} could not be found.`);
    enforce(ctx, action, { project_id: r.projectId, user_id: r.userId });
  }
  return r;
}

export async function getServer(ctx: AuthContext, id: string): Promise<Server> {
  // Deleted servers are 404 to everyone (Nova); admins list them with ?deleted=true or changes-since.
  return toServer(await loadServer(ctx, id, 'os_compute_api:servers:show'));
}

export interface ServerListOptions {
  detail?: boolean;
  allTenants?: boolean;
  projectId?: string;
  userId?: string;
  /** A regular expression, as Nova's name filter. */
  name?: string;
  status?: string;
  flavorId?: string;
  imageId?: string;
  host?: string;
  changesSince?: Date;
  reservationId?: string;
  ip?: string;
  deleted?: boolean;
  marker?: string;
  limit?: number;
  sortKey?: 'created_at' | 'updated_at' | 'display_name' | 'uuid' | 'vm_state' | 'task_state' | 'host' | 'launched_at';
  sortDir?: 'asc' | 'desc';
}

const SORT: Record<NonNullable<ServerListOptions['sortKey']>, keyof Prisma.ServerOrderByWithRelationInput & string> = {
  created_at: 'createdAt',
  updated_at: 'updatedAt',
  display_name: 'name',
  uuid: 'id',
  vm_state: 'vmState',
  task_state: 'taskState',
  host: 'host',
  launched_at: 'launchedAt',
};

const NULLABLE_SORT = new Set<string>(['host', 'taskState', 'launchedAt']);

export async function listServers(ctx: AuthContext, o: ServerListOptions = {}): Promise<Server[]> {
  const base = o.detail ? 'os_compute_api:servers:detail' : 'os_compute_api:servers:index';
  const where: Prisma.ServerWhereInput = {};
  if (o.allTenants || (o.projectId && o.projectId !== ctx.projectId)) {
    enforce(ctx, `${base}:get_all_tenants`);
    if (o.projectId) where.projectId = o.projectId;
  } else {
    const projectId = projectOf(ctx);
    enforce(ctx, base, { project_id: projectId });
    where.projectId = projectId;
  }
  const admin = isAdmin(ctx);
  if (o.host !== undefined) {
    // Nova silently ignores admin-only filters for others.
    if (can(ctx, 'os_compute_api:servers:allow_all_filters')) where.host = o.host;
  }
  if (o.userId) where.userId = o.userId;
  if (o.flavorId) where.flavorId = o.flavorId;
  if (o.imageId) where.imageId = o.imageId;
  if (o.reservationId) where.reservationId = o.reservationId;
  if (o.changesSince) where.updatedAt = { gte: o.changesSince };
  if (o.deleted && admin) where.deleted = true;
  else if (!o.changesSince) where.deleted = false;
  if (o.status) {
    const st = statesForStatus(o.status);
    if (!st) return [];
    where.vmState = { in: st.vmStates };
    if (st.taskStates) where.taskState = { in: st.taskStates.filter((t): t is string => t !== null) };
    if (o.status.toUpperCase() === 'DELETED' && !o.changesSince) where.deleted = !!admin;
  }
  let re: RegExp | undefined;
  if (o.name) {
    try {
      re = new RegExp(o.name);
    } catch {
      throw badRequest(`Invalid name filter regex: ${o.name}`);
    }
  }
  const field = SORT[o.sortKey ?? 'created_at'];
  const named = (r: ServerRow | null) => (r && (!re || re.test(r.name)) ? r : null);
  const page = await markerPage<Prisma.ServerWhereInput, Prisma.ServerOrderByWithRelationInput>(
    o,
    { field, dir: o.sortDir ?? 'desc', nullable: NULLABLE_SORT.has(field) },
    async (id) => named(await db().server.findFirst({ where: { AND: [where, { id }] } })),
  );
  // The name filter is a regular expression (Nova's): it is matched here, after the marker.
  const rows = await db().server.findMany({
    ...page,
    where: { AND: [where, page.where] },
    ...(re ? { take: undefined } : {}),
  });
  return (re ? rows.filter((r) => named(r)).slice(0, page.take) : rows).map(toServer);
}

// ---------------------------------------------------------------- delete

export async function deleteServer(ctx: AuthContext, id: string): Promise<void> {
  const row = await loadServer(ctx, id, 'os_compute_api:servers:delete');
  const requestId = currentRequestId() ?? `req-${newUuid()}`;
  await db().$transaction(async (tx) => {
    const s = await lockServer(tx, row.id);
    if (!s || s.deleted) throw notFound(`Instance ${id} could not be found.`);
    if (s.taskState === TaskState.DELETING) return;
    check('delete', s, ctx);
    const actionId = await startAction(tx, {
      serverId: s.id,
      action: 'delete',
      requestId,
      projectId: s.projectId,
      userId: ctx.userId,
    });
    if (!s.host) {
      // Never reached a host: nothing to undo on a hypervisor.
      await releaseAllocation(tx, s.id);
      await finishDelete(tx, s.id, actionId);
      return;
    }
    await updateServer(tx, s.id, { taskState: TaskState.DELETING });
    await enqueueJob(tx, deleteJobDef, { serverId: s.id, actionId }, { host: s.host, queueName: serverQueue(s.id) });
  });
}

/** The last step of every delete: allocations gone, the row soft-deleted. */
export async function finishDelete(tx: Tx, serverId: string, actionId: string): Promise<void> {
  await releaseAllocation(tx, serverId);
  await releaseMigrations(tx, serverId);
  await tx.serverGroupMember.deleteMany({ where: { serverId } });
  // Attached volumes become available again (or are deleted when delete_on_termination).
  await releaseServerVolumes(tx, serverId);
  await updateServer(tx, serverId, {
    vmState: VmState.DELETED,
    taskState: null,
    powerState: PowerState.NOSTATE,
    deleted: true,
    deletedAt: new Date(),
    terminatedAt: new Date(),
  });
  await eventFinish(tx, actionId, 'compute_terminate_instance', 'Success');
  await finishAction(tx, actionId);
}

export async function lockServer(tx: Tx, id: string): Promise<ServerRow | undefined> {
  const rows = await tx.$queryRaw<
    Array<{ id: string }>
  >`SELECT id::text FROM "Server" WHERE id = ${id}::uuid FOR UPDATE`;
  if (rows.length === 0) return undefined;
  return (await tx.server.findUnique({ where: { id } })) ?? undefined;
}

function check(action: ServerAction, s: ServerRow, ctx: AuthContext): void {
  const v = canDo(action, s, { isAdmin: isAdmin(ctx) });
  if (!v.ok) throw conflict(v.reason);
}

// ---------------------------------------------------------------- power actions

const POWER: Record<PowerOp, { policy: string; check: ServerAction; task: string; action: string }> = {
  stop: { policy: 'servers:stop', check: 'stop', task: TaskState.POWERING_OFF, action: 'stop' },
  start: { policy: 'servers:start', check: 'start', task: TaskState.POWERING_ON, action: 'start' },
  reboot_soft: { policy: 'servers:reboot', check: 'reboot', task: TaskState.REBOOTING, action: 'reboot' },
  reboot_hard: { policy: 'servers:reboot', check: 'reboot_hard', task: TaskState.REBOOTING_HARD, action: 'reboot' },
  pause: { policy: 'os-pause-server:pause', check: 'pause', task: TaskState.PAUSING, action: 'pause' },
  unpause: { policy: 'os-pause-server:unpause', check: 'unpause', task: TaskState.UNPAUSING, action: 'unpause' },
  suspend: { policy: 'os-suspend-server:suspend', check: 'suspend', task: TaskState.SUSPENDING, action: 'suspend' },
  resume: { policy: 'os-suspend-server:resume', check: 'resume', task: TaskState.RESUMING, action: 'resume' },
};

/** stop/start/reboot/pause/...: sets the task state and hands the work to the server's host. */
export async function serverPowerAction(ctx: AuthContext, id: string, op: PowerOp): Promise<void> {
  const p = POWER[op];
  const row = await loadServer(ctx, id, `os_compute_api:${p.policy}`);
  const requestId = currentRequestId() ?? `req-${newUuid()}`;
  await db().$transaction(async (tx) => {
    const s = await lockServer(tx, row.id);
    if (!s || s.deleted) throw notFound(`Instance ${id} could not be found.`);
    check(p.check, s, ctx);
    if (!s.host) throw conflict(`Cannot '${p.action}' instance ${id}: it is not on any host.`);
    const actionId = await startAction(tx, {
      serverId: s.id,
      action: p.action,
      requestId,
      projectId: s.projectId,
      userId: ctx.userId,
    });
    await updateServer(tx, s.id, { taskState: p.task });
    await enqueueJob(tx, powerJobDef, { serverId: s.id, actionId, op }, { host: s.host, queueName: serverQueue(s.id) });
  });
}

export async function lockServerAction(ctx: AuthContext, id: string, lock: boolean, reason?: string): Promise<void> {
  const row = await loadServer(
    ctx,
    id,
    lock ? 'os_compute_api:os-lock-server:lock' : 'os_compute_api:os-lock-server:unlock',
  );
  if (!lock && row.locked && row.lockedBy !== ctx.userId)
    enforce(ctx, 'os_compute_api:os-lock-server:unlock:unlock_override', { project_id: row.projectId });
  const requestId = currentRequestId() ?? `req-${newUuid()}`;
  await db().$transaction(async (tx) => {
    const actionId = await startAction(tx, {
      serverId: row.id,
      action: lock ? 'lock' : 'unlock',
      requestId,
      projectId: row.projectId,
      userId: ctx.userId,
    });
    await updateServer(
      tx,
      row.id,
      lock
        ? { locked: true, lockedBy: ctx.userId, lockedReason: reason ?? null }
        : { locked: false, lockedBy: null, lockedReason: null },
    );
    await finishAction(tx, actionId);
  });
}

/** A volume attached to a server, as Nova's os-extended-volumes:volumes_attached lists it. */
export interface AttachedVolumeRef {
  id: string;
  deleteOnTermination: boolean;
}

/**
 * A server with its IP addresses from the network service and its attached volumes
 * from the block storage service, as API responses show it.
 */
export type ServerWithAddresses = Server & { addresses: AddressMap; volumesAttached: AttachedVolumeRef[] };

/** One address query and one attachment query for the whole list, never one per server. */
async function withAddresses(servers: Server[]): Promise<ServerWithAddresses[]> {
  if (servers.length === 0) return [];
  const ids = servers.map((s) => s.id);
  const [map, volumes] = await Promise.all([listServerAddresses(ids), volumesAttachedTo(ids)]);
  return servers.map((s) => ({ ...s, addresses: map[s.id] ?? {}, volumesAttached: volumes.get(s.id) ?? [] }));
}

/** listServers plus each server's addresses (detail views). */
export async function listServersWithAddresses(
  ctx: AuthContext,
  o: ServerListOptions = {},
): Promise<ServerWithAddresses[]> {
  return withAddresses(await listServers(ctx, o));
}

/** getServer plus its addresses and attached volumes. */
export async function showServer(ctx: AuthContext, id: string): Promise<ServerWithAddresses> {
  return withOwnAddresses(await getServer(ctx, id));
}

async function withOwnAddresses(s: Server): Promise<ServerWithAddresses> {
  const [map, volumes] = await Promise.all([listServerAddresses([s.id]), volumesAttachedTo([s.id])]);
  return { ...s, addresses: map[s.id] ?? {}, volumesAttached: volumes.get(s.id) ?? [] };
}

export async function updateServerAttrs(
  ctx: AuthContext,
  id: string,
  input: { name?: string; accessIpV4?: string | null; accessIpV6?: string | null },
): Promise<ServerWithAddresses> {
  const row = await loadServer(ctx, id, 'os_compute_api:servers:update');
  check('update', row, ctx);
  const data: Prisma.ServerUpdateInput = {};
  if (input.name !== undefined) {
    if (!input.name.trim() || input.name.length > 255) throw badRequest('Invalid input for field/attribute name.');
    data.name = input.name;
  }
  if (input.accessIpV4 !== undefined) data.accessIpV4 = input.accessIpV4;
  if (input.accessIpV6 !== undefined) data.accessIpV6 = input.accessIpV6;
  const s = await db().$transaction(async (tx) => {
    const s = await tx.server.update({ where: { id: row.id }, data });
    await emitServerEvent(tx, s, 'server.updated');
    return s;
  });
  return withOwnAddresses(toServer(s));
}

// ---------------------------------------------------------------- metadata

export async function getServerMetadata(ctx: AuthContext, id: string): Promise<Record<string, string>> {
  return toServer(await loadServer(ctx, id, 'os_compute_api:server-metadata:index')).metadata;
}

/** Merges (replace=false) or replaces the metadata; an empty-string key deletion is separate. */
export async function setServerMetadata(
  ctx: AuthContext,
  id: string,
  items: Record<string, string>,
  o: { replace?: boolean } = {},
): Promise<Record<string, string>> {
  const row = await loadServer(
    ctx,
    id,
    o.replace ? 'os_compute_api:server-metadata:update_all' : 'os_compute_api:server-metadata:update',
  );
  check('metadata', row, ctx);
  const parsed = MetadataInput.safeParse(items);
  if (!parsed.success) throw badRequest('Invalid metadata: keys are 1-255 characters, values at most 255.');
  const md = o.replace ? parsed.data : { ...toServer(row).metadata, ...parsed.data };
  const limits = await quotaLimits(row.projectId);
  if (limits.metadata_items >= 0 && Object.keys(md).length > limits.metadata_items) {
    throw overLimit(
      `Quota exceeded for metadata_items: Requested ${Object.keys(md).length}, but limit is ${limits.metadata_items}`,
    );
  }
  await db().$transaction(async (tx) => updateServer(tx, row.id, { metadata: md }));
  return md;
}

export async function deleteServerMetadataItem(ctx: AuthContext, id: string, key: string): Promise<void> {
  const row = await loadServer(ctx, id, 'os_compute_api:server-metadata:delete');
  check('metadata', row, ctx);
  const md = toServer(row).metadata;
  if (!(key in md)) throw notFound('Metadata item was not found');
  delete md[key];
  await db().$transaction(async (tx) => updateServer(tx, row.id, { metadata: md }));
}

// ---------------------------------------------------------------- console

export async function getConsoleOutput(ctx: AuthContext, id: string, length?: number): Promise<string> {
  const row = await loadServer(ctx, id, 'os_compute_api:os-console-output');
  check('console_output', row, ctx);
  if (!row.host) throw conflict(`Instance ${id} is not on any host yet.`);
  // The serial log the libvirt driver keeps, from this host's file or through the console
  // proxy of the server's host (console/log.ts), cleaned as Nova does.
  const window = await readServerLogWindow(
    { serverId: row.id, projectId: row.projectId, host: row.host },
    ctx.userId,
    length,
  );
  return window.text;
}

// ---------------------------------------------------------------- instance actions

export interface InstanceActionView {
  id: string;
  action: string;
  instanceUuid: string;
  requestId: string;
  userId: string;
  projectId: string;
  startTime: Date;
  finishTime: Date | null;
  updatedAt: Date;
  message: string | null;
  events?: Array<{
    event: string;
    startTime: Date;
    finishTime: Date | null;
    result: string | null;
    host?: string | null;
    traceback?: string | null;
    details: string | null;
  }>;
}

function actionView(a: InstanceActionRow): InstanceActionView {
  return {
    id: a.id,
    action: a.action,
    instanceUuid: a.serverId,
    requestId: a.requestId,
    userId: a.userId,
    projectId: a.projectId,
    startTime: a.startTime,
    finishTime: a.finishTime,
    updatedAt: a.updatedAt,
    message: a.message,
  };
}

export async function listInstanceActions(ctx: AuthContext, id: string): Promise<InstanceActionView[]> {
  const row = await loadServer(ctx, id, 'os_compute_api:os-instance-actions:list', { includeDeleted: true });
  const rows = await db().instanceAction.findMany({
    where: { serverId: row.id },
    orderBy: [{ startTime: 'desc' }, { id: 'desc' }],
  });
  return rows.map(actionView);
}

export async function getInstanceAction(ctx: AuthContext, id: string, requestId: string): Promise<InstanceActionView> {
  const row = await loadServer(ctx, id, 'os_compute_api:os-instance-actions:show', { includeDeleted: true });
  const a = await db().instanceAction.findFirst({
    where: { serverId: row.id, requestId },
    include: { events: { orderBy: { startTime: 'asc' } } },
    orderBy: { startTime: 'desc' },
  });
  if (!a) throw notFound(`Action ${requestId} not found`);
  const target = { project_id: row.projectId, user_id: row.userId };
  const showEvents = can(ctx, 'os_compute_api:os-instance-actions:events', target);
  const details = can(ctx, 'os_compute_api:os-instance-actions:events:details', target);
  return {
    ...actionView(a),
    ...(showEvents
      ? {
          events: a.events.map((e) => ({
            event: e.event,
            startTime: e.startTime,
            finishTime: e.finishTime,
            result: e.result,
            details: e.message,
            ...(details ? { host: e.host, traceback: e.traceback } : {}),
          })),
        }
      : {}),
  };
}

export { eventStart, eventFinish, finishAction, makeFault, buildJobDef };
