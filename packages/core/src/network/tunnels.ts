import { isIP } from 'node:net';
import type { Tx } from '@stratus/db';
import { z } from 'zod';
import { db, requestSync, transaction } from './common.ts';

/*
 * VXLAN between hosts (Neutron's l2population, without an RPC fan-out): each host's
 * network agent publishes its tunnel endpoint (VTEP) in NetworkTunnelEndpoint, and
 * every agent computes, per vxlan network, the endpoints of the *other* hosts that have
 * a port of that network: compute ports where they are bound, DHCP and router ports on
 * the network nodes. Those become the flood entries (and per-MAC unicast entries) of
 * the host's `vxlan-<vni>` device. A binding change or a changed endpoint re-syncs the
 * hosts that publish an endpoint, so peers follow the ports.
 *
 * Network nodes run DHCP and routers: the enabled workers with the `network` role, or,
 * when no worker has it, every agent host. A host without an endpoint has no tunnels and
 * so serves every network itself, exactly as before tunnels existed.
 */

export const TunnelIp = z
  .string()
  .trim()
  .refine((s) => isIP(s) !== 0, 'not an IPv4 or IPv6 address');

/** Hosts that publish a tunnel endpoint: the ones to re-sync when a binding changes. */
export async function tunnelHosts(tx: Pick<Tx, 'networkTunnelEndpoint'>): Promise<string[]> {
  const rows = await tx.networkTunnelEndpoint.findMany({ select: { host: true } });
  return rows.map((r) => r.host);
}

/** All tunnel endpoints, host → IP. */
export async function tunnelEndpoints(): Promise<Map<string, string>> {
  const rows = await db().networkTunnelEndpoint.findMany();
  return new Map(rows.map((r) => [r.host, r.ip]));
}

/**
 * Publishes this host's endpoint (or withdraws it with null). When it changes, every
 * other host with an endpoint is asked to re-sync (its peers change), in the same
 * transaction. Returns whether anything changed.
 */
export async function publishTunnelEndpoint(host: string, ip: string | null): Promise<boolean> {
  const want = ip === null ? null : TunnelIp.parse(ip);
  return transaction(async (tx) => {
    const cur = await tx.networkTunnelEndpoint.findUnique({ where: { host } });
    if ((cur?.ip ?? null) === want) return false;
    if (want === null) await tx.networkTunnelEndpoint.delete({ where: { host } });
    else await tx.networkTunnelEndpoint.upsert({ where: { host }, create: { host, ip: want }, update: { ip: want } });
    const others = (await tunnelHosts(tx)).filter((h) => h !== host);
    if (others.length > 0)
      await requestSync(tx, `tunnel endpoint of ${host} ${want ? `is ${want}` : 'withdrawn'}`, others);
    return true;
  });
}

export interface NetworkPlacementInput {
  /** The host whose dataplane is being computed. */
  host: string;
  /** Enabled worker services (host and roles). */
  services: { host: string; roles: string[] }[];
  /** Published endpoints, host → IP. */
  endpoints: ReadonlyMap<string, string>;
  /** Tenant networks (external networks are flat host bridges and never tunnelled). */
  networks: { id: string; vxlan: boolean }[];
  ports: { networkId: string; mac: string; deviceOwner: string; bindingHost: string }[];
}

export interface NetworkPlacement {
  /** This host runs DHCP and routers, and so has every network. */
  networkNode: boolean;
  /** Networks this host needs a bridge for (all of them on a network node). */
  networks: Set<string>;
  /** Per vxlan network: the other hosts' endpoints that have a port of it (sorted). */
  peers: Map<string, string[]>;
  /** Per vxlan network: remote ports' MACs and the endpoint behind each. */
  remoteMacs: Map<string, { mac: string; dst: string }[]>;
}

const NETWORK_NODE_OWNERS = new Set(['network:dhcp', 'network:router_interface', 'network:router_gateway']);

/** Where each network has ports, and from that this host's networks and tunnel peers. Pure. */
export function placeNetworks(input: NetworkPlacementInput): NetworkPlacement {
  const agents = input.services.filter((s) => s.roles.includes('network') || s.roles.includes('compute'));
  const explicit = agents.filter((s) => s.roles.includes('network')).map((s) => s.host);
  const networkNodes = new Set(explicit.length > 0 ? explicit : [...agents.map((s) => s.host), input.host]);
  // A host without an endpoint is alone on its bridges: it serves everything itself, as before tunnels.
  const networkNode = networkNodes.has(input.host) || !input.endpoints.has(input.host);

  // network → host → MACs of its ports there
  const where = new Map<string, Map<string, string[]>>();
  const add = (networkId: string, host: string, mac: string) => {
    const hosts = where.get(networkId) ?? new Map<string, string[]>();
    const macs = hosts.get(host) ?? [];
    macs.push(mac);
    hosts.set(host, macs);
    where.set(networkId, hosts);
  };
  for (const p of input.ports) {
    if (p.deviceOwner.startsWith('compute:') && p.bindingHost) add(p.networkId, p.bindingHost, p.mac);
    else if (NETWORK_NODE_OWNERS.has(p.deviceOwner)) for (const h of networkNodes) add(p.networkId, h, p.mac);
  }

  const out: NetworkPlacement = { networkNode, networks: new Set(), peers: new Map(), remoteMacs: new Map() };
  for (const n of input.networks) {
    const hosts = where.get(n.id);
    if (networkNode || hosts?.has(input.host)) out.networks.add(n.id);
    if (!n.vxlan || !out.networks.has(n.id)) continue;
    const peers = new Set<string>();
    const macs = new Map<string, string>();
    const local = input.endpoints.get(input.host);
    for (const [h, hostMacs] of hosts ?? []) {
      const dst = input.endpoints.get(h);
      // Our own endpoint (two host names on one address) is never a peer.
      if (h === input.host || !dst || dst === local) continue;
      peers.add(dst);
      for (const mac of hostMacs) if (!macs.has(mac)) macs.set(mac, dst);
    }
    out.peers.set(n.id, [...peers].sort());
    out.remoteMacs.set(
      n.id,
      [...macs].map(([mac, dst]) => ({ mac, dst })).sort((a, b) => a.mac.localeCompare(b.mac)),
    );
  }
  return out;
}

/** The inputs of placeNetworks that are not already loaded by desiredState. */
export async function placementContext(): Promise<Pick<NetworkPlacementInput, 'services' | 'endpoints'>> {
  const [services, endpoints] = await Promise.all([
    db().service.findMany({
      where: { binary: 'stratus-worker', disabled: false },
      select: { host: true, roles: true },
    }),
    tunnelEndpoints(),
  ]);
  return { services, endpoints };
}
