/*
 * Address arithmetic for IPAM: addresses as bigints so IPv4 and IPv6 share one code
 * path. Pure functions, no I/O.
 */

export type IpVersion = 4 | 6;
export interface Ip {
  version: IpVersion;
  value: bigint;
}
export interface Cidr {
  version: IpVersion;
  /** Network address (host bits cleared). */
  network: bigint;
  prefix: number;
}
export interface Pool {
  start: string;
  end: string;
}

const bits = (v: IpVersion): number => (v === 4 ? 32 : 128);

export function parseIp(s: string): Ip | null {
  if (typeof s !== 'string') return null;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (v4) {
    let value = 0n;
    for (let i = 1; i <= 4; i++) {
      const part = v4[i] ?? '';
      if (part.length > 1 && part.startsWith('0')) return null;
      const n = Number(part);
      if (n > 255) return null;
      value = (value << 8n) | BigInt(n);
    }
    return { version: 4, value };
  }
  if (!s.includes(':') || !/^[0-9a-fA-F:.]+$/.test(s)) return null;
  let text = s;
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail?.[1]) {
    const t = parseIp(tail[1]);
    if (!t) return null;
    text = `${text.slice(0, -tail[1].length)}${(t.value >> 16n).toString(16)}:${(t.value & 0xffffn).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  let value = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    value = (value << 16n) | BigInt(Number.parseInt(g, 16));
  }
  return { version: 6, value };
}

export function formatIp(version: IpVersion, value: bigint): string {
  if (version === 4) return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 255n).toString()).join('.');
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (≥ 2) of zero groups.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Canonical text of an address (or null when it is not one). */
export function normalizeIp(s: string): string | null {
  const ip = parseIp(s);
  return ip ? formatIp(ip.version, ip.value) : null;
}

export function parseCidr(s: string): Cidr | null {
  if (typeof s !== 'string') return null;
  const slash = s.indexOf('/');
  const ip = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!ip) return null;
  const max = bits(ip.version);
  const pText = slash < 0 ? String(max) : s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(pText)) return null;
  const prefix = Number(pText);
  if (prefix > max) return null;
  const hostBits = BigInt(max - prefix);
  const network = (ip.value >> hostBits) << hostBits;
  return { version: ip.version, network, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.version, c.network)}/${c.prefix}`;
}

export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(bits(c.version) - c.prefix);
}
export function cidrLast(c: Cidr): bigint {
  return c.network + cidrSize(c) - 1n;
}

export function cidrContains(c: Cidr, ip: Ip): boolean {
  return ip.version === c.version && ip.value >= c.network && ip.value <= cidrLast(c);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && a.network <= cidrLast(b) && b.network <= cidrLast(a);
}

/** First and last addresses usable by hosts (IPv4 skips network and broadcast). */
export function usableRange(c: Cidr): { first: bigint; last: bigint } | null {
  const last = cidrLast(c);
  if (c.version === 4) {
    if (c.prefix >= 31) return { first: c.network, last };
    return { first: c.network + 1n, last: last - 1n };
  }
  // IPv6: the subnet-router anycast address (all zeros) is never handed out.
  if (c.prefix === 128) return { first: c.network, last };
  return { first: c.network + 1n, last };
}

/** The default gateway: the first usable address. */
export function defaultGateway(c: Cidr): string | null {
  const r = usableRange(c);
  return r ? formatIp(c.version, r.first) : null;
}

/** Neutron's default pools: every usable address except the gateway. */
export function defaultPools(c: Cidr, gateway: string | null): Pool[] {
  const r = usableRange(c);
  if (!r) return [];
  const gw = gateway ? parseIp(gateway) : null;
  const ranges: [bigint, bigint][] = [];
  if (gw && gw.version === c.version && gw.value >= r.first && gw.value <= r.last) {
    if (gw.value > r.first) ranges.push([r.first, gw.value - 1n]);
    if (gw.value < r.last) ranges.push([gw.value + 1n, r.last]);
  } else {
    ranges.push([r.first, r.last]);
  }
  return ranges.map(([s, e]) => ({ start: formatIp(c.version, s), end: formatIp(c.version, e) }));
}

export type PoolProblem =
  | { kind: 'invalid'; pool: Pool }
  | { kind: 'outside'; pool: Pool }
  | { kind: 'reversed'; pool: Pool }
  | { kind: 'overlap'; a: Pool; b: Pool }
  | { kind: 'gateway'; pool: Pool };

/** Checks pools against their subnet; returns the first problem, or null. */
export function checkPools(c: Cidr, pools: Pool[], gateway: string | null): PoolProblem | null {
  const parsed: { pool: Pool; s: bigint; e: bigint }[] = [];
  for (const pool of pools) {
    const s = parseIp(pool.start);
    const e = parseIp(pool.end);
    if (!s || !e || s.version !== c.version || e.version !== c.version) return { kind: 'invalid', pool };
    if (!cidrContains(c, s) || !cidrContains(c, e)) return { kind: 'outside', pool };
    if (s.value > e.value) return { kind: 'reversed', pool };
    parsed.push({ pool, s: s.value, e: e.value });
  }
  for (let i = 0; i < parsed.length; i++) {
    for (let j = i + 1; j < parsed.length; j++) {
      const a = parsed[i];
      const b = parsed[j];
      if (a && b && a.s <= b.e && b.s <= a.e) return { kind: 'overlap', a: a.pool, b: b.pool };
    }
  }
  const gw = gateway ? parseIp(gateway) : null;
  if (gw) for (const p of parsed) if (gw.value >= p.s && gw.value <= p.e) return { kind: 'gateway', pool: p.pool };
  return null;
}

export function inPools(pools: Pool[], ip: Ip): boolean {
  return pools.some((p) => {
    const s = parseIp(p.start);
    const e = parseIp(p.end);
    return !!s && !!e && ip.version === s.version && ip.value >= s.value && ip.value <= e.value;
  });
}

/** The lowest address of the pools that is not in `taken` (canonical strings). */
export function firstFree(pools: Pool[], taken: ReadonlySet<string>): string | null {
  const sorted = pools
    .map((p) => ({ s: parseIp(p.start), e: parseIp(p.end) }))
    .filter((p): p is { s: Ip; e: Ip } => !!p.s && !!p.e)
    .sort((a, b) => (a.s.value < b.s.value ? -1 : 1));
  for (const { s, e } of sorted) {
    // At most |taken| + 1 steps per pool: each step past a taken address.
    for (let v = s.value; v <= e.value; v++) {
      const text = formatIp(s.version, v);
      if (!taken.has(text)) return text;
    }
  }
  return null;
}

export function poolSize(pools: Pool[]): bigint {
  let n = 0n;
  for (const p of pools) {
    const s = parseIp(p.start);
    const e = parseIp(p.end);
    if (s && e && e.value >= s.value) n += e.value - s.value + 1n;
  }
  return n;
}

/** The address at `offset` when the pools are laid end to end (for random probing). */
export function poolAddressAt(pools: Pool[], offset: bigint): string | null {
  let rest = offset;
  for (const p of pools) {
    const s = parseIp(p.start);
    const e = parseIp(p.end);
    if (!s || !e || e.value < s.value) continue;
    const n = e.value - s.value + 1n;
    if (rest < n) return formatIp(s.version, s.value + rest);
    rest -= n;
  }
  return null;
}
