import type { Topology } from './common';

/** A resource's name, or the start of its id. */
const label = (r: { name: string; id: string }) => r.name || r.id.slice(0, 8);

/*
 * The topology graph's layout, pure (unit-tested): networks are vertical bars (external
 * first), routers and instances are boxes right of the leftmost network they touch,
 * with one link per network they have a port on. Boxes whose network spans do not
 * overlap share a row, so the graph stays compact.
 */

export interface ServerInfo {
  id: string;
  name: string;
  status: string;
}

export interface Link {
  net: number;
  ips: string[];
}
export interface Device {
  kind: 'router' | 'instance';
  id: string;
  name: string;
  status: string;
  href: string;
  links: Link[];
  extra?: string;
  col: number;
  span: [number, number];
  row: number;
}

export const COL = 340;
export const GAP = 96;
export const LEFT = 24;
export const BAR = 12;
export const TOP = 64;
export const ROW = 78;
export const BOX_W = 150;
export const BOX_H = 50;
const PALETTE = ['#0ea5e9', '#8b5cf6', '#10b981', '#f59e0b', '#ec4899', '#14b8a6', '#6366f1', '#84cc16'];
const EXTERNAL = '#0284c7';

export const barX = (i: number) => LEFT + i * COL;
export const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Lays the graph out: columns for networks, packed rows for devices. */
export function layout(t: Topology, servers: ServerInfo[]) {
  const nets = [...t.networks.filter((n) => n.external), ...t.networks.filter((n) => !n.external)];
  const col = new Map(nets.map((n, i) => [n.id, i]));
  const cidrs = (nid: string) => t.subnets.filter((s) => s.networkId === nid).map((s) => s.cidr);
  const devices: Device[] = [];
  const add = (d: Omit<Device, 'col' | 'span' | 'row'>) => {
    const cols = d.links.map((l) => l.net);
    const lo = cols.length ? Math.min(...cols) : nets.length;
    const hi = cols.length ? Math.max(...cols) : nets.length;
    devices.push({ ...d, col: lo, span: [lo, hi], row: 0 });
  };
  const merge = (links: Link[], net: number | undefined, ips: string[]) => {
    if (net === undefined) return;
    const l = links.find((x) => x.net === net);
    if (l) l.ips.push(...ips);
    else links.push({ net, ips: [...ips] });
  };
  for (const r of t.routers) {
    const links: Link[] = [];
    if (r.gateway)
      merge(
        links,
        col.get(r.gateway.networkId),
        r.gateway.externalFixedIps.map((f) => f.ip),
      );
    for (const i of r.interfaces) {
      const p = t.ports.find((x) => x.id === i.portId);
      if (p)
        merge(
          links,
          col.get(p.networkId),
          p.fixedIps.map((f) => f.ip),
        );
    }
    add({ kind: 'router', id: r.id, name: label(r), status: r.status, href: `/project/routers/${r.id}`, links });
  }
  const byServer = new Map<string, typeof t.ports>();
  for (const p of t.ports)
    if (p.deviceOwner.startsWith('compute:') && p.deviceId)
      byServer.set(p.deviceId, [...(byServer.get(p.deviceId) ?? []), p]);
  const seen = new Set<string>();
  for (const s of servers) {
    seen.add(s.id);
    const links: Link[] = [];
    const ports = byServer.get(s.id) ?? [];
    for (const p of ports)
      merge(
        links,
        col.get(p.networkId),
        p.fixedIps.map((f) => f.ip),
      );
    const fips = t.floatingIps.filter((f) => ports.some((p) => p.id === f.portId)).map((f) => f.floatingIp);
    add({
      kind: 'instance',
      id: s.id,
      name: s.name,
      status: s.status,
      href: `/project/instances/${s.id}`,
      links,
      extra: fips.length ? `floating ${fips.join(', ')}` : undefined,
    });
  }
  // Ports of servers not in the compute page (e.g. another project's on a shared network) still show.
  for (const [id, ports] of byServer) {
    if (seen.has(id)) continue;
    const links: Link[] = [];
    for (const p of ports)
      merge(
        links,
        col.get(p.networkId),
        p.fixedIps.map((f) => f.ip),
      );
    add({ kind: 'instance', id, name: id.slice(0, 8), status: '', href: `/project/instances/${id}`, links });
  }
  // Greedy row packing: a row holds devices whose column spans do not overlap.
  const rows: Array<Array<[number, number]>> = [];
  for (const d of devices) {
    let r = rows.findIndex((spans) => spans.every(([a, b]) => d.span[1] < a || d.span[0] > b));
    if (r < 0) {
      rows.push([]);
      r = rows.length - 1;
    }
    rows[r]?.push(d.span);
    d.row = r;
  }
  const columns = nets.length + (devices.some((d) => d.links.length === 0) ? 1 : 0);
  const width = Math.max(LEFT + columns * COL, 480);
  const height = TOP + Math.max(rows.length, 1) * ROW + 24;
  return {
    nets: nets.map((n, i) => ({
      ...n,
      x: barX(i),
      color: n.external ? EXTERNAL : (PALETTE[i % PALETTE.length] ?? '#0ea5e9'),
      cidrs: cidrs(n.id),
    })),
    devices,
    width,
    height,
  };
}
