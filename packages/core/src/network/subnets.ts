import type { Subnet, Tx } from '@stratus/db';
import { z } from 'zod';
import type { AuthContext } from '../identity/types.ts';
import {
  checkPools,
  cidrContains,
  cidrsOverlap,
  defaultGateway,
  defaultPools,
  formatCidr,
  normalizeIp,
  parseCidr,
  parseIp,
  usableRange,
  type Pool,
} from './cidr.ts';
import {
  db,
  isUuid,
  nBadRequest,
  nConflict,
  nNotFound,
  projectOf,
  requestSync,
  transaction,
  parseNeutronInput,
  emitNetworkEvent,
} from './common.ts';
import {
  allocate,
  eui64Address,
  IPV6_MODES,
  isAutoAddressSubnet,
  lockSubnets,
  ROUTER_INTERFACE_OWNERS,
  subnetPools,
  type Ipv6Mode,
} from './ipam.ts';
import {
  createNetwork,
  deleteNetwork,
  getNetwork,
  type NetworkInput,
  type NetworkRecord,
  networkTarget,
} from './networks.ts';
import { authorize, authorizeRead, isAdmin, tf } from './policy.ts';
import { createPortTx } from './ports.ts';
import { checkQuota } from './quotas.ts';

export interface HostRoute {
  destination: string;
  nexthop: string;
}
export type SubnetRecord = Subnet & { pools: Pool[]; routes: HostRoute[] };

const PoolIn = z.object({ start: z.string(), end: z.string() });
const modeError = `is not in [${IPV6_MODES.map((m) => `'${m}'`).join(', ')}]`;
const Ipv6ModeIn = z
  .string()
  .nullish()
  .refine((m) => m === null || m === undefined || (IPV6_MODES as readonly string[]).includes(m), {
    message: modeError,
  })
  .transform((m) => (m ?? null) as Ipv6Mode | null);
const RouteIn = z.object({ destination: z.string(), nexthop: z.string() });

export const SubnetInput = z.object({
  network_id: z.string(),
  cidr: z.string().optional(),
  ip_version: z.union([z.literal(4), z.literal(6)]).default(4),
  name: z.string().max(255).default(''),
  description: z.string().max(255).default(''),
  gateway_ip: z.string().nullish(),
  allocation_pools: z.array(PoolIn).optional(),
  dns_nameservers: z.array(z.string()).default([]),
  host_routes: z.array(RouteIn).default([]),
  enable_dhcp: z.boolean().default(true),
  project_id: z.string().optional(),
  tenant_id: z.string().optional(),
  ipv6_ra_mode: Ipv6ModeIn,
  ipv6_address_mode: Ipv6ModeIn,
  subnetpool_id: z.string().nullish(),
  use_default_subnet_pool: z.boolean().optional(),
});
export type SubnetInput = z.input<typeof SubnetInput>;

export const SubnetUpdate = z.object({
  name: z.string().max(255).optional(),
  description: z.string().max(255).optional(),
  gateway_ip: z.string().nullish(),
  dns_nameservers: z.array(z.string()).optional(),
  host_routes: z.array(RouteIn).optional(),
  enable_dhcp: z.boolean().optional(),
  allocation_pools: z.array(PoolIn).optional(),
  ipv6_ra_mode: z.string().nullish(),
  ipv6_address_mode: z.string().nullish(),
});

function routesOf(s: Pick<Subnet, 'hostRoutes'>): HostRoute[] {
  const raw = s.hostRoutes;
  if (!Array.isArray(raw)) return [];
  const parsed = z.array(RouteIn).safeParse(raw);
  return parsed.success ? parsed.data : [];
}
export const toSubnetRecord = (s: Subnet): SubnetRecord => ({ ...s, pools: subnetPools(s), routes: routesOf(s) });

function bad(msg: string): never {
  throw nBadRequest(`Invalid input for operation: ${msg}`);
}

/** Pure validation of a subnet's addressing; returns canonical values. */
export function validateSubnet(v: {
  cidr: string;
  ipVersion: 4 | 6;
  gatewayIp: string | null | undefined;
  pools?: Pool[];
  dns: string[];
  routes: HostRoute[];
}): { cidr: string; gatewayIp: string | null; pools: Pool[]; dns: string[]; routes: HostRoute[] } {
  const c = parseCidr(v.cidr);
  if (!c) bad(`'${v.cidr}' is not a valid IP subnet.`);
  if (c.version !== v.ipVersion) bad('Cidr and IP version are not compatible.');
  if ((c.version === 4 && c.prefix > 30) || (c.version === 6 && c.prefix > 126))
    bad(`Invalid CIDR ${v.cidr}: the prefix is too long.`);
  if (c.prefix === 0) bad(`Invalid CIDR ${v.cidr}: a default route is not a subnet.`);
  let gatewayIp: string | null;
  if (v.gatewayIp === null) gatewayIp = null;
  else if (v.gatewayIp === undefined) gatewayIp = defaultGateway(c);
  else {
    const g = parseIp(v.gatewayIp);
    const range = usableRange(c);
    if (!g || !range || !cidrContains(c, g) || g.value < range.first || g.value > range.last)
      bad(`Gateway ip ${v.gatewayIp} conflicts with subnet ${formatCidr(c)}`);
    gatewayIp = normalizeIp(v.gatewayIp);
  }
  const pools = (v.pools ?? defaultPools(c, gatewayIp)).map((p) => ({
    start: normalizeIp(p.start) ?? p.start,
    end: normalizeIp(p.end) ?? p.end,
  }));
  const problem = checkPools(c, pools, gatewayIp);
  if (problem) {
    switch (problem.kind) {
      case 'invalid':
        bad(`Invalid allocation pool ${problem.pool.start}-${problem.pool.end}.`);
        break;
      case 'outside':
        bad(
          `The allocation pool ${problem.pool.start}-${problem.pool.end} spans beyond the subnet cidr ${formatCidr(c)}.`,
        );
        break;
      case 'reversed':
        bad(`Invalid allocation pool ${problem.pool.start}-${problem.pool.end}: start is after end.`);
        break;
      case 'overlap':
        bad(
          `Found overlapping allocation pools: ${problem.a.start}-${problem.a.end} and ${problem.b.start}-${problem.b.end}.`,
        );
        break;
      case 'gateway':
        throw nConflict(
          'GatewayConflictWithAllocationPools',
          `Gateway ip ${gatewayIp} conflicts with allocation pool ${problem.pool.start}-${problem.pool.end}.`,
        );
    }
  }
  const dns = v.dns.map((d) => normalizeIp(d) ?? bad(`'${d}' is not a valid nameserver.`));
  if (new Set(dns).size !== dns.length) bad('Duplicate nameserver.');
  const routes = v.routes.map((r) => {
    const d = parseCidr(r.destination);
    const n = normalizeIp(r.nexthop);
    if (!d || !n) bad(`Invalid host route ${r.destination} via ${r.nexthop}.`);
    return { destination: formatCidr(d), nexthop: n };
  });
  return { cidr: formatCidr(c), gatewayIp, pools, dns, routes };
}

/**
 * Neutron's rules for the IPv6 modes (db_base_plugin_v2 _validate_subnet and
 * _validate_ipv6_attributes): none on IPv4; on IPv6 they need DHCP enabled, must be
 * equal when both are given, and automatic addressing (EUI-64) needs a /64.
 */
export function validateIpv6Modes(v: {
  ipVersion: 4 | 6;
  cidr: string;
  raMode: Ipv6Mode | null;
  addressMode: Ipv6Mode | null;
  enableDhcp: boolean;
}): void {
  if (v.ipVersion === 4) {
    if (v.raMode) bad('ipv6_ra_mode is not valid when ip_version is 4');
    if (v.addressMode) bad('ipv6_address_mode is not valid when ip_version is 4');
    return;
  }
  if ((v.raMode || v.addressMode) && !v.enableDhcp)
    bad('ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False');
  if (v.raMode && v.addressMode && v.raMode !== v.addressMode)
    bad(
      `ipv6_ra_mode set to '${v.raMode}' with ipv6_address_mode set to '${v.addressMode}' is not valid. If both attributes are set, they must be the same value`,
    );
  const c = parseCidr(v.cidr);
  if (isAutoAddressSubnet({ ipVersion: 6, ipv6RaMode: v.raMode, ipv6AddressMode: v.addressMode }) && c?.prefix !== 64)
    bad(
      `Invalid CIDR ${v.cidr} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`,
    );
}

/**
 * A parsed subnet body's addressing checked (the caller requires its `cidr` first):
 * validateSubnet's canonical values, then the IPv6 modes against the canonical cidr.
 */
function checkSubnetAddressing(v: z.output<typeof SubnetInput>, cidr: string): ReturnType<typeof validateSubnet> {
  const a = validateSubnet({
    cidr,
    ipVersion: v.ip_version,
    gatewayIp: v.gateway_ip,
    pools: v.allocation_pools,
    dns: v.dns_nameservers,
    routes: v.host_routes,
  });
  validateIpv6Modes({
    ipVersion: v.ip_version,
    cidr: a.cidr,
    raMode: v.ipv6_ra_mode,
    addressMode: v.ipv6_address_mode,
    enableDhcp: v.enable_dhcp,
  });
  return a;
}

/** A validated subnet's addressing as its columns (create and update write the same). */
function addressColumns(a: ReturnType<typeof validateSubnet>) {
  return {
    gatewayIp: a.gatewayIp,
    allocationPools: a.pools.map((p) => ({ start: p.start, end: p.end })),
    dnsNameservers: a.dns,
    hostRoutes: a.routes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })),
  };
}

export const dhcpDeviceId = (networkId: string) => `dhcp-${networkId}`;

/** Gives the network's DHCP port an address on `subnet` (creating the port if needed). */
async function ensureDhcpAddress(tx: Tx, subnet: Subnet): Promise<void> {
  const port = await tx.port.findFirst({
    where: { networkId: subnet.networkId, deviceOwner: 'network:dhcp' },
    include: { fixedIps: true },
  });
  if (port?.fixedIps.some((f) => f.subnetId === subnet.id)) return;
  if (!port) {
    await createPortTx(tx, {
      networkId: subnet.networkId,
      projectId: subnet.projectId,
      deviceOwner: 'network:dhcp',
      deviceId: dhcpDeviceId(subnet.networkId),
      fixedIps: [{ subnetId: subnet.id }],
      securityGroupIds: [],
      portSecurityEnabled: false,
    });
    return;
  }
  const subnets = await lockSubnets(tx, subnet.networkId);
  const got = await allocate(tx, subnet.networkId, subnets, [{ subnetId: subnet.id }], {
    mac: port.macAddress,
    deviceOwner: port.deviceOwner,
    keepSubnetIds: port.fixedIps.map((f) => f.subnetId),
  });
  for (const a of got) await tx.portFixedIp.create({ data: { portId: port.id, subnetId: a.subnetId, ip: a.ip } });
}

/**
 * Neutron's add_auto_addrs_on_network_ports: a new SLAAC/DHCPv6-stateless subnet gives
 * every port already on the network (router interfaces excepted) its EUI-64 address.
 */
async function addAutoAddressesOnNetworkPorts(tx: Tx, subnet: Subnet): Promise<void> {
  const ports = await tx.port.findMany({
    where: {
      networkId: subnet.networkId,
      deviceOwner: { notIn: [...ROUTER_INTERFACE_OWNERS, 'network:router_centralized_snat'] },
    },
    select: { id: true, macAddress: true },
  });
  if (ports.length === 0) return;
  await tx.portFixedIp.createMany({
    data: ports.map((p) => ({ portId: p.id, subnetId: subnet.id, ip: eui64Address(subnet.cidr, p.macAddress) })),
    skipDuplicates: true,
  });
}

export async function createSubnet(
  ctx: AuthContext,
  input: SubnetInput | Record<string, unknown>,
): Promise<SubnetRecord> {
  const v = parseNeutronInput(SubnetInput, input);
  if (!v.cidr) bad('a cidr is required (subnet pools are not supported).');
  const net = await getNetwork(ctx, v.network_id);
  const projectId = v.project_id ?? v.tenant_id ?? projectOf(ctx);
  authorize(ctx, 'create_subnet', {
    project_id: projectId,
    network_project_id: net.projectId,
    shared: tf(net.shared),
    external: tf(net.external),
  });
  const a = checkSubnetAddressing(v, v.cidr);
  const created = await transaction(async (tx) => {
    await tx.$queryRaw`SELECT id FROM "Network" WHERE id = ${net.id}::uuid FOR UPDATE`;
    await checkQuota(tx, projectId, 'subnet');
    const mine = parseCidr(a.cidr);
    for (const other of await tx.subnet.findMany({ where: { networkId: net.id } })) {
      const oc = parseCidr(other.cidr);
      if (mine && oc && cidrsOverlap(mine, oc))
        bad(`Requested subnet with cidr: ${a.cidr} for network: ${net.id} overlaps with another subnet`);
    }
    const s = await tx.subnet.create({
      data: {
        networkId: net.id,
        projectId,
        name: v.name,
        description: v.description,
        ipVersion: v.ip_version,
        cidr: a.cidr,
        ...addressColumns(a),
        enableDhcp: v.enable_dhcp,
        ipv6RaMode: v.ipv6_ra_mode,
        ipv6AddressMode: v.ipv6_address_mode,
      },
    });
    if (isAutoAddressSubnet(s)) {
      // Lock the network's subnets like any allocation, then address existing ports.
      await lockSubnets(tx, net.id);
      await addAutoAddressesOnNetworkPorts(tx, s);
    }
    if (s.enableDhcp) await ensureDhcpAddress(tx, s);
    await requestSync(tx, `subnet ${s.id} created`);
    await emitNetworkEvent(tx, 'subnet', 'created', s.projectId, s.id);
    return s;
  });
  return toSubnetRecord(created);
}

export interface SubnetFilter {
  ids?: string[];
  names?: string[];
  networkIds?: string[];
  cidr?: string;
  ipVersion?: number;
  projectId?: string;
}

export async function listSubnets(ctx: AuthContext, f: SubnetFilter = {}): Promise<SubnetRecord[]> {
  const admin = isAdmin(ctx);
  const rows = await db().subnet.findMany({
    where: {
      AND: [
        admin
          ? {}
          : {
              OR: [
                { projectId: ctx.projectId ?? '' },
                { network: { OR: [{ shared: true }, { external: true }, { projectId: ctx.projectId ?? '' }] } },
              ],
            },
        f.ids ? { id: { in: f.ids.filter(isUuid) } } : {},
        f.names ? { name: { in: f.names } } : {},
        f.networkIds ? { networkId: { in: f.networkIds.filter(isUuid) } } : {},
        f.cidr ? { cidr: f.cidr } : {},
        f.ipVersion ? { ipVersion: f.ipVersion } : {},
        f.projectId ? { projectId: f.projectId } : {},
      ],
    },
    orderBy: { createdAt: 'asc' },
  });
  return rows.map(toSubnetRecord);
}

export async function getSubnet(ctx: AuthContext, id: string): Promise<SubnetRecord> {
  const what = `Subnet ${id} could not be found.`;
  const s = isUuid(id) ? await db().subnet.findUnique({ where: { id }, include: { network: true } }) : null;
  if (!s) throw nNotFound('SubnetNotFound', what);
  authorizeRead(
    ctx,
    'get_subnet',
    { ...networkTarget(s.network), project_id: s.projectId, tenant_id: s.projectId },
    what,
  );
  const { network: _n, ...row } = s;
  return toSubnetRecord(row);
}

export async function updateSubnet(
  ctx: AuthContext,
  id: string,
  input: z.input<typeof SubnetUpdate> | Record<string, unknown>,
): Promise<SubnetRecord> {
  const v = parseNeutronInput(SubnetUpdate, input);
  const s = await getSubnet(ctx, id);
  authorize(ctx, 'update_subnet', { project_id: s.projectId });
  for (const [key, cur] of [
    ['ipv6_ra_mode', s.ipv6RaMode],
    ['ipv6_address_mode', s.ipv6AddressMode],
  ] as const) {
    const want = v[key];
    if (want !== undefined && (want ?? null) !== cur) bad(`Cannot update read-only attribute ${key}`);
  }
  if (v.enable_dhcp === false && (s.ipv6RaMode || s.ipv6AddressMode))
    bad('Cannot disable enable_dhcp with ipv6 attributes set');
  const a = validateSubnet({
    cidr: s.cidr,
    ipVersion: s.ipVersion === 6 ? 6 : 4,
    gatewayIp: v.gateway_ip === undefined ? s.gatewayIp : v.gateway_ip,
    pools: v.allocation_pools ?? s.pools,
    dns: v.dns_nameservers ?? s.dnsNameservers,
    routes: v.host_routes ?? s.routes,
  });
  await transaction(async (tx) => {
    const updated = await tx.subnet.update({
      where: { id },
      data: {
        name: v.name,
        description: v.description,
        ...addressColumns(a),
        enableDhcp: v.enable_dhcp,
      },
    });
    if (updated.enableDhcp) await ensureDhcpAddress(tx, updated);
    await requestSync(tx, `subnet ${id} updated`);
    await emitNetworkEvent(tx, 'subnet', 'updated', s.projectId, id);
  });
  return getSubnet(ctx, id);
}

export async function deleteSubnet(ctx: AuthContext, id: string): Promise<void> {
  const s = await getSubnet(ctx, id);
  authorize(ctx, 'delete_subnet', { project_id: s.projectId });
  await transaction(async (tx) => {
    await lockSubnets(tx, s.networkId);
    const users = await tx.portFixedIp.findMany({ where: { subnetId: id }, include: { port: true } });
    const busy = users.filter((u) => u.port.deviceOwner !== 'network:dhcp');
    if (busy.length > 0)
      throw nConflict(
        'SubnetInUse',
        `Unable to complete operation on subnet ${id}: One or more ports have an IP allocation from this subnet.`,
      );
    await tx.portFixedIp.deleteMany({ where: { subnetId: id } });
    // A DHCP port left without addresses goes too.
    await tx.port.deleteMany({
      where: { networkId: s.networkId, deviceOwner: 'network:dhcp', fixedIps: { none: {} } },
    });
    await tx.subnet.delete({ where: { id } });
    await requestSync(tx, `subnet ${id} deleted`);
    await emitNetworkEvent(tx, 'subnet', 'deleted', s.projectId, id);
  });
}

/**
 * The dashboard's "create network with its first subnet": the subnet's addressing is
 * checked before anything is written, and if the subnet is still refused (quota, policy)
 * the new network is removed again, so a failed form leaves nothing behind.
 */
export async function createNetworkWithSubnet(
  ctx: AuthContext,
  network: NetworkInput | Record<string, unknown>,
  subnet: Omit<SubnetInput, 'network_id'> | null,
): Promise<{ network: NetworkRecord; subnet: SubnetRecord | null }> {
  if (subnet) {
    const v = parseNeutronInput(SubnetInput, { ...subnet, network_id: 'pending' });
    if (!v.cidr) bad('a cidr is required (subnet pools are not supported).');
    checkSubnetAddressing(v, v.cidr);
  }
  const net = await createNetwork(ctx, network);
  if (!subnet) return { network: net, subnet: null };
  try {
    const s = await createSubnet(ctx, { ...subnet, network_id: net.id });
    return { network: await getNetwork(ctx, net.id), subnet: s };
  } catch (err) {
    await deleteNetwork(ctx, net.id).catch(() => {});
    throw err;
  }
}
