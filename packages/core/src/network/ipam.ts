import type { Subnet, Tx } from '@stratus/db';
import { randomBytes } from 'node:crypto';
import {
  cidrContains,
  firstFree,
  formatIp,
  parseCidr,
  parseIp,
  poolAddressAt,
  poolSize,
  usableRange,
  type Pool,
} from './cidr.ts';
import { nBadRequest, nConflict } from './common.ts';

// ---------------------------------------------------------------- IPv6 modes

export const IPV6_MODES = ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'] as const;
export type Ipv6Mode = (typeof IPV6_MODES)[number];

/** Router interface owners: they take explicit addresses even on auto-address subnets (Neutron). */
export const ROUTER_INTERFACE_OWNERS = [
  'network:router_interface',
  'network:router_interface_distributed',
  'network:ha_router_replicated_interface',
] as const;
const ROUTER_INTERFACE_OWNERS_SNAT: readonly string[] = [...ROUTER_INTERFACE_OWNERS, 'network:router_centralized_snat'];

/**
 * Neutron's is_auto_address_subnet: ports get their address from the prefix and
 * their MAC (EUI-64) rather than from the pools — SLAAC and DHCPv6-stateless, named
 * by the address mode or, when that is unset, by the RA mode.
 */
export function isAutoAddressSubnet(s: Pick<Subnet, 'ipVersion' | 'ipv6AddressMode' | 'ipv6RaMode'>): boolean {
  if (s.ipVersion !== 6) return false;
  const auto = (m: string | null) => m === 'slaac' || m === 'dhcpv6-stateless';
  return s.ipv6AddressMode ? auto(s.ipv6AddressMode) : auto(s.ipv6RaMode);
}

/** The modified EUI-64 address of `mac` in a /64 (RFC 4291 appendix A; netaddr's EUI.ipv6). */
export function eui64Address(cidr: string, mac: string): string {
  const c = parseCidr(cidr);
  if (c?.version !== 6) throw nBadRequest(`Invalid input for operation: '${cidr}' is not an IPv6 prefix.`);
  const m = /^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$/.exec(
    mac.toLowerCase(),
  );
  if (!m) throw nBadRequest(`Invalid input for operation: '${mac}' is not a valid MAC address.`);
  const b = m.slice(1).map((h) => BigInt(Number.parseInt(h, 16)));
  const [b0 = 0n, b1 = 0n, b2 = 0n, b3 = 0n, b4 = 0n, b5 = 0n] = b;
  const iid = [b0 ^ 2n, b1, b2, 0xffn, 0xfen, b3, b4, b5].reduce((acc, x) => (acc << 8n) | x, 0n);
  const hostMask = (1n << 64n) - 1n;
  return formatIp(6, (c.network & ~hostMask) | iid);
}

/** The port an allocation is for: its MAC (EUI-64) and owner (router interfaces are exempt). */
export interface AllocationPort {
  mac: string;
  deviceOwner: string;
  /** Subnets the port keeps an address on (port update): no implicit EUI-64 there. */
  keepSubnetIds?: readonly string[];
}

/*
 * IP address management. Callers run inside a transaction; `lockSubnets` takes the
 * subnet rows FOR UPDATE (in id order, so concurrent allocations cannot deadlock),
 * which serialises allocations per subnet. The UNIQUE(subnetId, ip) index is the
 * second line: even a caller that forgot the lock cannot hand out an address twice.
 */

export interface IpRequest {
  subnetId?: string;
  ipAddress?: string;
}
export interface Allocation {
  subnetId: string;
  ip: string;
}

export function subnetPools(s: Pick<Subnet, 'allocationPools'>): Pool[] {
  const raw = s.allocationPools;
  if (!Array.isArray(raw)) return [];
  const out: Pool[] = [];
  for (const p of raw) {
    if (p && typeof p === 'object' && !Array.isArray(p) && 'start' in p && 'end' in p) {
      const start = p.start;
      const end = p.end;
      if (typeof start === 'string' && typeof end === 'string') out.push({ start, end });
    }
  }
  return out;
}

export async function lockSubnets(tx: Tx, networkId: string): Promise<Subnet[]> {
  await tx.$queryRaw`SELECT id FROM "Subnet" WHERE "networkId" = ${networkId}::uuid ORDER BY id FOR UPDATE`;
  return tx.subnet.findMany({ where: { networkId }, orderBy: { createdAt: 'asc' } });
}

async function taken(tx: Tx, subnetId: string): Promise<Set<string>> {
  const rows = await tx.portFixedIp.findMany({ where: { subnetId }, select: { ip: true } });
  return new Set(rows.map((r) => r.ip));
}

/**
 * Validates and allocates the requested addresses (subnets must be locked by the
 * caller). As Neutron: a port on a network with auto-address IPv6 subnets (SLAAC,
 * DHCPv6-stateless) always gets its EUI-64 address on each of them (router interfaces
 * excepted), whether or not fixed IPs were requested; an explicit address on such a
 * subnet is refused; stateful IPv6 subnets allocate from their pools like IPv4.
 */
export async function allocate(
  tx: Tx,
  networkId: string,
  subnets: Subnet[],
  requests: IpRequest[] | undefined,
  port: AllocationPort,
): Promise<Allocation[]> {
  const routerPort = ROUTER_INTERFACE_OWNERS_SNAT.includes(port.deviceOwner);
  const explicitOk = (ROUTER_INTERFACE_OWNERS as readonly string[]).includes(port.deviceOwner);
  const out: Allocation[] = [];
  const used = new Map<string, Set<string>>();
  const usedOf = async (id: string) => {
    let s = used.get(id);
    if (!s) {
      s = await taken(tx, id);
      used.set(id, s);
    }
    return s;
  };
  const picked = new Set<string>();
  const fromSubnet = async (s: Subnet): Promise<string | null> => {
    const pools = subnetPools(s);
    const size = poolSize(pools);
    // Large pools: a few random probes, each one indexed lookup, instead of reading
    // every allocated address (which grows with the subnet). Small or crowded pools
    // fall back to the exact scan, which also proves exhaustion.
    if (size > 256n && !used.has(s.id)) {
      for (let i = 0; i < 8; i++) {
        const ip = poolAddressAt(pools, BigInt(`0x${randomBytes(16).toString('hex')}`) % size);
        if (!ip || picked.has(`${s.id}/${ip}`)) continue;
        const hit = await tx.portFixedIp.findUnique({
          where: { subnetId_ip: { subnetId: s.id, ip } },
          select: { ip: true },
        });
        if (!hit) {
          picked.add(`${s.id}/${ip}`);
          return ip;
        }
      }
    }
    const set = await usedOf(s.id);
    for (const k of picked) if (k.startsWith(`${s.id}/`)) set.add(k.slice(s.id.length + 1));
    const ip = firstFree(pools, set);
    if (ip) set.add(ip);
    return ip;
  };

  const eui64 = async (s: Subnet): Promise<Allocation> => {
    const ip = eui64Address(s.cidr, port.mac);
    const set = await usedOf(s.id);
    if (set.has(ip))
      throw nConflict('IpAddressAlreadyAllocated', `IP address ${ip} already allocated in subnet ${s.id}`);
    set.add(ip);
    return { subnetId: s.id, ip };
  };
  const autoSubnets = routerPort
    ? []
    : subnets.filter((s) => isAutoAddressSubnet(s) && !port.keepSubnetIds?.includes(s.id));

  if (requests === undefined) {
    // Neutron: one address from an IPv4 subnet and one from a stateful IPv6 subnet,
    // when present, then the EUI-64 address on every auto-address subnet.
    for (const version of [4, 6]) {
      const candidates = subnets.filter((s) => s.ipVersion === version && !isAutoAddressSubnet(s));
      if (candidates.length === 0) continue;
      let got: Allocation | null = null;
      for (const s of candidates) {
        const ip = await fromSubnet(s);
        if (ip) {
          got = { subnetId: s.id, ip };
          break;
        }
      }
      if (!got)
        throw nConflict('IpAddressGenerationFailure', `No more IP addresses available on network ${networkId}.`);
      out.push(got);
    }
    for (const s of autoSubnets) out.push(await eui64(s));
    return out;
  }

  for (const r of requests) {
    let subnet: Subnet | undefined;
    if (r.subnetId) {
      subnet = subnets.find((s) => s.id === r.subnetId);
      if (!subnet)
        throw nBadRequest(
          `Invalid input for operation: Failed to create port on network ${networkId}, because fixed_ips included invalid subnet ${r.subnetId}.`,
        );
    }
    if (r.ipAddress !== undefined) {
      const ip = parseIp(r.ipAddress);
      if (!ip) throw nBadRequest(`Invalid input for ip_address. Reason: '${r.ipAddress}' is not a valid IP address.`);
      if (!subnet) {
        subnet = subnets.find((s) => {
          const c = parseCidr(s.cidr);
          return !!c && cidrContains(c, ip);
        });
        if (!subnet)
          throw nBadRequest(
            `IP address ${r.ipAddress} is not a valid IP for any of the subnets on the specified network.`,
          );
      }
      if (isAutoAddressSubnet(subnet) && !explicitOk)
        throw nBadRequest(
          `IPv6 address ${r.ipAddress} cannot be directly assigned to a port on subnet ${subnet.id} as the subnet is configured for automatic addresses`,
        );
      const c = parseCidr(subnet.cidr);
      const range = c ? usableRange(c) : null;
      if (!c || !range || !cidrContains(c, ip) || ip.value < range.first || ip.value > range.last)
        throw nBadRequest(`IP address ${r.ipAddress} is not a valid IP for the specified subnet.`);
      const text = formatIp(ip.version, ip.value);
      const set = await usedOf(subnet.id);
      if (set.has(text))
        throw nConflict('IpAddressAlreadyAllocated', `IP address ${text} already allocated in subnet ${subnet.id}`);
      set.add(text);
      out.push({ subnetId: subnet.id, ip: text });
      continue;
    }
    if (!subnet) throw nBadRequest('Invalid input: a fixed_ips entry needs subnet_id or ip_address.');
    // Auto-address subnets named by id alone are covered by the implicit pass below.
    if (isAutoAddressSubnet(subnet) && !routerPort) continue;
    const ip = await fromSubnet(subnet);
    if (!ip) throw nConflict('IpAddressGenerationFailure', `No more IP addresses available on network ${networkId}.`);
    out.push({ subnetId: subnet.id, ip });
  }
  for (const s of autoSubnets) if (!out.some((a) => a.subnetId === s.id)) out.push(await eui64(s));
  return out;
}
