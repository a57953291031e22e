/**
 * Security groups and anti-spoofing in two nftables tables of our own, never in the
 * host's other rules (see README.md for the why):
 *
 * - `table bridge <T>` sees each bridge port (the VM's tap) but has no conntrack on
 *   this kernel (no nf_conntrack_bridge). It does anti-spoofing and tags each frame
 *   with the source port's index in the low 16 bits of the skb mark and the
 *   destination port's index in the high 16 bits.
 * - `table inet <T>` runs in the IP forward hook that br_netfilter calls for bridged
 *   frames (we switch it on per bridge with nf_call_iptables). It has conntrack but
 *   sees only the bridge, not the port, hence the marks: egress rules are chosen by
 *   the low half, ingress rules by the high half.
 *
 * Everything here renders text for `nft -f -`; one port = one atomic transaction.
 */
import type { EnsurePortInput, SecurityGroupRule } from './types.ts';
import { checkMac, ipVersion, linkLocalFromMac, parseCidr } from './ip.ts';

export const MAX_PORT_INDEX = 0xffff;
const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
export const srcMark = (idx: number) => hex(idx);
export const dstMark = (idx: number) => hex(idx * 0x10000);

const q = (s: string) => {
  if (!/^[A-Za-z0-9_.:\- ]*$/.test(s)) throw new Error(`unsafe nft string ${JSON.stringify(s)}`);
  return `"${s}"`;
};

const set = (items: readonly string[]) => (items.length === 1 ? items[0] : `{ ${items.join(', ')} }`);

/** Tables, maps and hook chains; declared only when the tables do not exist yet. */
export function renderSkeleton(table: string): string {
  return `table bridge ${table} {
  comment "stratus network dataplane: anti-spoofing, port marks"
  set known { type ifname; }
  map from_port { type ifname : verdict; }
  map to_port { type ifname : verdict; }
  chain ports {
    type filter hook forward priority -200; policy accept;
    iifname @known meta mark set 0x00000000
    oifname @known meta mark set 0x00000000
    iifname vmap @from_port
    oifname vmap @to_port
  }
}
table inet ${table} {
  comment "stratus network dataplane: stateful security groups"
  map sg_egress { type mark : verdict; }
  map sg_ingress { type mark : verdict; }
  chain sg {
    type filter hook forward priority 0; policy accept;
    meta mark and 0x0000ffff vmap @sg_egress
    meta mark and 0xffff0000 vmap @sg_ingress
  }
}
`;
}

export interface PortChains {
  idx: number;
  tap: string;
  portId: string;
}

const chainNames = (idx: number) => ({ s: `s${idx}`, d: `d${idx}`, e: `e${idx}`, i: `i${idx}` });
export const portComment = (portId: string, tap: string) => `port ${portId} ${tap}`;

/** `port <id> <tap>` comments on the `s<idx>` chains let a restarted driver recover its index table. */
export function parsePortComment(chain: string, comment: string | undefined): PortChains | null {
  const m = /^s(\d+)$/.exec(chain);
  const c = /^port (\S+) (\S+)$/.exec(comment ?? '');
  if (!m?.[1] || !c?.[1] || !c[2]) return null;
  return { idx: Number(m[1]), portId: c[1], tap: c[2] };
}

function ruleMatch(rule: SecurityGroupRule): string[] | null {
  const v4 = rule.ethertype === 'IPv4';
  const fam = v4 ? 'ip' : 'ip6';
  const parts: string[] = [`meta nfproto ${v4 ? 'ipv4' : 'ipv6'}`];
  const addrDir = rule.direction === 'ingress' ? 'saddr' : 'daddr';
  const wantVersion = v4 ? 4 : 6;
  if (rule.remoteIps) {
    const ips = rule.remoteIps.filter((ip) => ipVersion(ip) === wantVersion);
    // A remote group with no members of this family matches nothing.
    if (ips.length === 0) return null;
    parts.push(`${fam} ${addrDir} ${set([...new Set(ips)].sort())}`);
  }
  if (rule.remoteIpPrefix) {
    const c = parseCidr(rule.remoteIpPrefix);
    if (c.version !== wantVersion) return null;
    if (c.prefixLen > 0) parts.push(`${fam} ${addrDir} ${rule.remoteIpPrefix}`);
  }
  const proto = rule.protocol ?? 'any';
  const min = rule.portRangeMin ?? null;
  const max = rule.portRangeMax ?? null;
  if (proto === 'any') {
    // every protocol
  } else if (proto === 'tcp' || proto === 'udp' || proto === 6 || proto === 17) {
    const name = proto === 6 ? 'tcp' : proto === 17 ? 'udp' : proto;
    if (min !== null || max !== null) {
      const lo = min ?? 1;
      const hi = max ?? 65535;
      checkPort(lo);
      checkPort(hi);
      if (lo > hi) throw new Error(`port range ${lo}-${hi} is empty`);
      parts.push(lo === hi ? `${name} dport ${lo}` : `${name} dport ${lo}-${hi}`);
    } else {
      parts.push(`meta l4proto ${name}`);
    }
  } else if (proto === 'icmp' || proto === 'icmpv6' || proto === 1 || proto === 58) {
    const name = v4 ? 'icmp' : 'icmpv6';
    if (min !== null) {
      checkByte(min);
      parts.push(`${name} type ${min}`);
      if (max !== null) {
        checkByte(max);
        parts.push(`${name} code ${max}`);
      }
    } else {
      parts.push(`meta l4proto ${v4 ? 'icmp' : 'ipv6-icmp'}`);
    }
  } else if (typeof proto === 'number') {
    checkByte(proto);
    parts.push(`meta l4proto ${proto}`);
  } else {
    throw new Error(`unsupported protocol ${JSON.stringify(proto)}`);
  }
  return parts;
}

function checkPort(n: number) {
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port ${n}`);
}
function checkByte(n: number) {
  if (!Number.isInteger(n) || n < 0 || n > 255) throw new Error(`invalid protocol/type/code ${n}`);
}

/** Security-group rules of one direction, as nft rule bodies (without `add rule`). */
export function renderSgRules(rules: readonly SecurityGroupRule[], direction: 'ingress' | 'egress'): string[] {
  const verdict = direction === 'ingress' ? 'accept' : 'return';
  const out: string[] = [];
  for (const r of rules) {
    if (r.direction !== direction) continue;
    const m = ruleMatch(r);
    if (m) out.push(`${m.join(' ')} ${verdict}`);
  }
  return [...new Set(out)];
}

/** Anti-spoofing rules of the bridge `s<idx>` chain (before the port's mark is set). */
export function renderAntiSpoof(port: Pick<EnsurePortInput, 'mac' | 'ips' | 'allowedAddressPairs'>): string[] {
  const macs = new Set([checkMac(port.mac)]);
  const v4: string[] = [];
  const v6: string[] = [linkLocalFromMac(port.mac)];
  for (const ip of port.ips) (ipVersion(ip) === 4 ? v4 : v6).push(ip);
  for (const p of port.allowedAddressPairs ?? []) {
    const mac = p.macAddress ? checkMac(p.macAddress) : null;
    if (mac) {
      macs.add(mac);
      v6.push(linkLocalFromMac(mac));
    }
    (parseCidr(p.ipAddress).version === 4 ? v4 : v6).push(p.ipAddress);
  }
  const macSet = set([...macs].sort());
  const out = [
    `ether saddr != ${macSet} drop`,
    `ether type arp arp saddr ether != ${macSet} drop`,
    // ARP probes come from 0.0.0.0.
    `ether type arp arp saddr ip != ${set(['0.0.0.0', ...new Set(v4)])} drop`,
    // DHCP discover/request before the guest has an address.
    'ether type ip ip saddr 0.0.0.0 ip daddr 255.255.255.255 udp sport 68 udp dport 67 return',
    // A guest must not act as a DHCP server or an IPv6 router.
    'ether type ip udp sport 67 udp dport 68 drop',
    'ether type ip6 udp sport 547 udp dport 546 drop',
    'ether type ip6 icmpv6 type nd-router-advert drop',
  ];
  out.push(v4.length > 0 ? `ether type ip ip saddr != ${set([...new Set(v4)])} drop` : 'ether type ip drop');
  // :: is the source of duplicate address detection.
  out.push(`ether type ip6 ip6 saddr != ${set(['::', ...new Set(v6)])} drop`);
  out.push('ether type != { ip, ip6, arp } drop');
  return out;
}

/** The nft transaction that (re)writes one port's chains and map entries. */
export function renderPort(table: string, idx: number, port: EnsurePortInput, tap: string): string {
  if (!Number.isInteger(idx) || idx < 1 || idx > MAX_PORT_INDEX) throw new Error(`port index ${idx} out of range`);
  const c = chainNames(idx);
  const comment = q(portComment(port.id, tap));
  const lines: string[] = [];
  const chain = (fam: string, name: string, rules: string[], withComment: boolean) => {
    lines.push(`add chain ${fam} ${table} ${name}${withComment ? ` { comment ${comment}; }` : ''}`);
    lines.push(`flush chain ${fam} ${table} ${name}`);
    for (const r of rules) lines.push(`add rule ${fam} ${table} ${name} ${r}`);
  };
  const tapQ = q(tap);
  lines.push(`add element bridge ${table} known { ${tapQ} }`);
  if (!port.portSecurityEnabled) {
    // Known but unfiltered: remove any earlier filtering of this port.
    lines.push(...renderPortUnmap(table, idx, tap));
    return `${lines.join('\n')}\n`;
  }
  // The s chain carries the comment the index table is recovered from.
  chain('bridge', c.s, [...renderAntiSpoof(port), `meta mark set meta mark or ${srcMark(idx)}`], true);
  chain('bridge', c.d, [`meta mark set meta mark or ${dstMark(idx)}`], false);
  chain(
    'inet',
    c.e,
    [
      'ct state established,related return',
      // Whatever the groups say, a port may configure itself (Neutron's base rules):
      // DHCP and DHCPv6 requests, router solicitations, neighbour discovery and MLD
      // (untracked by conntrack), so SLAAC and DHCPv6 work under any security group.
      'meta nfproto ipv4 udp sport 68 udp dport 67 return',
      'meta nfproto ipv6 udp sport 546 udp dport 547 return',
      'icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld-listener-done, mld2-listener-report } return',
      'ct state invalid drop',
      ...renderSgRules(port.securityGroups, 'egress'),
      'drop',
    ],
    false,
  );
  chain(
    'inet',
    c.i,
    [
      'ct state established,related accept',
      'ct state invalid drop',
      // DHCP answers are broadcast or to a not-yet-configured address: no conntrack entry.
      'meta nfproto ipv4 udp sport 67 udp dport 68 accept',
      'meta nfproto ipv6 udp sport 547 udp dport 546 accept',
      'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, mld-listener-query } accept',
      ...renderSgRules(port.securityGroups, 'ingress'),
      'drop',
    ],
    false,
  );
  lines.push(`add element bridge ${table} from_port { ${tapQ} : jump ${c.s} }`);
  lines.push(`add element bridge ${table} to_port { ${tapQ} : jump ${c.d} }`);
  lines.push(`add element inet ${table} sg_egress { ${srcMark(idx)} : jump ${c.e} }`);
  lines.push(`add element inet ${table} sg_ingress { ${dstMark(idx)} : jump ${c.i} }`);
  return `${lines.join('\n')}\n`;
}

/**
 * Removes a port's map entries and chains. `add element` before `delete element`
 * makes the delete succeed whether or not the entry existed (one transaction).
 */
export function renderPortUnmap(table: string, idx: number, tap: string): string[] {
  const c = chainNames(idx);
  const tapQ = q(tap);
  const lines: string[] = [];
  for (const [fam, map, key, ch] of [
    ['bridge', 'from_port', tapQ, c.s],
    ['bridge', 'to_port', tapQ, c.d],
    ['inet', 'sg_egress', srcMark(idx), c.e],
    ['inet', 'sg_ingress', dstMark(idx), c.i],
  ] as const) {
    lines.push(`add chain ${fam} ${table} ${ch}`);
    lines.push(`flush chain ${fam} ${table} ${ch}`);
    lines.push(`add element ${fam} ${table} ${map} { ${key} : jump ${ch} }`);
    lines.push(`delete element ${fam} ${table} ${map} { ${key} }`);
    lines.push(`delete chain ${fam} ${table} ${ch}`);
  }
  return lines;
}

export function renderPortDelete(table: string, idx: number, tap: string): string {
  const lines = [
    `add element bridge ${table} known { ${q(tap)} }`,
    `delete element bridge ${table} known { ${q(tap)} }`,
  ];
  return `${[...renderPortUnmap(table, idx, tap), ...lines].join('\n')}\n`;
}

export function renderKnown(table: string, ifname: string, present: boolean): string {
  const add = `add element bridge ${table} known { ${q(ifname)} }`;
  return present ? `${add}\n` : `${add}\ndelete element bridge ${table} known { ${q(ifname)} }\n`;
}

/** The router namespace's NAT, rebuilt atomically on every ensureRouter. */
export function renderRouterNat(opts: {
  gatewayIf: string | null;
  gatewayIp: string | null;
  snat: boolean;
  internalCidrs: readonly string[];
  floatingIps: readonly { floatingIp: string; fixedIp: string }[];
  metadataPort: number;
}): string {
  const pre: string[] = [
    `iifname "qr-*" ip daddr 169.254.169.254 tcp dport 80 dnat to 169.254.169.254:${opts.metadataPort}`,
  ];
  const out: string[] = [];
  const post: string[] = [];
  const input: string[] = [`iifname != "qr-*" ip daddr 169.254.169.254 drop`];
  if (opts.gatewayIf) {
    const g = q(opts.gatewayIf);
    for (const f of opts.floatingIps) {
      if (ipVersion(f.floatingIp) !== 4 || ipVersion(f.fixedIp) !== 4) throw new Error('floating IPs are IPv4');
      pre.push(`ip daddr ${f.floatingIp} dnat to ${f.fixedIp}`);
      out.push(`ip daddr ${f.floatingIp} dnat to ${f.fixedIp}`);
      post.push(`oifname ${g} ip saddr ${f.fixedIp} snat to ${f.floatingIp}`);
    }
    const cidrs = opts.internalCidrs.filter((c) => parseCidr(c).version === 4);
    if (opts.snat && opts.gatewayIp && cidrs.length > 0) {
      post.push(`oifname ${g} ip saddr ${set(cidrs)} snat to ${opts.gatewayIp}`);
    }
  }
  const chain = (name: string, hook: string, prio: string, rules: string[]) =>
    `  chain ${name} {\n    type ${hook === 'input' ? 'filter' : 'nat'} hook ${hook} priority ${prio}; policy accept;\n${rules.map((r) => `    ${r}\n`).join('')}  }\n`;
  return [
    'table ip stratus {}',
    'delete table ip stratus',
    'table ip stratus {',
    chain('prerouting', 'prerouting', 'dstnat', pre),
    chain('output', 'output', '-100', out),
    chain('postrouting', 'postrouting', 'srcnat', post),
    chain('input', 'input', 'filter', input),
    '}',
    '',
  ].join('\n');
}

/**
 * The router namespace's IPv6 filter, rebuilt on every ensureRouter: IPv6 is routed
 * without NAT; only DHCPv6 is dropped on the way in, so the router's RA dnsmasq (whose
 * stateful/stateless contexts set the M/O flags) never answers a client — the DHCP
 * namespace does.
 */
export function renderRouterV6(): string {
  return [
    'table ip6 stratus {}',
    'delete table ip6 stratus',
    'table ip6 stratus {',
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '    udp dport 547 drop',
    '  }',
    '}',
    '',
  ].join('\n');
}
