import { emitEvent } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { db, isUuid, nConflict, nNotFound, requestSync, transaction } from './common.ts';
import { tunnelHosts } from './tunnels.ts';
import { bridgeName, tapName } from './names.ts';
import { getNetwork } from './networks.ts';
import { authorize, tf } from './policy.ts';
import { deletePortTx, type PortRecord, withPortRetry, createPortTx } from './ports.ts';
import { checkQuota } from './quotas.ts';

/*
 * What compute asks of networking: a port per requested network, bound to the host
 * that builds the server, and the addresses to show in the server's `addresses`.
 */

export const COMPUTE_OWNER = 'compute:nova';

/** `--network <id>`: a new port for the server on that network, in the caller's project. */
export async function createPortForServer(o: {
  ctx: AuthContext;
  networkId: string;
  serverId: string;
  securityGroupIds?: string[];
  fixedIp?: string;
}): Promise<PortRecord> {
  const net = await getNetwork(o.ctx, o.networkId);
  const projectId = o.ctx.projectId ?? net.projectId;
  const target = {
    project_id: projectId,
    network_project_id: net.projectId,
    shared: tf(net.shared),
    external: tf(net.external),
  };
  authorize(o.ctx, 'create_port', target);
  authorize(o.ctx, 'create_port:on_foreign_network', target);
  if (o.fixedIp) authorize(o.ctx, 'create_port:fixed_ips:ip_address', target);
  return withPortRetry(async (tx) => {
    await checkQuota(tx, projectId, 'port');
    const port = await createPortTx(tx, {
      networkId: net.id,
      projectId,
      deviceOwner: COMPUTE_OWNER,
      deviceId: o.serverId,
      securityGroupIds: o.securityGroupIds,
      fixedIps: o.fixedIp ? [{ ipAddress: o.fixedIp }] : undefined,
    });
    return port;
  });
}

export interface BoundPort {
  portId: string;
  mac: string;
  ips: string[];
  networkId: string;
  networkName: string;
  /** The Linux bridge the guest's tap joins (libvirt <interface type='bridge'>). */
  bridge: string;
  /** The tap device name libvirt should create (<target dev=…>). */
  tap: string;
  mtu: number;
}

/**
 * `--nic port-id=` or a port from createPortForServer: binds it to the host and server,
 * asks the host's agent to wire it, and returns what the hypervisor driver needs.
 */
export async function bindPort(o: { portId: string; host: string; serverId: string }): Promise<BoundPort> {
  return transaction(async (tx) => {
    const port = isUuid(o.portId)
      ? await tx.port.findUnique({ where: { id: o.portId }, include: { fixedIps: true, network: true } })
      : null;
    if (!port) throw nNotFound('PortNotFound', `Port ${o.portId} could not be found.`);
    if (port.deviceId && port.deviceId !== o.serverId)
      throw nConflict(
        'PortInUse',
        `Unable to complete operation on port ${port.id} for network ${port.networkId}. Port already has an attached device ${port.deviceId}.`,
      );
    await tx.port.update({
      where: { id: port.id },
      data: {
        deviceId: o.serverId,
        deviceOwner: port.deviceOwner || COMPUTE_OWNER,
        bindingHost: o.host,
        status: 'BUILD',
      },
    });
    // Hosts with tunnels gain a peer (l2population): they re-sync too.
    await requestSync(tx, `port ${port.id} bound to ${o.host}`, [o.host, ...(await tunnelHosts(tx))]);
    return {
      portId: port.id,
      mac: port.macAddress,
      ips: port.fixedIps.map((f) => f.ip),
      networkId: port.networkId,
      networkName: port.network.name,
      bridge: bridgeName(port.networkId),
      tap: tapName(port.id),
      mtu: port.network.mtu,
    };
  });
}

/** Detaches a port from its server (it stays, unbound, e.g. a pre-created port). */
export async function unbindPort(o: { portId: string }): Promise<void> {
  await transaction(async (tx) => {
    const port = isUuid(o.portId) ? await tx.port.findUnique({ where: { id: o.portId } }) : null;
    if (!port) return;
    await tx.port.update({
      where: { id: port.id },
      data: { deviceId: '', deviceOwner: '', bindingHost: '', status: 'DOWN' },
    });
    await requestSync(
      tx,
      `port ${port.id} unbound`,
      port.bindingHost ? [port.bindingHost, ...(await tunnelHosts(tx))] : undefined,
    );
    await emitEvent(tx, {
      type: 'port.updated',
      projectId: port.projectId,
      resourceId: port.id,
      data: { status: 'DOWN' },
    });
  });
}

/**
 * Server deleted: its ports go (with their addresses and floating IP associations),
 * except `preserve` (ports the user created and passed with --nic port-id=), which
 * are unbound instead.
 */
export async function deletePortsOfServer(serverId: string, opts: { preserve?: string[] } = {}): Promise<string[]> {
  return transaction(async (tx) => {
    const ports = await tx.port.findMany({ where: { deviceId: serverId, deviceOwner: { startsWith: 'compute:' } } });
    const hosts = new Set<string>();
    const deleted: string[] = [];
    for (const p of ports) {
      if (p.bindingHost) hosts.add(p.bindingHost);
      if (opts.preserve?.includes(p.id)) {
        await tx.floatingIp.updateMany({
          where: { portId: p.id },
          data: { portId: null, fixedIp: null, routerId: null, status: 'DOWN' },
        });
        await tx.port.update({
          where: { id: p.id },
          data: { deviceId: '', deviceOwner: '', bindingHost: '', status: 'DOWN' },
        });
      } else {
        await deletePortTx(tx, p.id);
        deleted.push(p.id);
      }
    }
    if (ports.length)
      await requestSync(
        tx,
        `ports of server ${serverId} removed`,
        hosts.size ? [...hosts, ...(await tunnelHosts(tx))] : undefined,
      );
    return deleted;
  });
}

export interface ServerAddress {
  addr: string;
  version: 4 | 6;
  'OS-EXT-IPS:type': 'fixed' | 'floating';
  'OS-EXT-IPS-MAC:mac_addr': string;
}
export type AddressMap = Record<string, ServerAddress[]>;

/** Nova's `addresses` for each server: network name → fixed then floating addresses. */
export async function listServerAddresses(serverIds: string[]): Promise<Record<string, AddressMap>> {
  const out: Record<string, AddressMap> = {};
  for (const id of serverIds) out[id] = {};
  if (serverIds.length === 0) return out;
  const ports = await db().port.findMany({
    where: { deviceId: { in: serverIds }, deviceOwner: { startsWith: 'compute:' } },
    include: { fixedIps: true, network: { select: { name: true, id: true } } },
    orderBy: { createdAt: 'asc' },
  });
  const fips = await db().floatingIp.findMany({ where: { portId: { in: ports.map((p) => p.id) } } });
  for (const p of ports) {
    const map = out[p.deviceId] ?? {};
    out[p.deviceId] = map;
    const key = p.network.name || p.network.id;
    const list = map[key] ?? [];
    map[key] = list;
    for (const f of p.fixedIps)
      list.push({
        addr: f.ip,
        version: f.ip.includes(':') ? 6 : 4,
        'OS-EXT-IPS:type': 'fixed',
        'OS-EXT-IPS-MAC:mac_addr': p.macAddress,
      });
    for (const f of fips.filter((x) => x.portId === p.id))
      list.push({
        addr: f.floatingIp,
        version: 4,
        'OS-EXT-IPS:type': 'floating',
        'OS-EXT-IPS-MAC:mac_addr': p.macAddress,
      });
  }
  return out;
}

/** The server owning a fixed IP on a network (for the metadata service). */
export async function findServerByFixedIp(fixedIp: string, networkId: string): Promise<string | undefined> {
  if (!isUuid(networkId)) return undefined;
  const f = await db().portFixedIp.findFirst({
    where: { ip: fixedIp, port: { networkId, deviceOwner: { startsWith: 'compute:' } } },
    include: { port: true },
  });
  return f?.port.deviceId || undefined;
}
