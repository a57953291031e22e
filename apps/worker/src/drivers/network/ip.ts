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
