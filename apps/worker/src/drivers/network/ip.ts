import { execFile } from 'node:child_process';
import { isIP } from 'node:net';

/** Raised when a host command fails; carries the command line and its stderr. */
export class CommandError extends Error {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly code: number | null;
  readonly stderr: string;
  constructor(cmd: string, args: readonly string[], code: number | null, stderr: string) {
    super(`${cmd} ${args.join(' ')} failed (${code}): ${stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
    this.name = 'CommandError';
    this.cmd = cmd;
    this.args = args;
    this.code = code;
    this.stderr = stderr;
  }
}

export interface RunOptions {
  /** Written to the command's stdin (nft -f -). */
  input?: string;
  /** Resolve with null instead of throwing when the command exits non-zero. */
  allowFail?: boolean;
  timeoutMs?: number;
}

export type Runner = (cmd: string, args: readonly string[], opts?: RunOptions) => Promise<string | null>;

/** execFile, never a shell: arguments built from input cannot inject anything. */
export const run: Runner = (cmd, args, opts = {}) =>
  new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      [...args],
      { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        if (opts.allowFail) return resolve(null);
        const code = typeof err.code === 'number' ? err.code : null;
        reject(new CommandError(cmd, args, code, stderr || err.message));
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });

export interface Cidr {
  version: 4 | 6;
  address: string;
  prefixLen: number;
}

export function parseCidr(cidr: string): Cidr {
  const [address = '', len] = cidr.split('/');
  const version = isIP(address);
  if (version !== 4 && version !== 6) throw new Error(`invalid CIDR ${JSON.stringify(cidr)}`);
  const max = version === 4 ? 32 : 128;
  const prefixLen = len === undefined ? max : Number(len);
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > max)
    throw new Error(`invalid CIDR ${JSON.stringify(cidr)}`);
  return { version, address, prefixLen };
}

export function ipVersion(ip: string): 4 | 6 {
  const v = isIP(ip);
  if (v !== 4 && v !== 6) throw new Error(`invalid IP address ${JSON.stringify(ip)}`);
  return v;
}

const v4ToInt = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
const intToV4 = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

export function v4Netmask(prefixLen: number): string {
  return intToV4(prefixLen === 0 ? 0 : 2 ** 32 - 2 ** (32 - prefixLen));
}

/** The network address of an IPv4 CIDR ("10.0.0.7/24" → "10.0.0.0"). */
export function v4NetworkAddress(cidr: string): string {
  const c = parseCidr(cidr);
  if (c.version !== 4) throw new Error(`not an IPv4 CIDR: ${cidr}`);
  const size = 2 ** (32 - c.prefixLen);
  return intToV4(Math.floor(v4ToInt(c.address) / size) * size);
}

export function v4InCidr(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  if (c.version !== 4 || ipVersion(ip) !== 4) return false;
  const size = 2 ** (32 - c.prefixLen);
  return Math.floor(v4ToInt(ip) / size) === Math.floor(v4ToInt(c.address) / size);
}

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
export function checkMac(mac: string): string {
  const m = mac.toLowerCase();
  if (!MAC_RE.test(m)) throw new Error(`invalid MAC address ${JSON.stringify(mac)}`);
  return m;
}

/** EUI-64 link-local address of a MAC, the one a guest's IPv6 stack uses by default. */
export function linkLocalFromMac(mac: string): string {
  const b = checkMac(mac)
    .split(':')
    .map((h) => Number.parseInt(h, 16));
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0] = b;
  const hex = (hi: number, lo: number) => ((hi << 8) | lo).toString(16);
  return `fe80::${hex(b0 ^ 0x02, b1)}:${hex(b2, 0xff)}:${hex(0xfe, b3)}:${hex(b4, b5)}`;
}

/** An IPv6 address as a 128-bit integer. */
export function v6ToBigInt(ip: string): bigint {
  if (isIP(ip) !== 6) throw new Error(`invalid IPv6 address ${JSON.stringify(ip)}`);
  let text = ip.toLowerCase();
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail?.[1]) {
    const n = v4ToInt(tail[1]);
    text = `${text.slice(0, -tail[1].length)}${Math.floor(n / 65536).toString(16)}:${(n % 65536).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const h = head ? head.split(':') : [];
  const r = rest ? rest.split(':') : [];
  const groups = rest === undefined ? h : [...h, ...Array<string>(8 - h.length - r.length).fill('0'), ...r];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(Number.parseInt(g || '0', 16)), 0n);
}

/** Canonical (RFC 5952) text of a 128-bit integer. */
export function bigIntToV6(value: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The network address of an IPv6 CIDR ("fd00::7/64" → "fd00::"). */
export function v6NetworkAddress(cidr: string): string {
  const c = parseCidr(cidr);
  if (c.version !== 6) throw new Error(`not an IPv6 CIDR: ${cidr}`);
  const host = 128n - BigInt(c.prefixLen);
  return bigIntToV6((v6ToBigInt(c.address) >> host) << host);
}

/** Whether `ip` lies in `cidr` (either family; false across families). */
export function inCidr(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr);
  if (ipVersion(ip) !== c.version) return false;
  if (c.version === 4) return v4InCidr(ip, cidr);
  const host = 128n - BigInt(c.prefixLen);
  return v6ToBigInt(ip) >> host === v6ToBigInt(c.address) >> host;
}
