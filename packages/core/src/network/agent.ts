import { emitEvent } from '@stratus/db';
import { parseCidr } from './cidr.ts';
import { db } from './common.ts';
import { routesOf } from './routers.ts';
import { toSubnetRecord } from './subnets.ts';
import { placeNetworks, placementContext } from './tunnels.ts';

/*
 * The dataplane one host should have, computed from the database. The shapes match the
 * worker's NetworkDriver inputs (apps/worker/src/drivers/network/types.ts) structurally,
 * so core stays free of worker code. Network nodes (tunnels.ts) get all networks, DHCP
 * servers and routers; other hosts only the networks of the ports bound to them; vxlan
 * networks carry their tunnel peers.
 */

export interface DesiredRule {
  direction: 'ingress' | 'egress';
  ethertype: 'IPv4' | 'IPv6';
  protocol?: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'any' | number | null;
  portRangeMin?: number | null;
  portRangeMax?: number | null;
  remoteIpPrefix?: string | null;
  remoteIps?: string[] | null;
}
export interface DesiredState {
  externals: { id: string; cidr: string; gatewayIp: string; mtu?: number }[];
  networks: {
    id: string;
    mtu?: number;
    segmentation: { type: 'flat' | 'vxlan'; id?: number };
    /** Other hosts' tunnel endpoints with a port of this network (vxlan only). */
    peers?: string[];
    /** Remote ports' MACs and the endpoint behind each (vxlan only). */
    remoteMacs?: { mac: string; dst: string }[];
  }[];
  dhcp: {
    networkId: string;
    mtu?: number;
    domain?: string;
    dhcpPort: { id: string; mac: string; ips: string[] };
    subnets: {
      id: string;
      cidr: string;
      gatewayIp?: string | null;
      dnsNameservers?: string[];
      hostRoutes?: { destination: string; nexthop: string }[];
      enableDhcp: boolean;
      ipv6RaMode?: string | null;
      ipv6AddressMode?: string | null;
      /** IPv6: a router interface is on the subnet (it sends the RAs, not DHCP). */
      routed?: boolean;
    }[];
    ports: { mac: string; ip: string; hostname?: string }[];
  }[];
  ports: {
    id: string;
    networkId: string;
    mac: string;
    ips: string[];
    portSecurityEnabled: boolean;
    securityGroups: DesiredRule[];
    allowedAddressPairs?: { ipAddress: string; macAddress?: string }[];
  }[];
  routers: {
    id: string;
    interfaces: {
      portId: string;
      networkId: string;
      ip: string;
      prefixLen: number;
      mac: string;
      /** IPv6 interfaces: the subnet's modes decide the router advertisements. */
      ipv6RaMode?: string | null;
      ipv6AddressMode?: string | null;
      dnsNameservers?: string[];
    }[];
    gateway?: {
      portId?: string;
      networkId: string;
      ip: string;
      prefixLen: number;
      mac?: string;
      gatewayIp?: string | null;
      snat: boolean;
    } | null;
    floatingIps: { floatingIp: string; fixedIp: string }[];
    routes: { destination: string; nexthop: string }[];
  }[];
}

const NAMED = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, gre: 47, sctp: 132, ah: 51, esp: 50 } as const;
function protoOf(p: string | null): DesiredRule['protocol'] {
  if (p === null) return null;
  if (p === 'tcp' || p === 'udp' || p === 'icmp' || p === 'icmpv6') return p;
  if (/^\d+$/.test(p)) return Number(p);
  return p in NAMED ? NAMED[p as keyof typeof NAMED] : null;
}

function pairsOf(raw: unknown): { ipAddress: string; macAddress?: string }[] {
  if (!Array.isArray(raw)) return [];
  const out: { ipAddress: string; macAddress?: string }[] = [];
  for (const p of raw) {
    if (p && typeof p === 'object' && 'ip_address' in p && typeof p.ip_address === 'string') {
      const mac = 'mac_address' in p && typeof p.mac_address === 'string' ? p.mac_address : undefined;
      out.push(mac ? { ipAddress: p.ip_address, macAddress: mac } : { ipAddress: p.ip_address });
    }
  }
  return out;
}

export async function desiredState(host: string): Promise<DesiredState> {
  const d = db();
  const [networks, subnets, ports, routers, fips, rules, memberships, placementCtx] = await Promise.all([
    d.network.findMany({ orderBy: { createdAt: 'asc' } }),
    d.subnet.findMany({ orderBy: { createdAt: 'asc' } }),
    d.port.findMany({ include: { fixedIps: true, securityGroups: true }, orderBy: { createdAt: 'asc' } }),
    d.router.findMany({ include: { interfaces: true } }),
    d.floatingIp.findMany({ where: { routerId: { not: null }, fixedIp: { not: null } } }),
    d.securityGroupRule.findMany(),
    d.portSecurityGroup.findMany({ include: { port: { include: { fixedIps: true } } } }),
    placementContext(),
  ]);
  const subnetById = new Map(subnets.map((s) => [s.id, s]));
  const portById = new Map(ports.map((p) => [p.id, p]));
  const prefixOf = (subnetId: string) => parseCidr(subnetById.get(subnetId)?.cidr ?? '')?.prefix ?? 24;
  const routedSubnets = new Set(
    routers.filter((r) => r.adminStateUp).flatMap((r) => r.interfaces.map((i) => i.subnetId)),
  );
  const out: DesiredState = { externals: [], networks: [], dhcp: [], ports: [], routers: [] };
  const vxlan = (n: (typeof networks)[number]) => n.networkType === 'vxlan' && n.segmentationId !== null;
  const place = placeNetworks({
    host,
    ...placementCtx,
    networks: networks.filter((n) => n.adminStateUp && !n.external).map((n) => ({ id: n.id, vxlan: vxlan(n) })),
    ports: ports.map((p) => ({
      networkId: p.networkId,
      mac: p.macAddress,
      deviceOwner: p.deviceOwner,
      bindingHost: p.bindingHost,
    })),
  });

  for (const n of networks) {
    if (!n.adminStateUp) continue;
    // External bridges serve the routers' gateways: network nodes only.
    if (n.external && !place.networkNode) continue;
    if (!n.external && !place.networks.has(n.id)) continue;
    if (n.external) {
      const s = subnets.find((x) => x.networkId === n.id && x.ipVersion === 4 && x.gatewayIp);
      if (s?.gatewayIp) out.externals.push({ id: n.id, cidr: s.cidr, gatewayIp: s.gatewayIp, mtu: n.mtu });
      continue;
    }
    out.networks.push(
      vxlan(n) && n.segmentationId !== null
        ? {
            id: n.id,
            mtu: n.mtu,
            segmentation: { type: 'vxlan', id: n.segmentationId },
            peers: place.peers.get(n.id) ?? [],
            remoteMacs: place.remoteMacs.get(n.id) ?? [],
          }
        : { id: n.id, mtu: n.mtu, segmentation: { type: 'flat' } },
    );
    if (!place.networkNode) continue;
    const dhcpPort = ports.find((p) => p.networkId === n.id && p.deviceOwner === 'network:dhcp');
    const dhcpSubnets = subnets.filter((s) => s.networkId === n.id && s.enableDhcp);
    if (dhcpPort && dhcpSubnets.length > 0) {
      out.dhcp.push({
        networkId: n.id,
        mtu: n.mtu,
        domain: 'openstacklocal',
        dhcpPort: { id: dhcpPort.id, mac: dhcpPort.macAddress, ips: dhcpPort.fixedIps.map((f) => f.ip) },
        subnets: dhcpSubnets.map((s) => {
          const r = toSubnetRecord(s);
          return {
            id: s.id,
            cidr: s.cidr,
            gatewayIp: s.gatewayIp,
            dnsNameservers: s.dnsNameservers,
            hostRoutes: r.routes,
            enableDhcp: s.enableDhcp,
            ipv6RaMode: s.ipv6RaMode,
            ipv6AddressMode: s.ipv6AddressMode,
            routed: routedSubnets.has(s.id),
          };
        }),
        ports: ports
          .filter((p) => p.networkId === n.id && p.id !== dhcpPort.id && p.deviceOwner !== 'network:router_gateway')
          .flatMap((p) =>
            p.fixedIps
              .filter((f) => dhcpSubnets.some((s) => s.id === f.subnetId))
              .map((f) => ({ mac: p.macAddress, ip: f.ip, hostname: `host-${f.ip.replace(/[.:]/g, '-')}` })),
          ),
      });
    }
  }

  // Security group rules, with remote groups expanded into their members' addresses.
  const membersOf = new Map<string, string[]>();
  for (const m of memberships) {
    const list = membersOf.get(m.securityGroupId) ?? [];
    list.push(...m.port.fixedIps.map((f) => f.ip));
    membersOf.set(m.securityGroupId, list);
  }
  for (const p of ports) {
    if (p.bindingHost !== host || !p.deviceOwner.startsWith('compute:')) continue;
    const groups = new Set(p.securityGroups.map((g) => g.securityGroupId));
    out.ports.push({
      id: p.id,
      networkId: p.networkId,
      mac: p.macAddress,
      ips: p.fixedIps.map((f) => f.ip),
      portSecurityEnabled: p.portSecurityEnabled,
      securityGroups: rules
        .filter((r) => groups.has(r.securityGroupId))
        .map((r) => ({
          direction: r.direction === 'egress' ? 'egress' : 'ingress',
          ethertype: r.ethertype === 'IPv6' ? 'IPv6' : 'IPv4',
          protocol: protoOf(r.protocol),
          portRangeMin: r.portRangeMin,
          portRangeMax: r.portRangeMax,
          remoteIpPrefix: r.remoteIpPrefix,
          remoteIps: r.remoteGroupId
            ? (membersOf.get(r.remoteGroupId) ?? []).filter((ip) => ip.includes(':') === (r.ethertype === 'IPv6'))
            : null,
        })),
      allowedAddressPairs: pairsOf(p.allowedAddressPairs),
    });
  }

  for (const r of routers) {
    if (!r.adminStateUp || !place.networkNode) continue;
    const interfaces = r.interfaces.flatMap((i) => {
      const port = portById.get(i.portId);
      const fixed = port?.fixedIps.find((f) => f.subnetId === i.subnetId);
      return port && fixed
        ? [
            {
              portId: port.id,
              networkId: port.networkId,
              ip: fixed.ip,
              prefixLen: prefixOf(fixed.subnetId),
              mac: port.macAddress,
              ...(fixed.ip.includes(':')
                ? {
                    ipv6RaMode: subnetById.get(fixed.subnetId)?.ipv6RaMode ?? null,
                    ipv6AddressMode: subnetById.get(fixed.subnetId)?.ipv6AddressMode ?? null,
                    dnsNameservers: subnetById.get(fixed.subnetId)?.dnsNameservers ?? [],
                  }
                : {}),
            },
          ]
        : [];
    });
    let gateway: DesiredState['routers'][number]['gateway'] = null;
    const gp = r.gatewayPortId ? portById.get(r.gatewayPortId) : undefined;
    const gfixed = gp?.fixedIps.find((f) => !f.ip.includes(':'));
    if (gp && gfixed) {
      gateway = {
        portId: gp.id,
        networkId: gp.networkId,
        ip: gfixed.ip,
        prefixLen: prefixOf(gfixed.subnetId),
        mac: gp.macAddress,
        gatewayIp: subnetById.get(gfixed.subnetId)?.gatewayIp ?? null,
        snat: r.enableSnat,
      };
    }
    out.routers.push({
      id: r.id,
      interfaces,
      gateway,
      floatingIps: fips
        .filter((f) => f.routerId === r.id && f.fixedIp)
        .map((f) => ({ floatingIp: f.floatingIp, fixedIp: f.fixedIp ?? '' })),
      routes: routesOf(r),
    });
  }
  return out;
}

/** After a successful pass: statuses follow the dataplane, each change emits a live event. */
export async function markSynced(host: string, state: DesiredState): Promise<void> {
  const d = db();
  await d.$transaction(async (tx) => {
    const netIds = [...state.networks.map((n) => n.id), ...state.externals.map((n) => n.id)];
    const nets = await tx.network.findMany({ where: { id: { in: netIds }, status: { not: 'ACTIVE' } } });
    for (const n of nets) {
      await tx.network.update({ where: { id: n.id }, data: { status: 'ACTIVE' } });
      await emitEvent(tx, {
        type: 'network.updated',
        projectId: n.projectId,
        resourceId: n.id,
        data: { status: 'ACTIVE' },
      });
    }
    const portIds = state.ports.map((p) => p.id);
    const up = await tx.port.findMany({
      where: { id: { in: portIds }, status: { not: 'ACTIVE' }, adminStateUp: true },
    });
    for (const p of up) {
      await tx.port.update({ where: { id: p.id }, data: { status: 'ACTIVE' } });
      await emitEvent(tx, {
        type: 'port.updated',
        projectId: p.projectId,
        resourceId: p.id,
        data: { status: 'ACTIVE', deviceId: p.deviceId },
      });
    }
    const down = await tx.port.findMany({ where: { bindingHost: host, adminStateUp: false, status: 'ACTIVE' } });
    for (const p of down) {
      await tx.port.update({ where: { id: p.id }, data: { status: 'DOWN' } });
      await emitEvent(tx, { type: 'port.updated', projectId: p.projectId, resourceId: p.id, data: { status: 'DOWN' } });
    }
    const fipRows = await tx.floatingIp.findMany({ where: { routerId: { in: state.routers.map((r) => r.id) } } });
    for (const f of fipRows) {
      const want = f.portId ? 'ACTIVE' : 'DOWN';
      if (f.status === want) continue;
      await tx.floatingIp.update({ where: { id: f.id }, data: { status: want } });
      await emitEvent(tx, {
        type: 'floatingip.updated',
        projectId: f.projectId,
        resourceId: f.id,
        data: { status: want, portId: f.portId, floatingIp: f.floatingIp },
      });
    }
    const loose = await tx.floatingIp.findMany({ where: { portId: null, status: 'ACTIVE' } });
    for (const f of loose) {
      await tx.floatingIp.update({ where: { id: f.id }, data: { status: 'DOWN' } });
      await emitEvent(tx, {
        type: 'floatingip.updated',
        projectId: f.projectId,
        resourceId: f.id,
        data: { status: 'DOWN' },
      });
    }
  });
}

/** Records a failed pass on the ports of this host (ERROR), for operators. */
export async function markSyncFailed(host: string, portIds: string[]): Promise<void> {
  await db().port.updateMany({
    where: { bindingHost: host, id: { in: portIds }, status: 'BUILD' },
    data: { status: 'ERROR' },
  });
}
