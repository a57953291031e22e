import type { PrismaClient, Server as ServerRow, Tx } from '@stratus/db';
import { claimAllocationsInTx } from '../placement/allocations.ts';
import { getInventories, setInventories } from '../placement/inventories.ts';
import { createResourceProvider } from '../placement/providers.ts';
import type { Resources } from '../placement/types.ts';
import { isNoValidHost, selectDestinations } from '../scheduler/select.ts';
import type { ComputeHostInfo, ComputeInfoSource, ServerGroupInfo, ServerGroupPolicy } from '../scheduler/types.ts';
import { aggregatesOfHosts, zoneOf } from './aggregates.ts';
import { cfg, db } from './common.ts';
import { FlavorSnapshot } from './servers.ts';

/*
 * Compute's side of scheduling: each compute node is a placement resource provider with
 * VCPU / MEMORY_MB / DISK_GB inventories; the scheduler (selectDestinations) filters and
 * weighs hosts with what compute knows about them (computeInfoSource) and claims the
 * server's resources in placement, the server's id being the placement consumer.
 */

/** What the scheduler needs to know about the hosts behind resource providers. */
export const computeInfoSource: ComputeInfoSource = {
  async hostsForProviders(providerIds) {
    const nodes = await db().computeNode.findMany({ where: { resourceProviderUuid: { in: providerIds } } });
    const services = await db().service.findMany({
      where: { binary: 'stratus-worker', host: { in: nodes.map((n) => n.host) } },
    });
    const aggregates = await aggregatesOfHosts(nodes.map((n) => n.host));
    const out = new Map<string, ComputeHostInfo>();
    for (const n of nodes) {
      const s = services.find((x) => x.host === n.host);
      let arch: string | undefined;
      try {
        const info: unknown = JSON.parse(n.cpuInfo);
        if (info && typeof info === 'object' && 'arch' in info && typeof info.arch === 'string') arch = info.arch;
      } catch {
        arch = undefined;
      }
      out.set(n.resourceProviderUuid, {
        host: n.host,
        nodename: n.hypervisorHostname,
        serviceDisabled: !s || s.disabled || !s.roles.includes('compute'),
        // A forced-down service counts as never heard from: the ComputeFilter refuses it.
        lastHeartbeat: s && !s.forcedDown ? s.lastHeartbeat : null,
        hypervisorType: n.hypervisorType,
        ...(arch ? { cpuArch: arch } : {}),
        availabilityZone: zoneOf(aggregates.get(n.host)),
        aggregates: aggregates.get(n.host) ?? [],
      });
    }
    return out;
  },
};

export function placementResources(f: FlavorSnapshot): Resources {
  const disk = f.diskGb + f.ephemeralGb + Math.ceil(f.swapMb / 1024);
  return { VCPU: f.vcpus, MEMORY_MB: f.ramMb, ...(disk > 0 ? { DISK_GB: disk } : {}) };
}

async function groupInfo(server: ServerRow): Promise<ServerGroupInfo | undefined> {
  if (!server.serverGroupId) return undefined;
  const g = await db().serverGroup.findUnique({ where: { id: server.serverGroupId }, include: { members: true } });
  if (!g) return undefined;
  const others = g.members.map((m) => m.serverId).filter((id) => id !== server.id);
  const hosts = others.length
    ? (
        await db().server.findMany({
          where: { id: { in: others }, deleted: false, host: { not: null } },
          select: { host: true },
        })
      ).map((s) => s.host ?? '')
    : [];
  const rules =
    g.rules && typeof g.rules === 'object' && !Array.isArray(g.rules) ? (g.rules as Record<string, unknown>) : {};
  const max = typeof rules.max_server_per_host === 'number' ? rules.max_server_per_host : undefined;
  return {
    id: g.id,
    policy: g.policy as ServerGroupPolicy,
    memberHosts: hosts,
    ...(max ? { maxServerPerHost: max } : {}),
  };
}

type Claimed = { host: string; nodename: string } | { error: string };

/**
 * One scheduler call for the server with `flavor` (its own unless a resize's new one),
 * claiming in placement with the server's id as consumer: build, resize and cold
 * migration differ only by where they may land (zone, server group, hosts to skip or
 * the only host allowed). `error` is the NoValidHost reason when nothing fits.
 */
async function claimHost(
  server: ServerRow,
  flavor: FlavorSnapshot,
  where: {
    availabilityZone?: string;
    serverGroup?: ServerGroupInfo;
    ignoreHosts?: string[];
    forceHosts?: string[];
  },
): Promise<Claimed> {
  try {
    const [sel] = await selectDestinations({
      request: {
        projectId: server.projectId,
        userId: server.userId,
        resources: placementResources(flavor),
        flavor: {
          name: flavor.name,
          vcpus: flavor.vcpus,
          memoryMb: flavor.ramMb,
          diskGb: flavor.diskGb,
          extraSpecs: flavor.extraSpecs,
        },
        image: { id: server.imageId },
        ...where,
      },
      consumerIds: [server.id],
      source: computeInfoSource,
    });
    if (!sel) return { error: 'No valid host was found.' };
    return { host: sel.host, nodename: sel.nodename };
  } catch (e) {
    if (isNoValidHost(e)) return { error: e instanceof Error ? e.message : String(e) };
    throw e;
  }
}

/**
 * Picks a host for the server and claims its resources in placement (committed on
 * return). `error` is the NoValidHost reason when nothing fits.
 */
export async function selectHost(
  server: ServerRow,
): Promise<{ host: string; nodename: string; availabilityZone: string } | { error: string }> {
  const serverGroup = await groupInfo(server);
  const sel = await claimHost(server, FlavorSnapshot.parse(server.flavor), {
    ...(server.availabilityZone ? { availabilityZone: server.availabilityZone } : {}),
    ...(serverGroup ? { serverGroup } : {}),
    ignoreHosts: server.triedHosts,
  });
  if ('error' in sel) return sel;
  // The server is in its host's zone from now on (Nova sets the instance's zone so).
  const zone = zoneOf((await aggregatesOfHosts([sel.host])).get(sel.host));
  return { ...sel, availabilityZone: zone };
}

/**
 * A resize's claim: the new flavor for the server on `host` (its own: resizes stay on
 * their host), through the scheduler so the filters still judge the new flavor.
 */
export async function selectHostForResize(server: ServerRow, flavor: FlavorSnapshot, host: string): Promise<Claimed> {
  return claimHost(server, flavor, { forceHosts: [host] });
}

/**
 * A cold migration's claim: the server's flavor on another host than `source` (or on
 * `host` when the admin named one), through the scheduler's filters (an unknown, disabled,
 * down or forced-down destination, or one breaking the server group, is no valid host).
 */
export async function selectHostForMigration(
  server: ServerRow,
  o: { source: string; host?: string | null },
): Promise<Claimed> {
  const serverGroup = await groupInfo(server);
  return claimHost(server, FlavorSnapshot.parse(server.flavor), {
    ...(serverGroup ? { serverGroup } : {}),
    ignoreHosts: [o.source],
    ...(o.host ? { forceHosts: [o.host] } : {}),
  });
}

/** Gives the server's resources back to placement; a no-op when it holds none. */
export async function releaseAllocation(tx: Tx, serverId: string): Promise<void> {
  const consumer = await tx.placementConsumer.findUnique({ where: { id: serverId } });
  if (!consumer) return;
  await claimAllocationsInTx(tx, {
    consumerId: serverId,
    projectId: consumer.projectId,
    userId: consumer.userId,
    allocations: [],
  });
}

/** Does the server hold resources in placement? */
export async function hasAllocation(client: Pick<PrismaClient, '$queryRaw'>, serverId: string): Promise<boolean> {
  const rows = await client.$queryRaw<
    Array<{ n: bigint }>
  >`SELECT count(*) AS n FROM "PlacementAllocation" WHERE "consumerId" = ${serverId}::uuid`;
  return Number(rows[0]?.n ?? 0) > 0;
}

/** Creates the node's resource provider when missing and sets its inventories from the host facts. */
export async function syncProvider(node: {
  host: string;
  resourceProviderUuid: string;
  vcpus: number;
  memoryMb: number;
  localGb: number;
}): Promise<string> {
  const c = cfg();
  let uuid = node.resourceProviderUuid;
  const byName = await db().resourceProvider.findUnique({ where: { name: node.host } });
  if (byName && byName.id !== uuid) {
    uuid = byName.id;
    await db().computeNode.update({ where: { host: node.host }, data: { resourceProviderUuid: uuid } });
  } else if (!byName) {
    await createResourceProvider('service', { uuid, name: node.host });
  }
  const inv = (total: number, reserved: number, allocationRatio: number) => ({
    total: Math.max(1, total),
    reserved: Math.min(reserved, Math.max(1, total)),
    allocationRatio,
  });
  for (let attempt = 0; ; attempt++) {
    const current = await getInventories('service', uuid);
    try {
      await setInventories('service', uuid, {
        resourceProviderGeneration: current.resourceProviderGeneration,
        inventories: {
          VCPU: inv(node.vcpus, 0, c.cpuAllocationRatio),
          MEMORY_MB: inv(node.memoryMb, c.reservedHostMemoryMb, c.ramAllocationRatio),
          DISK_GB: inv(node.localGb, c.reservedHostDiskGb, c.diskAllocationRatio),
        },
      });
      return uuid;
    } catch (e) {
      // A claim bumped the provider generation meanwhile: read it again.
      if (attempt < 5) continue;
      throw e;
    }
  }
}
