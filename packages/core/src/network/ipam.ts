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

/** Validates and allocates the requested addresses (subnets must be locked by the caller). */
export async function allocate(
  tx: Tx,
  networkId: string,
  subnets: Subnet[],
  requests: IpRequest[] | undefined,
): Promise<Allocation[]> {
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

  if (requests === undefined) {
    // Neutron: one address from an IPv4 subnet and one from an IPv6 subnet, when present.
    for (const version of [4, 6]) {
      const candidates = subnets.filter((s) => s.ipVersion === version);
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
    const ip = await fromSubnet(subnet);
    if (!ip) throw nConflict('IpAddressGenerationFailure', `No more IP addresses available on network ${networkId}.`);
    out.push({ subnetId: subnet.id, ip });
  }
  return out;
}
