import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  METADATA_IP,
  dnsmasqArgs,
  renderHosts,
  renderOpts,
  renderRouterRaOpts,
  routerRaArgs,
  servedSubnets,
  type RouterRaInterface,
} from './dnsmasq.ts';
import {
  MAX_PORT_INDEX,
  parsePortComment,
  renderKnown,
  renderPort,
  renderPortDelete,
  renderRouterNat,
  renderRouterV6,
  renderSkeleton,
} from './firewall.ts';
import {
  checkMac,
  inCidr,
  ipVersion,
  parseCidr,
  run as defaultRun,
  v4NetworkAddress,
  v6NetworkAddress,
  type Runner,
} from './ip.ts';
import {
  bridgeName,
  checkId,
  checkMarker,
  dhcpNamespace,
  dhcpNsIf,
  gatewayIf,
  linkAlias,
  parseAlias,
  routerIf,
  routerNamespace,
  tableName,
  tapName,
  vxlanName,
  type LinkKind,
} from './names.ts';
import type {
  CleanupKeep,
  EnsureDhcpInput,
  EnsureNetworkInput,
  EnsurePortInput,
  EnsureRouterInput,
  ExternalNetworkInput,
  ManagedState,
  NetworkDriver,
} from './types.ts';

export interface LinuxNetworkDriverOptions {
  /** dnsmasq files, pid files and proxy logs live under `<stateDir>/{dhcp,router}/<id>/`. */
  stateDir: string;
  /** Unix socket of the host metadata service. */
  metadataSocket: string;
  /** Written into every link's ifalias and names the nft tables; default "stratus". */
  marker?: string;
  defaultMtu?: number;
  /** Needed for vxlan networks: this host's VTEP address and optional underlay device. */
  vxlan?: { localIp: string; dev?: string; port?: number };
  nodePath?: string;
  proxyScript?: string;
  dnsmasqPath?: string;
  run?: Runner;
}

interface LinkJson {
  ifname: string;
  ifalias?: string;
  master?: string;
  address?: string;
  mtu?: number;
  operstate?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number; link?: string } };
}
interface AddrJson {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string }[];
}
interface RouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
}

const ROUTER_METADATA_PORT = 9697;
const ZERO_MAC = '00:00:00:00:00:00';

function parseJson<T>(text: string | null): T[] {
  if (!text?.trim()) return [];
  const v: unknown = JSON.parse(text);
  return Array.isArray(v) ? (v as T[]) : [];
}

export class LinuxNetworkDriver implements NetworkDriver {
  readonly marker: string;
  readonly table: string;
  private readonly run: Runner;
  private readonly opts: LinuxNetworkDriverOptions;
  private readonly nodePath: string;
  private readonly proxyScript: string;
  private queue: Promise<unknown> = Promise.resolve();
  private ports: Map<string, { idx: number; tap: string }> | null = null;
  private tablesReady = false;

  constructor(opts: LinuxNetworkDriverOptions) {
    this.opts = opts;
    this.marker = checkMarker(opts.marker ?? 'stratus');
    this.table = tableName(this.marker);
    this.run = opts.run ?? defaultRun;
    this.nodePath = opts.nodePath ?? process.execPath;
    this.proxyScript = opts.proxyScript ?? fileURLToPath(new URL('./metadata-proxy.ts', import.meta.url));
  }

  /** One operation at a time: each is a read-compare-write of host state. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => {});
    return next;
  }

  // ---------------------------------------------------------------- host helpers

  private ip(args: string[], allowFail = false) {
    return this.run('ip', args, { allowFail });
  }

  private async links(ns?: string): Promise<LinkJson[]> {
    const args = ns ? ['-n', ns, '-j', '-d', 'link', 'show'] : ['-j', '-d', 'link', 'show'];
    return parseJson<LinkJson>(await this.ip(args, Boolean(ns)));
  }

  private async link(name: string, ns?: string): Promise<LinkJson | null> {
    const args = [...(ns ? ['-n', ns] : []), '-j', '-d', 'link', 'show', 'dev', name];
    return parseJson<LinkJson>(await this.ip(args, true))[0] ?? null;
  }

  private async namespaces(): Promise<string[]> {
    return parseJson<{ name: string }>(await this.ip(['-j', 'netns', 'list'], true)).map((n) => n.name);
  }

  private alias(kind: LinkKind, id: string) {
    return linkAlias(this.marker, kind, id);
  }

  /** Bridge ports and bridges must not speak IPv6 on their own (no RS/DAD from the host). */
  private async hostNoIpv6(ifname: string) {
    await writeFile(`/proc/sys/net/ipv6/conf/${ifname}/disable_ipv6`, '1').catch(() => {});
  }

  private async ensureNamespace(ns: string, kind: LinkKind, id: string) {
    if (!(await this.namespaces()).includes(ns)) await this.ip(['netns', 'add', ns]);
    const lo = await this.link('lo', ns);
    const alias = this.alias('namespace', `${kind}:${id}`);
    if (lo?.ifalias !== alias) await this.ip(['-n', ns, 'link', 'set', 'lo', 'alias', alias]);
    if (!(await this.isUp('lo', ns))) await this.ip(['-n', ns, 'link', 'set', 'lo', 'up']);
  }

  private async ensureBridge(name: string, kind: LinkKind, id: string, mtu: number) {
    let l = await this.link(name);
    if (l && l.linkinfo?.info_kind !== 'bridge') throw new Error(`${name} exists and is not a bridge`);
    if (!l) {
      // nf_call_iptables per bridge: br_netfilter hands our bridged frames to the
      // inet forward hook (conntrack) without depending on the global sysctl.
      await this.ip([
        'link',
        'add',
        name,
        'mtu',
        String(mtu),
        'type',
        'bridge',
        'stp_state',
        '0',
        'forward_delay',
        '0',
        'nf_call_iptables',
        '1',
        'nf_call_ip6tables',
        '1',
      ]);
      l = await this.link(name);
    }
    const alias = this.alias(kind, id);
    if (l?.ifalias !== alias) await this.ip(['link', 'set', name, 'alias', alias]);
    if (l?.mtu !== mtu) await this.ip(['link', 'set', name, 'mtu', String(mtu)]);
    await this.hostNoIpv6(name);
    if (!(await this.isUp(name))) await this.ip(['link', 'set', name, 'up']);
  }

  private async isUp(name: string, ns?: string): Promise<boolean> {
    const out = await this.ip([...(ns ? ['-n', ns] : []), '-j', 'link', 'show', 'dev', name], true);
    const l = parseJson<{ flags?: string[] }>(out)[0];
    return Boolean(l?.flags?.includes('UP'));
  }

  /**
   * A veth pair: `host` attached to `bridge` on the host, `inside` in `ns` with the
   * given MAC. Recreated if a half is missing (e.g. the namespace was removed).
   */
  private async ensureVeth(o: {
    host: string;
    inside: string;
    ns: string;
    bridge: string;
    mac: string;
    mtu: number;
    kind: LinkKind;
    id: string;
  }) {
    const h = await this.link(o.host);
    const i = await this.link(o.inside, o.ns);
    if (h && !i) await this.ip(['link', 'del', o.host]);
    if (!h || !i) {
      if (i) await this.ip(['-n', o.ns, 'link', 'del', o.inside]);
      await this.ip([
        'link',
        'add',
        o.host,
        'mtu',
        String(o.mtu),
        'type',
        'veth',
        'peer',
        'name',
        o.inside,
        'mtu',
        String(o.mtu),
        'address',
        o.mac,
        'netns',
        o.ns,
      ]);
    }
    const host = (await this.link(o.host)) ?? { ifname: o.host };
    const alias = this.alias(o.kind, o.id);
    if (host.ifalias !== alias) await this.ip(['link', 'set', o.host, 'alias', alias]);
    if (host.master !== o.bridge) await this.ip(['link', 'set', o.host, 'master', o.bridge]);
    if (host.mtu !== o.mtu) await this.ip(['link', 'set', o.host, 'mtu', String(o.mtu)]);
    await this.hostNoIpv6(o.host);
    if (!(await this.isUp(o.host))) await this.ip(['link', 'set', o.host, 'up']);
    const inside = (await this.link(o.inside, o.ns)) ?? { ifname: o.inside };
    if (inside.address !== o.mac) await this.ip(['-n', o.ns, 'link', 'set', o.inside, 'address', o.mac]);
    if (inside.mtu !== o.mtu) await this.ip(['-n', o.ns, 'link', 'set', o.inside, 'mtu', String(o.mtu)]);
    if (!(await this.isUp(o.inside, o.ns))) await this.ip(['-n', o.ns, 'link', 'set', o.inside, 'up']);
  }

  /** Makes the global addresses of `dev` exactly `want` (CIDR strings). */
  private async syncAddrs(dev: string, want: string[], ns?: string) {
    const pre = ns ? ['-n', ns] : [];
    const cur = parseJson<AddrJson>(await this.ip([...pre, '-j', 'addr', 'show', 'dev', dev], true))[0];
    const have = new Set(
      (cur?.addr_info ?? [])
        .filter((a) => !(a.family === 'inet6' && a.local.toLowerCase().startsWith('fe80:')))
        .map((a) => `${a.local}/${a.prefixlen}`),
    );
    const wantSet = new Set(want.map((c) => `${parseCidr(c).address}/${parseCidr(c).prefixLen}`));
    for (const a of have) if (!wantSet.has(a)) await this.ip([...pre, 'addr', 'del', a, 'dev', dev], true);
    // IPv6: no duplicate address detection (the address is ours by IPAM; a tentative
    // address could not be bound by dnsmasq or answer at once).
    for (const a of wantSet)
      if (!have.has(a))
        await this.ip([...pre, 'addr', 'add', a, 'dev', dev, ...(parseCidr(a).version === 6 ? ['nodad'] : [])]);
  }

  private async nft(script: string, ns?: string) {
    if (ns) await this.run('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: script });
    else await this.run('nft', ['-f', '-'], { input: script });
  }

  private async ensureTables() {
    if (this.tablesReady) return;
    const b = await this.run('nft', ['list', 'table', 'bridge', this.table], { allowFail: true });
    const i = await this.run('nft', ['list', 'table', 'inet', this.table], { allowFail: true });
    if (b === null || i === null) {
      // Half a skeleton (crash between the two) is rebuilt whole.
      const drop = [
        b !== null ? `delete table bridge ${this.table}` : '',
        i !== null ? `delete table inet ${this.table}` : '',
      ];
      await this.nft(`${drop.filter(Boolean).join('\n')}\n${renderSkeleton(this.table)}`);
    }
    this.tablesReady = true;
  }

  /** The port → mark-index table, recovered from the chains' comments after a restart. */
  private async portIndex(): Promise<Map<string, { idx: number; tap: string }>> {
    if (this.ports) return this.ports;
    await this.ensureTables();
    const map = new Map<string, { idx: number; tap: string }>();
    // nft 1.0's JSON output omits chain comments: read the text listing (-t: no set elements).
    const out = (await this.run('nft', ['-t', 'list', 'table', 'bridge', this.table], { allowFail: true })) ?? '';
    for (const m of out.matchAll(/chain (s\d+) \{\s*comment "([^"]*)"/g)) {
      const p = parsePortComment(m[1] ?? '', m[2]);
      if (p) map.set(p.portId, { idx: p.idx, tap: p.tap });
    }
    this.ports = map;
    return map;
  }

  /**
   * The lowest free index from a marker-derived start. The inet table can only key on
   * the mark, so a second driver on the same host (another marker: parallel test runs,
   * several dev stacks) would apply its own chains to our frames if both counted from 1;
   * distinct starts keep their small index ranges apart.
   */
  private allocIndex(map: Map<string, { idx: number }>): number {
    const used = new Set([...map.values()].map((v) => v.idx));
    let h = 2166136261;
    for (const ch of this.marker) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    const start = 1 + (h % MAX_PORT_INDEX);
    for (let n = 0; n < MAX_PORT_INDEX; n++) {
      const i = 1 + ((start - 1 + n) % MAX_PORT_INDEX);
      if (!used.has(i)) return i;
    }
    throw new Error('no free port index on this host (65535 ports)');
  }

  // ---------------------------------------------------------------- processes

  private dir(kind: 'dhcp' | 'router', id: string) {
    return join(this.opts.stateDir, kind, id);
  }

  private async readPid(file: string): Promise<number | null> {
    const t = await readFile(file, 'utf8').catch(() => '');
    const n = Number.parseInt(t.trim(), 10);
    return Number.isInteger(n) && n > 1 ? n : null;
  }

  /** The pid still runs and is the program we started (not a recycled pid). */
  private async pidIs(pid: number, needle: string): Promise<boolean> {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => null);
    return Boolean(cmd?.split('\0').some((a) => a.includes(needle)));
  }

  private async stopPid(file: string, needle: string) {
    const pid = await this.readPid(file);
    if (pid && (await this.pidIs(pid, needle))) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {}
      for (let i = 0; i < 50 && (await this.pidIs(pid, needle)); i++) await sleep(20);
      if (await this.pidIs(pid, needle)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
        for (let i = 0; i < 50 && (await this.pidIs(pid, needle)); i++) await sleep(20);
      }
    }
    await rm(file, { force: true });
  }

  private async writeIfChanged(file: string, content: string): Promise<boolean> {
    const cur = await readFile(file, 'utf8').catch(() => null);
    if (cur === content) return false;
    await writeFile(`${file}.tmp`, content);
    await rename(`${file}.tmp`, file);
    return true;
  }

  private async ensureProxy(ns: string, dir: string, args: string[]) {
    const pidFile = join(dir, 'metadata-proxy.pid');
    const argsFile = join(dir, 'metadata-proxy.args');
    const wantArgs = JSON.stringify(args);
    const pid = await this.readPid(pidFile);
    const same = (await readFile(argsFile, 'utf8').catch(() => null)) === wantArgs;
    const ready = join(dir, 'metadata-proxy.ready');
    if (pid && same && (await this.pidIs(pid, ready))) return;
    await this.stopPid(pidFile, ready);
    await rm(ready, { force: true });
    const logFd = openSync(join(dir, 'metadata-proxy.log'), 'a');
    try {
      // `ip netns exec` execs the program: the child's pid is the proxy's pid.
      const child = spawn(
        'ip',
        ['netns', 'exec', ns, this.nodePath, '--no-warnings', this.proxyScript, ...args, '--ready-file', ready],
        {
          detached: true,
          stdio: ['ignore', logFd, logFd],
        },
      );
      child.unref();
      if (!child.pid) throw new Error('metadata proxy did not start');
      await writeFile(pidFile, `${child.pid}\n`);
      await writeFile(argsFile, wantArgs);
      for (let i = 0; i < 250 && !existsSync(ready); i++) {
        if (child.exitCode !== null) break;
        await sleep(20);
      }
      if (!existsSync(ready)) {
        const log = await readFile(join(dir, 'metadata-proxy.log'), 'utf8').catch(() => '');
        throw new Error(`metadata proxy in ${ns} did not start: ${log.trim().split('\n').slice(-3).join(' | ')}`);
      }
    } finally {
      closeSync(logFd);
    }
  }

  // ---------------------------------------------------------------- networks

  ensureNetwork(input: EnsureNetworkInput): Promise<void> {
    return this.serial(() => this.doEnsureNetwork(input, 'network'));
  }

  private async doEnsureNetwork(input: EnsureNetworkInput, kind: LinkKind) {
    const br = bridgeName(input.id);
    const mtu = input.mtu ?? this.opts.defaultMtu ?? 1500;
    await this.ensureBridge(br, kind, input.id, mtu);
    if (input.segmentation.type === 'vxlan') await this.ensureVxlan(input, br, mtu);
  }

  /**
   * The network's `vxlan-<vni>` port in its bridge (tunnels configured): rebuilt when its
   * VNI, local address, UDP port or underlay device differ; flood entries (all-zero MAC)
   * for exactly `peers`, unicast entries for exactly `remoteMacs` (l2population). Without
   * a tunnel configuration a leftover device of this network is removed.
   */
  private async ensureVxlan(input: EnsureNetworkInput, br: string, mtu: number) {
    const vni = input.segmentation.id;
    if (vni === undefined || !Number.isInteger(vni) || vni < 1 || vni > 0xffffff)
      throw new Error(`network ${input.id}: vxlan needs a VNI`);
    const vx = this.opts.vxlan;
    const name = vxlanName(vni);
    // A single host needs no tunnel: the bridge alone is the network.
    if (!vx) {
      for (const l of await this.links()) {
        const a = parseAlias(this.marker, l.ifalias);
        if (a?.kind === 'vxlan' && a.id === input.id) await this.ip(['link', 'del', l.ifname], true);
      }
      return;
    }
    const local = checkIp(vx.localIp);
    const port = vx.port ?? 4789;
    const peers = new Set((input.peers ?? []).map(checkIp));
    const macs = new Map((input.remoteMacs ?? []).map((m) => [checkMac(m.mac), checkIp(m.dst)]));
    let l = await this.link(name);
    if (l) {
      const d = l.linkinfo?.info_data;
      const a = parseAlias(this.marker, l.ifalias);
      if (l.linkinfo?.info_kind !== 'vxlan' || (a && a.id !== input.id))
        throw new Error(`${name} exists and is not this network's vxlan device`);
      if (d?.id !== vni || d?.local !== local || d?.port !== port || (d?.link ?? null) !== (vx.dev ?? null)) {
        await this.ip(['link', 'del', name]);
        l = null;
      }
    }
    if (!l) {
      const args = ['link', 'add', name, 'mtu', String(mtu), 'type', 'vxlan', 'id', String(vni)];
      args.push('local', local, 'dstport', String(port), 'nolearning');
      if (vx.dev) args.push('dev', vx.dev);
      await this.ip(args);
    }
    await this.ip(['link', 'set', name, 'alias', this.alias('vxlan', input.id), 'master', br, 'mtu', String(mtu)]);
    await this.hostNoIpv6(name);
    if (!(await this.isUp(name))) await this.ip(['link', 'set', name, 'up']);
    const fdb = parseJson<{ mac: string; dst?: string }>(
      await this.run('bridge', ['-j', 'fdb', 'show', 'dev', name], { allowFail: true }),
    ).filter((f) => f.dst);
    const flood = new Set(fdb.filter((f) => f.mac === ZERO_MAC).map((f) => f.dst ?? ''));
    const unicast = new Map(fdb.filter((f) => f.mac !== ZERO_MAC).map((f) => [f.mac, f.dst ?? '']));
    const fdbCmd = (op: string, mac: string, dst: string, allowFail = false) =>
      this.run('bridge', ['fdb', op, mac, 'dev', name, 'dst', dst], { allowFail });
    for (const p of peers) if (!flood.has(p)) await fdbCmd('append', ZERO_MAC, p);
    for (const p of flood) if (!peers.has(p)) await fdbCmd('del', ZERO_MAC, p, true);
    for (const [mac, dst] of macs) if (unicast.get(mac) !== dst) await fdbCmd('replace', mac, dst);
    for (const [mac, dst] of unicast) if (!macs.has(mac)) await fdbCmd('del', mac, dst, true);
  }

  deleteNetwork(networkId: string): Promise<void> {
    return this.serial(async () => {
      await this.doDeleteDhcp(networkId);
      await this.doDeleteNetwork(networkId);
    });
  }

  private async doDeleteNetwork(networkId: string) {
    const br = bridgeName(networkId);
    for (const l of await this.links()) {
      const a = parseAlias(this.marker, l.ifalias);
      if (a?.kind === 'vxlan' && a.id === networkId) await this.ip(['link', 'del', l.ifname], true);
    }
    const l = await this.link(br);
    const a = parseAlias(this.marker, l?.ifalias);
    if (l && a && a.id === networkId) await this.ip(['link', 'del', br], true);
  }

  ensureExternalNetwork(input: ExternalNetworkInput): Promise<void> {
    return this.serial(async () => {
      const c = parseCidr(input.cidr);
      if (ipVersion(input.gatewayIp) !== c.version) throw new Error('gateway IP and CIDR differ in IP version');
      await this.doEnsureNetwork({ id: input.id, mtu: input.mtu, segmentation: { type: 'flat' } }, 'external');
      // Host side only: the host reaches floating IPs; nothing forwards or NATs onwards.
      await this.syncAddrs(bridgeName(input.id), [`${input.gatewayIp}/${c.prefixLen}`]);
    });
  }

  // ---------------------------------------------------------------- DHCP

  ensureDhcp(input: EnsureDhcpInput): Promise<void> {
    return this.serial(() => this.doEnsureDhcp(input));
  }

  private async doEnsureDhcp(input: EnsureDhcpInput) {
    const netId = checkId('network', input.networkId);
    const br = bridgeName(netId);
    const brLink = await this.link(br);
    if (!brLink) throw new Error(`network ${netId} has no bridge: ensureNetwork first`);
    const mtu = input.mtu ?? brLink.mtu ?? this.opts.defaultMtu ?? 1500;
    const ns = dhcpNamespace(netId);
    const dir = this.dir('dhcp', netId);
    await mkdir(dir, { recursive: true });
    await this.ensureNamespace(ns, 'dhcp', netId);
    const host = tapName(input.dhcpPort.id);
    const inside = dhcpNsIf(input.dhcpPort.id);
    // A changed DHCP port replaces the old veth.
    for (const l of await this.links(ns)) {
      if (l.ifname.startsWith('ns-') && l.ifname !== inside) await this.ip(['-n', ns, 'link', 'del', l.ifname], true);
    }
    await this.ensureVeth({
      host,
      inside,
      ns,
      bridge: br,
      mac: checkMac(input.dhcpPort.mac),
      mtu,
      kind: 'dhcp',
      id: netId,
    });
    await this.ensureTables();
    await this.nft(renderKnown(this.table, host, true));
    const served = servedSubnets(input.subnets);
    const addrs: string[] = [];
    for (const ip of input.dhcpPort.ips) {
      const s = input.subnets.find((sn) => inCidr(ip, sn.cidr));
      if (s) addrs.push(`${ip}/${parseCidr(s.cidr).prefixLen}`);
    }
    addrs.push(`${METADATA_IP}/32`);
    // The DHCP port takes no RAs (no SLAAC address or default route of its own) and
    // skips DAD, so dnsmasq can bind its IPv6 address at once.
    await this.nsSysctl(ns, [`net.ipv6.conf.${inside}.accept_ra=0`, `net.ipv6.conf.${inside}.accept_dad=0`]);
    await this.syncAddrs(inside, addrs, ns);

    const files = {
      hostsFile: join(dir, 'hosts'),
      optsFile: join(dir, 'opts'),
      leaseFile: join(dir, 'leases'),
      pidFile: join(dir, 'dnsmasq.pid'),
    };
    const hostsChanged = await this.writeIfChanged(files.hostsFile, renderHosts(input.ports, input.subnets));
    const optsChanged = await this.writeIfChanged(
      files.optsFile,
      renderOpts({ subnets: input.subnets, dhcpIps: input.dhcpPort.ips, mtu, domain: input.domain }),
    );
    const args = dnsmasqArgs({
      iface: inside,
      subnets: input.subnets,
      files,
      leaseSeconds: input.leaseSeconds,
      domain: input.domain,
    });
    const argsFile = join(dir, 'dnsmasq.args');
    const argsSame = (await readFile(argsFile, 'utf8').catch(() => null)) === JSON.stringify(args);
    const dnsmasq = this.opts.dnsmasqPath ?? 'dnsmasq';
    const pid = await this.readPid(files.pidFile);
    const alive = pid !== null && (await this.pidIs(pid, `--pid-file=${files.pidFile}`));
    if (served.length === 0) {
      await this.stopPid(files.pidFile, `--pid-file=${files.pidFile}`);
    } else if (alive && argsSame) {
      // Static leases and options are re-read on SIGHUP: no restart, no lost leases.
      if ((hostsChanged || optsChanged) && pid) process.kill(pid, 'SIGHUP');
    } else {
      await this.stopPid(files.pidFile, `--pid-file=${files.pidFile}`);
      await writeFile(files.leaseFile, '', { flag: 'a' });
      // dnsmasq daemonizes and writes its pid file; `ip netns exec` returns its exit code.
      await this.run('ip', ['netns', 'exec', ns, dnsmasq, ...args]);
      await writeFile(argsFile, JSON.stringify(args));
      for (let i = 0; i < 100 && (await this.readPid(files.pidFile)) === null; i++) await sleep(10);
    }
    await this.ensureProxy(ns, dir, [
      '--listen',
      `${METADATA_IP}:80`,
      '--socket',
      this.opts.metadataSocket,
      '--network-id',
      netId,
    ]);
  }

  deleteDhcp(networkId: string): Promise<void> {
    return this.serial(() => this.doDeleteDhcp(networkId));
  }

  private async doDeleteDhcp(networkId: string) {
    const netId = checkId('network', networkId);
    const dir = this.dir('dhcp', netId);
    await this.stopPid(join(dir, 'dnsmasq.pid'), `--pid-file=${join(dir, 'dnsmasq.pid')}`);
    await this.stopPid(join(dir, 'metadata-proxy.pid'), join(dir, 'metadata-proxy.ready'));
    await this.deleteOwnedLinks('dhcp', netId);
    const ns = dhcpNamespace(netId);
    if ((await this.namespaces()).includes(ns)) await this.ip(['netns', 'del', ns], true);
    await rm(dir, { recursive: true, force: true });
  }

  /** Host-side veths of one owner, and their entries in the `known` set. */
  private async deleteOwnedLinks(kind: LinkKind, id: string, keep: ReadonlySet<string> = new Set()) {
    for (const l of await this.links()) {
      const a = parseAlias(this.marker, l.ifalias);
      if (!a || a.id !== id || a.kind !== kind || keep.has(l.ifname)) continue;
      await this.ip(['link', 'del', l.ifname], true);
      if ((await this.run('nft', ['list', 'table', 'bridge', this.table], { allowFail: true })) !== null) {
        await this.nft(renderKnown(this.table, l.ifname, false));
      }
    }
  }

  // ---------------------------------------------------------------- ports

  ensurePort(input: EnsurePortInput): Promise<void> {
    return this.serial(async () => {
      checkId('port', input.id);
      checkId('network', input.networkId);
      const map = await this.portIndex();
      const tap = tapName(input.id);
      let entry = map.get(input.id);
      if (!entry) {
        entry = { idx: this.allocIndex(map), tap };
        map.set(input.id, entry);
      }
      try {
        await this.nft(renderPort(this.table, entry.idx, input, tap));
      } catch (err) {
        this.ports = null;
        throw err;
      }
      if (!input.portSecurityEnabled) map.delete(input.id);
    });
  }

  deletePort(portId: string): Promise<void> {
    return this.serial(async () => {
      const map = await this.portIndex();
      const tap = tapName(portId);
      const entry = map.get(portId);
      await this.nft(renderPortDelete(this.table, entry?.idx ?? this.allocIndex(map), tap));
      map.delete(portId);
    });
  }

  // ---------------------------------------------------------------- routers

  ensureRouter(input: EnsureRouterInput): Promise<void> {
    return this.serial(async () => {
      const id = checkId('router', input.id);
      const ns = routerNamespace(id);
      const dir = this.dir('router', id);
      await mkdir(dir, { recursive: true });
      await this.ensureNamespace(ns, 'router', id);
      await this.run('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
      // IPv6 is routed, never NATed (as Neutron); forwarding also turns RAs off here.
      await this.nsSysctl(ns, ['net.ipv6.conf.all.forwarding=1', 'net.ipv6.conf.default.accept_dad=0']);
      await this.ensureTables();

      const wantInside = new Set<string>();
      const wantHost = new Set<string>();
      const legs: { host: string; inside: string; networkId: string; mac: string; addrs: string[]; kind: LinkKind }[] =
        [];
      for (const itf of input.interfaces) {
        legs.push({
          host: tapName(itf.portId),
          inside: routerIf(itf.portId),
          networkId: itf.networkId,
          mac: itf.mac,
          addrs: [`${itf.ip}/${itf.prefixLen}`],
          kind: 'router',
        });
      }
      const gw = input.gateway ?? null;
      let gwIf: string | null = null;
      if (gw) {
        const portId = gw.portId ?? id;
        gwIf = gatewayIf(portId);
        const fips = input.floatingIps.map((f) => `${f.floatingIp}/32`);
        legs.push({
          host: tapName(portId),
          inside: gwIf,
          networkId: gw.networkId,
          mac: gw.mac ?? macFromId(portId),
          addrs: [`${gw.ip}/${gw.prefixLen}`, ...fips],
          kind: 'gateway',
        });
      }
      for (const leg of legs) {
        const br = bridgeName(leg.networkId);
        const brLink = await this.link(br);
        if (!brLink) throw new Error(`router ${id}: network ${leg.networkId} has no bridge`);
        await this.ensureVeth({
          host: leg.host,
          inside: leg.inside,
          ns,
          bridge: br,
          mac: checkMac(leg.mac),
          mtu: brLink.mtu ?? 1500,
          kind: leg.kind,
          id,
        });
        await this.nsSysctl(ns, [`net.ipv6.conf.${leg.inside}.accept_dad=0`]);
        await this.syncAddrs(leg.inside, leg.addrs, ns);
        await this.nft(renderKnown(this.table, leg.host, true));
        wantInside.add(leg.inside);
        wantHost.add(leg.host);
      }
      // Legs of removed interfaces.
      for (const l of await this.links(ns)) {
        if ((l.ifname.startsWith('qr-') || l.ifname.startsWith('qg-')) && !wantInside.has(l.ifname))
          await this.ip(['-n', ns, 'link', 'del', l.ifname], true);
      }
      await this.deleteOwnedLinks('router', id, wantHost);
      await this.deleteOwnedLinks('gateway', id, wantHost);

      // Routes: the default via the external gateway plus the router's static routes.
      const want = new Map<string, string>();
      if (gw?.gatewayIp && gwIf) want.set('default', gw.gatewayIp);
      for (const r of input.routes) {
        const c = parseCidr(r.destination);
        want.set(c.prefixLen === 0 ? 'default' : `${c.address}/${c.prefixLen}`, r.nexthop);
      }
      const have = parseJson<RouteJson>(await this.ip(['-n', ns, '-j', 'route', 'show', 'proto', 'static'], true));
      for (const r of have) {
        const dst = r.dst.includes('/') || r.dst === 'default' ? r.dst : `${r.dst}/32`;
        if (want.get(dst) !== r.gateway) await this.ip(['-n', ns, 'route', 'del', r.dst], true);
      }
      for (const [dst, via] of want) await this.ip(['-n', ns, 'route', 'replace', dst, 'via', via, 'proto', 'static']);

      const internal = input.interfaces
        .filter((i) => ipVersion(i.ip) === 4)
        .map((i) => `${v4NetworkAddress(`${i.ip}/${i.prefixLen}`)}/${i.prefixLen}`);
      await this.nft(
        renderRouterNat({
          gatewayIf: gwIf,
          gatewayIp: gw?.ip ?? null,
          snat: gw?.snat ?? false,
          internalCidrs: internal,
          floatingIps: input.floatingIps,
          metadataPort: ROUTER_METADATA_PORT,
        }),
        ns,
      );
      await this.nft(renderRouterV6(), ns);
      await this.ensureRouterRa(
        ns,
        dir,
        input.interfaces.flatMap((i) =>
          ipVersion(i.ip) === 6 && i.ipv6RaMode
            ? [
                {
                  iface: routerIf(i.portId),
                  cidr: `${v6NetworkAddress(`${i.ip}/${i.prefixLen}`)}/${i.prefixLen}`,
                  raMode: i.ipv6RaMode,
                  dnsNameservers: i.dnsNameservers,
                },
              ]
            : [],
        ),
      );
      await this.ip(['-n', ns, 'addr', 'replace', `${METADATA_IP}/32`, 'dev', 'lo']);
      await this.ensureProxy(ns, dir, [
        '--listen',
        `${METADATA_IP}:${ROUTER_METADATA_PORT}`,
        '--socket',
        this.opts.metadataSocket,
        '--router-id',
        id,
      ]);
    });
  }

  deleteRouter(routerId: string): Promise<void> {
    return this.serial(() => this.doDeleteRouter(routerId));
  }

  /** sysctl inside a namespace (one exec for all keys). */
  private async nsSysctl(ns: string, settings: string[]) {
    // -e: a host booted without IPv6 has no such keys; IPv4 must not fail over them.
    await this.run('ip', ['netns', 'exec', ns, 'sysctl', '-e', '-q', '-w', ...settings]);
  }

  /**
   * The router's IPv6 router advertisements: one dnsmasq (RA only in effect, see
   * routerRaArgs) for the qr- interfaces whose subnet has an RA mode; restarted when its
   * command line changes, stopped when no interface needs RAs.
   */
  private async ensureRouterRa(ns: string, dir: string, ifaces: RouterRaInterface[]) {
    const pidFile = join(dir, 'dnsmasq.pid');
    const needle = `--pid-file=${pidFile}`;
    if (ifaces.length === 0) {
      await this.stopPid(pidFile, needle);
      return;
    }
    const optsFile = join(dir, 'ra-opts');
    const optsChanged = await this.writeIfChanged(optsFile, renderRouterRaOpts(ifaces));
    const args = routerRaArgs({ ifaces, pidFile, leaseFile: join(dir, 'ra-leases'), optsFile });
    const argsFile = join(dir, 'dnsmasq.args');
    const argsSame = (await readFile(argsFile, 'utf8').catch(() => null)) === JSON.stringify(args);
    const pid = await this.readPid(pidFile);
    const alive = pid !== null && (await this.pidIs(pid, needle));
    if (alive && argsSame) {
      if (optsChanged && pid) process.kill(pid, 'SIGHUP');
      return;
    }
    await this.stopPid(pidFile, needle);
    await writeFile(join(dir, 'ra-leases'), '', { flag: 'a' });
    await this.run('ip', ['netns', 'exec', ns, this.opts.dnsmasqPath ?? 'dnsmasq', ...args]);
    await writeFile(argsFile, JSON.stringify(args));
    for (let i = 0; i < 100 && (await this.readPid(pidFile)) === null; i++) await sleep(10);
  }

  private async doDeleteRouter(routerId: string) {
    const id = checkId('router', routerId);
    const dir = this.dir('router', id);
    await this.stopPid(join(dir, 'dnsmasq.pid'), `--pid-file=${join(dir, 'dnsmasq.pid')}`);
    await this.stopPid(join(dir, 'metadata-proxy.pid'), join(dir, 'metadata-proxy.ready'));
    await this.deleteOwnedLinks('router', id);
    await this.deleteOwnedLinks('gateway', id);
    const ns = routerNamespace(id);
    if ((await this.namespaces()).includes(ns)) await this.ip(['netns', 'del', ns], true);
    await rm(dir, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- inventory

  listManaged(): Promise<ManagedState> {
    return this.serial(() => this.doList());
  }

  private async doList(): Promise<ManagedState> {
    const state: ManagedState = { networks: [], dhcp: [], routers: [], ports: [], links: [], namespaces: [], pids: [] };
    const nets = new Set<string>();
    for (const l of await this.links()) {
      const a = parseAlias(this.marker, l.ifalias);
      if (!a) continue;
      state.links.push(l.ifname);
      if (a.kind === 'network' || a.kind === 'external') nets.add(a.id);
    }
    state.networks = [...nets].sort();
    const dhcp = new Set<string>();
    const routers = new Set<string>();
    for (const ns of await this.namespaces()) {
      if (!ns.startsWith('qdhcp-') && !ns.startsWith('qrouter-')) continue;
      const lo = await this.link('lo', ns);
      const a = parseAlias(this.marker, lo?.ifalias);
      if (a?.kind !== 'namespace') continue;
      state.namespaces.push(ns);
      const [kind, id] = a.id.split(':');
      if (kind === 'dhcp' && id) dhcp.add(id);
      if (kind === 'router' && id) routers.add(id);
    }
    // Processes whose namespace is gone are still ours to stop.
    for (const kind of ['dhcp', 'router'] as const) {
      const ids = await readdir(join(this.opts.stateDir, kind)).catch(() => []);
      for (const id of ids) {
        (kind === 'dhcp' ? dhcp : routers).add(id);
        const dir = join(this.opts.stateDir, kind, id);
        const dn = await this.readPid(join(dir, 'dnsmasq.pid'));
        if (dn && (await this.pidIs(dn, `--pid-file=${join(dir, 'dnsmasq.pid')}`))) state.pids.push(dn);
        const px = await this.readPid(join(dir, 'metadata-proxy.pid'));
        if (px && (await this.pidIs(px, join(dir, 'metadata-proxy.ready')))) state.pids.push(px);
      }
    }
    state.dhcp = [...dhcp].sort();
    state.routers = [...routers].sort();
    if ((await this.run('nft', ['list', 'table', 'bridge', this.table], { allowFail: true })) !== null) {
      this.ports = null;
      state.ports = [...(await this.portIndex()).keys()].sort();
    }
    return state;
  }

  /**
   * Removes everything this driver (this marker) created that `keep` does not name.
   * With nothing kept the nft tables go too. Returns what was removed.
   */
  cleanup(keep: CleanupKeep): Promise<ManagedState> {
    return this.serial(async () => {
      const cur = await this.doList();
      const keepNets = new Set(keep.networks ?? []);
      const keepDhcp = new Set(keep.dhcp ?? keepNets);
      const keepRouters = new Set(keep.routers ?? []);
      const keepPorts = new Set(keep.ports ?? []);
      const removed: ManagedState = {
        networks: [],
        dhcp: [],
        routers: [],
        ports: [],
        links: [],
        namespaces: [],
        pids: [],
      };
      for (const r of cur.routers)
        if (!keepRouters.has(r)) {
          await this.doDeleteRouter(r);
          removed.routers.push(r);
        }
      for (const d of cur.dhcp)
        if (!keepDhcp.has(d)) {
          await this.doDeleteDhcp(d);
          removed.dhcp.push(d);
        }
      const map = cur.ports.length > 0 ? await this.portIndex() : new Map<string, { idx: number; tap: string }>();
      for (const p of cur.ports)
        if (!keepPorts.has(p)) {
          const e = map.get(p);
          if (e) await this.nft(renderPortDelete(this.table, e.idx, e.tap));
          map.delete(p);
          removed.ports.push(p);
        }
      for (const n of cur.networks)
        if (!keepNets.has(n)) {
          await this.doDeleteNetwork(n);
          removed.networks.push(n);
        }
      // Stray links (a crash between creating a veth and recording its owner).
      const after = await this.doList();
      for (const l of await this.links()) {
        const a = parseAlias(this.marker, l.ifalias);
        if (!a) continue;
        const owner =
          a.kind === 'network' || a.kind === 'external' || a.kind === 'vxlan'
            ? after.networks.includes(a.id) && keepNets.has(a.id)
            : a.kind === 'dhcp'
              ? keepDhcp.has(a.id)
              : keepRouters.has(a.id);
        if (!owner) {
          await this.ip(['link', 'del', l.ifname], true);
          removed.links.push(l.ifname);
        }
      }
      for (const ns of after.namespaces) {
        const isDhcp = ns.startsWith('qdhcp-');
        const id = ns.slice(isDhcp ? 'qdhcp-'.length : 'qrouter-'.length);
        if (!(isDhcp ? keepDhcp : keepRouters).has(id)) {
          await this.ip(['netns', 'del', ns], true);
          removed.namespaces.push(ns);
        }
      }
      if (keepNets.size === 0 && keepPorts.size === 0 && keepRouters.size === 0 && keepDhcp.size === 0) {
        for (const fam of ['bridge', 'inet']) {
          await this.run('nft', ['delete', 'table', fam, this.table], { allowFail: true });
        }
        this.tablesReady = false;
        this.ports = null;
      }
      return removed;
    });
  }
}

/** An IP address bound for a command line: exactly one address, nothing else. */
function checkIp(ip: string): string {
  ipVersion(ip);
  return ip;
}

/** A stable locally administered MAC for a gateway leg when the caller gives none. */
function macFromId(id: string): string {
  let h = 2166136261;
  for (const ch of id) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  const b = [0xfa, 0x16, 0x3e, (h >>> 16) & 0xff, (h >>> 8) & 0xff, h & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
