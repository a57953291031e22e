import { createHash, randomUUID } from 'node:crypto';
import { emitEvent, type ComputeNode as NodeRow, type PrismaClient } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { badRequest, notFound } from '../platform/errors.ts';
import { enforce } from '../policy/index.ts';
import { cfg, db, isUuid } from './common.ts';
import { PowerState, VmState } from './state.ts';
import { updateServer } from './records.ts';
import { syncProvider } from './scheduling.ts';
import { aggregatesOfHosts, INTERNAL_ZONE, zoneOf } from './aggregates.ts';

/*
 * Hypervisors (compute nodes) and compute services. A worker with the compute role
 * registers its node at start from the driver's host facts; the used counters are the
 * scheduler's claims (scheduling.ts).
 */

export interface HostFacts {
  hypervisorType: string;
  hypervisorVersion: string;
  cpuModel: string;
  arch: string;
  vcpus: number;
  memoryMb: number;
  diskGbTotal: number;
}

export async function registerComputeNode(
  host: string,
  facts: HostFacts,
  client: PrismaClient = db(),
): Promise<NodeRow> {
  const c = cfg();
  const data = {
    hypervisorHostname: host,
    hypervisorType: facts.hypervisorType.toUpperCase() === 'KVM' ? 'QEMU' : 'QEMU',
    hypervisorVersion: facts.hypervisorVersion,
    cpuInfo: JSON.stringify({ arch: facts.arch, model: facts.cpuModel }),
    vcpus: facts.vcpus,
    memoryMb: facts.memoryMb,
    localGb: facts.diskGbTotal,
    cpuAllocationRatio: c.cpuAllocationRatio,
    ramAllocationRatio: c.ramAllocationRatio,
    diskAllocationRatio: c.diskAllocationRatio,
  };
  const n = await client.$transaction(async (tx) => {
    const n = await tx.computeNode.upsert({
      where: { host },
      create: { host, resourceProviderUuid: randomUUID(), ...data },
      update: data,
    });
    await emitEvent(tx, { type: 'hypervisor.updated', projectId: null, resourceId: n.id, data: { host } });
    return n;
  });
  const uuid = await syncProvider(n);
  return uuid === n.resourceProviderUuid ? n : { ...n, resourceProviderUuid: uuid };
}

/** Recomputes a node's used counters (for the hypervisor API) from placement's usages. */
export async function refreshNodeUsage(host: string, client: PrismaClient = db()): Promise<void> {
  await client.$executeRaw`
    UPDATE "ComputeNode" n SET
      "vcpusUsed" = coalesce((SELECT sum(used) FROM "PlacementAllocation" a WHERE a."providerId" = n."resourceProviderUuid" AND a."resourceClass" = 'VCPU'), 0),
      "memoryMbUsed" = coalesce((SELECT sum(used) FROM "PlacementAllocation" a WHERE a."providerId" = n."resourceProviderUuid" AND a."resourceClass" = 'MEMORY_MB'), 0),
      "localGbUsed" = coalesce((SELECT sum(used) FROM "PlacementAllocation" a WHERE a."providerId" = n."resourceProviderUuid" AND a."resourceClass" = 'DISK_GB'), 0),
      "runningVms" = (SELECT count(*) FROM "Server" s WHERE s.host = n.host AND NOT s.deleted),
      "updatedAt" = now()
    WHERE n.host = ${host}`;
}

/**
 * A worker's service is up while its heartbeat is fresh and no operator forced it down
 * (Nova's forced_down: the host was fenced, so its heartbeats no longer count).
 */
export function serviceIsUp(s: { lastHeartbeat: Date; forcedDown: boolean }, since: number): boolean {
  return !s.forcedDown && s.lastHeartbeat.getTime() >= since;
}

export interface Hypervisor {
  node: NodeRow;
  state: 'up' | 'down';
  status: 'enabled' | 'disabled';
  serviceId: string | null;
  disabledReason: string | null;
}

async function withService(nodes: NodeRow[]): Promise<Hypervisor[]> {
  const services = await db().service.findMany({
    where: { binary: 'stratus-worker', host: { in: nodes.map((n) => n.host) } },
  });
  const since = Date.now() - cfg().serviceDownSeconds * 1000;
  return nodes.map((node) => {
    const s = services.find((x) => x.host === node.host);
    return {
      node,
      state: s && serviceIsUp(s, since) ? 'up' : 'down',
      status: s?.disabled ? 'disabled' : 'enabled',
      serviceId: s?.id ?? null,
      disabledReason: s?.disabledReason ?? null,
    };
  });
}

export async function listHypervisors(
  ctx: AuthContext,
  o: { detail?: boolean; hostPattern?: string } = {},
): Promise<Hypervisor[]> {
  enforce(ctx, o.detail ? 'os_compute_api:os-hypervisors:list-detail' : 'os_compute_api:os-hypervisors:list');
  const nodes = await db().computeNode.findMany({
    where: o.hostPattern ? { hypervisorHostname: { contains: o.hostPattern } } : {},
    orderBy: { host: 'asc' },
  });
  return withService(nodes);
}

export async function getHypervisor(ctx: AuthContext, id: string): Promise<Hypervisor> {
  enforce(ctx, 'os_compute_api:os-hypervisors:show');
  const n = isUuid(id)
    ? await db().computeNode.findUnique({ where: { id } })
    : await db().computeNode.findUnique({ where: { host: id } });
  if (!n) throw notFound(`Hypervisor with ID ${id} could not be found.`);
  const [h] = await withService([n]);
  if (!h) throw notFound(`Hypervisor with ID ${id} could not be found.`);
  return h;
}

export async function hypervisorStatistics(ctx: AuthContext) {
  enforce(ctx, 'os_compute_api:os-hypervisors:statistics');
  const nodes = await db().computeNode.findMany();
  const sum = (f: (n: NodeRow) => number) => nodes.reduce((a, n) => a + f(n), 0);
  return {
    count: nodes.length,
    vcpus: sum((n) => n.vcpus),
    vcpus_used: sum((n) => n.vcpusUsed),
    memory_mb: sum((n) => n.memoryMb),
    memory_mb_used: sum((n) => n.memoryMbUsed),
    free_ram_mb: sum((n) => n.memoryMb - n.memoryMbUsed),
    local_gb: sum((n) => n.localGb),
    local_gb_used: sum((n) => n.localGbUsed),
    free_disk_gb: sum((n) => n.localGb - n.localGbUsed),
    running_vms: sum((n) => n.runningVms),
    current_workload: 0,
    disk_available_least: sum((n) => n.localGb - n.localGbUsed),
  };
}

export interface ComputeService {
  id: string;
  binary: string;
  host: string;
  zone: string;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  updatedAt: Date;
  disabledReason: string | null;
  forcedDown: boolean;
}

/** Workers with the compute role appear as nova-compute, the scheduler role as nova-scheduler. */
export async function listComputeServices(
  ctx: AuthContext,
  o: { host?: string; binary?: string } = {},
): Promise<ComputeService[]> {
  enforce(ctx, 'os_compute_api:os-services:list');
  const rows = await db().service.findMany({
    where: { binary: 'stratus-worker', ...(o.host ? { host: o.host } : {}) },
    orderBy: { host: 'asc' },
  });
  const since = Date.now() - cfg().serviceDownSeconds * 1000;
  const aggregates = await aggregatesOfHosts(rows.map((s) => s.host));
  const out: ComputeService[] = [];
  for (const s of rows) {
    for (const [role, binary] of [
      ['compute', 'nova-compute'],
      ['scheduler', 'nova-scheduler'],
      ['conductor', 'nova-conductor'],
    ] as const) {
      if (!s.roles.includes(role) || (o.binary && o.binary !== binary)) continue;
      // forced_down is set on nova-compute only (one worker row carries all its roles).
      const forcedDown = role === 'compute' && s.forcedDown;
      out.push({
        id: roleServiceId(s.id, role),
        binary,
        host: s.host,
        zone: role === 'compute' ? zoneOf(aggregates.get(s.host)) : INTERNAL_ZONE,
        status: s.disabled ? 'disabled' : 'enabled',
        state: serviceIsUp({ lastHeartbeat: s.lastHeartbeat, forcedDown }, since) ? 'up' : 'down',
        updatedAt: s.lastHeartbeat,
        disabledReason: s.disabledReason,
        forcedDown,
      });
    }
  }
  return out;
}

/** What an operator may change on a compute service (Nova's PUT /os-services). */
export interface ComputeServiceUpdate {
  disabled?: boolean;
  reason?: string | null;
  /** Nova's forced_down: the host counts as down (and takes no servers) until unset. */
  forcedDown?: boolean;
}

/**
 * One worker row carries all its roles; Nova lists a service per binary, each with its
 * own id. nova-compute keeps the worker's id (the hypervisor's service id); the other
 * roles get a stable id derived from it (name-based, RFC 4122 version 5 layout).
 */
export function roleServiceId(workerId: string, role: 'compute' | 'scheduler' | 'conductor'): string {
  if (role === 'compute') return workerId;
  const h = createHash('sha1').update(`${workerId}/${role}`).digest();
  h[6] = ((h[6] ?? 0) & 0x0f) | 0x50;
  h[8] = ((h[8] ?? 0) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/**
 * The worker behind a compute service, by service id or by host (and, as Nova's older
 * by-host calls name it, binary: only nova-compute is a service one can change).
 */
async function findWorkerService(by: { id?: string; host?: string; binary?: string }) {
  if (by.binary !== undefined && by.binary !== 'nova-compute')
    throw notFound(`Service ${by.binary} on host ${by.host ?? ''} could not be found.`);
  const s = by.id
    ? isUuid(by.id)
      ? await db().service.findUnique({ where: { id: by.id } })
      : null
    : by.host
      ? await db().service.findFirst({ where: { host: by.host, binary: 'stratus-worker' } })
      : null;
  const missing = notFound(`Service ${by.id ?? by.host ?? ''} could not be found.`);
  if (!s && by.id && isUuid(by.id)) {
    // The id of a worker's scheduler or conductor: a service Nova does not let one update.
    const workers = await db().service.findMany({ where: { binary: 'stratus-worker' }, select: { id: true } });
    for (const w of workers)
      for (const role of ['scheduler', 'conductor'] as const)
        if (roleServiceId(w.id, role) === by.id.toLowerCase())
          throw badRequest(
            `Updating a nova-${role} service is not supported. Only nova-compute services can be updated.`,
          );
  }
  if (!s) throw missing;
  if (s.binary !== 'stratus-worker') throw missing;
  return s;
}

/**
 * Changes a host's compute service: enabled/disabled (with a reason) and forced_down.
 * The scheduler skips a disabled or forced-down host; admins' dashboards follow through
 * the `service.updated` event, written in the same transaction as the change.
 */
export async function updateComputeService(
  ctx: AuthContext,
  by: { id?: string; host?: string; binary?: string },
  o: ComputeServiceUpdate,
): Promise<ComputeService> {
  enforce(ctx, 'os_compute_api:os-services:update');
  if (o.disabled === undefined && o.forcedDown === undefined)
    throw badRequest("'status' and/or 'forced_down' must be specified.");
  // A reason goes with disabling only (Nova: also when the status is not given at all).
  if (o.disabled !== true && o.reason)
    throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
  const found = await findWorkerService(by);
  if (!found.roles.includes('compute'))
    throw badRequest('Updating a service is only supported for nova-compute services.');
  await db().$transaction(async (tx) => {
    const s = await tx.service.update({
      where: { id: found.id },
      data: {
        ...(o.disabled !== undefined
          ? { disabled: o.disabled, disabledReason: o.disabled ? (o.reason ?? null) : null }
          : {}),
        ...(o.forcedDown !== undefined ? { forcedDown: o.forcedDown } : {}),
      },
    });
    await emitEvent(tx, {
      type: 'service.updated',
      projectId: null,
      resourceId: s.id,
      data: { host: s.host, binary: 'nova-compute', disabled: s.disabled, forcedDown: s.forcedDown },
    });
  });
  const list = await listComputeServices(ctx, { host: found.host, binary: 'nova-compute' });
  const out = list[0];
  if (!out) throw notFound(`Service ${found.id} could not be found.`);
  return out;
}

/** Enables or disables a host's compute service (the scheduler skips disabled hosts). */
export async function setComputeServiceStatus(
  ctx: AuthContext,
  by: { id?: string; host?: string },
  o: { disabled: boolean; reason?: string | null },
): Promise<ComputeService> {
  return updateComputeService(ctx, by, { disabled: o.disabled, reason: o.disabled ? (o.reason ?? null) : null });
}

/** Sets or unsets Nova's forced_down on a host's compute service. */
export async function setComputeServiceForcedDown(
  ctx: AuthContext,
  by: { id?: string; host?: string; binary?: string },
  forcedDown: boolean,
): Promise<ComputeService> {
  return updateComputeService(ctx, by, { forcedDown });
}

/**
 * Heartbeats are not events, so nothing is written when a worker stops beating. Every
 * worker calls this on its heartbeat tick: services whose heartbeat just got older than
 * the limit are marked (one conditional UPDATE, so exactly one caller wins each
 * transition) and announced as `service.down`; the service's next heartbeat clears the
 * mark and announces `service.up` (platform/services.ts heartbeat). Returns the hosts
 * announced down.
 */
export async function reportStaleServices(client: PrismaClient, downSeconds: number): Promise<string[]> {
  const since = new Date(Date.now() - downSeconds * 1000);
  return client.$transaction(async (tx) => {
    const rows = await tx.$queryRaw<Array<{ id: string; host: string; binary: string }>>`
      UPDATE "Service" SET "reportedDown" = true
       WHERE NOT "reportedDown" AND "lastHeartbeat" < ${since}
       RETURNING id::text AS id, host, "binary"`;
    for (const r of rows)
      await emitEvent(tx, {
        type: 'service.down',
        projectId: null,
        resourceId: r.id,
        data: { host: r.host, binary: r.binary, reason: 'heartbeat' },
      });
    return rows.map((r) => r.host);
  });
}

export interface AvailabilityZoneView {
  zoneName: string;
  /** Some compute service of the zone is enabled and up. */
  available: boolean;
  /** With detail: the zone's hosts (for the internal zone: the scheduler/conductor hosts). */
  hosts: string[] | null;
  /** With detail: per host, its services as Nova lists them (nova-compute, nova-scheduler, ...). */
  services: Record<string, Array<{ binary: string; available: boolean; active: boolean; updatedAt: Date }>> | null;
}

/**
 * Zones as Nova lists them: the zones of the compute hosts (from their aggregates, else
 * the default zone), each available when one of its compute services is enabled and up;
 * with detail (admins) also the internal zone of the other services, and the hosts.
 */
export async function listAvailabilityZones(
  ctx: AuthContext,
  o: { detail?: boolean } = {},
): Promise<AvailabilityZoneView[]> {
  enforce(ctx, o.detail ? 'os_compute_api:os-availability-zone:detail' : 'os_compute_api:os-availability-zone:list');
  const rows = await db().service.findMany({ where: { binary: 'stratus-worker' }, orderBy: { host: 'asc' } });
  const since = Date.now() - cfg().serviceDownSeconds * 1000;
  const aggregates = await aggregatesOfHosts(rows.map((s) => s.host));
  const zones = new Map<string, AvailabilityZoneView>();
  const zone = (name: string) => {
    let z = zones.get(name);
    if (!z) {
      z = { zoneName: name, available: false, hosts: o.detail ? [] : null, services: o.detail ? {} : null };
      zones.set(name, z);
    }
    return z;
  };
  for (const s of rows) {
    const up = serviceIsUp(s, since);
    // forced_down is nova-compute's alone; the worker's other roles follow its heartbeats.
    const beating = s.lastHeartbeat.getTime() >= since;
    for (const [role, binary] of [
      ['compute', 'nova-compute'],
      ['scheduler', 'nova-scheduler'],
      ['conductor', 'nova-conductor'],
    ] as const) {
      if (!s.roles.includes(role)) continue;
      if (role !== 'compute' && !o.detail) continue;
      const z = zone(role === 'compute' ? zoneOf(aggregates.get(s.host)) : INTERNAL_ZONE);
      if (role === 'compute' && up && !s.disabled) z.available = true;
      if (role !== 'compute') z.available = true;
      if (z.hosts && !z.hosts.includes(s.host)) z.hosts.push(s.host);
      if (z.services) {
        const list = z.services[s.host] ?? [];
        list.push({
          binary,
          available: role === 'compute' ? up : beating,
          active: !s.disabled,
          updatedAt: s.lastHeartbeat,
        });
        z.services[s.host] = list;
      }
    }
  }
  if (zones.size === 0) zone(cfg().defaultAvailabilityZone);
  return [...zones.values()].sort((a, b) => a.zoneName.localeCompare(b.zoneName));
}

/**
 * Power-state sync for one host: servers whose domain stopped outside Stratus become
 * SHUTOFF (Nova's _sync_instance_power_state, "stop" policy); paused/running are
 * recorded. Servers with a task in progress are left to their task.
 */
export async function syncPowerStates(
  host: string,
  domains: Array<{ uuid: string; powerState: number }>,
  client: PrismaClient = db(),
): Promise<number> {
  const byId = new Map(domains.map((d) => [d.uuid, d.powerState]));
  const servers = await client.server.findMany({
    where: {
      host,
      deleted: false,
      taskState: null,
      vmState: { in: [VmState.ACTIVE, VmState.PAUSED, VmState.STOPPED] },
    },
  });
  let changed = 0;
  for (const s of servers) {
    const ps = byId.get(s.id) ?? PowerState.NOSTATE;
    if (ps === s.powerState) continue;
    await client.$transaction(async (tx) => {
      const cur = await tx.server.findUnique({ where: { id: s.id } });
      if (!cur || cur.deleted || cur.taskState !== null || cur.powerState !== s.powerState) return;
      const stoppedOutside =
        cur.vmState === VmState.ACTIVE &&
        (ps === PowerState.SHUTDOWN || ps === PowerState.NOSTATE || ps === PowerState.CRASHED);
      await updateServer(tx, s.id, { powerState: ps, ...(stoppedOutside ? { vmState: VmState.STOPPED } : {}) });
    });
    changed++;
  }
  return changed;
}
