'use client';
import { useRouter } from 'next/navigation';
import type { MouseEvent, ReactNode } from 'react';
import { label, type Topology } from './common';
import { BAR, BOX_H, BOX_W, barX, clip, GAP, layout, ROW, type ServerInfo, TOP } from './layout';

export type { ServerInfo } from './layout';

/*
 * The network topology as an SVG, drawn without a graph library: networks are vertical
 * bars (external first), routers and instances are boxes placed right of the leftmost
 * network they touch, and a horizontal line joins a box to every network it has a port
 * on, labelled with the port's addresses. Boxes whose network spans do not overlap share
 * a row, so the graph stays compact. Every object links to its page.
 */

const statusColor = (s: string) =>
  s === 'ACTIVE' ? '#10b981' : s === 'ERROR' ? '#e11d48' : s === 'DOWN' || s === 'SHUTOFF' ? '#94a3b8' : '#f59e0b';

/** An SVG link that navigates inside the app (client-side), reachable with Tab and Enter. */
function NavLink({
  href,
  title,
  testid,
  name,
  children,
}: {
  href: string;
  title: string;
  testid: string;
  name: string;
  children: ReactNode;
}) {
  const router = useRouter();
  const go = (e: MouseEvent) => {
    if (e.metaKey || e.ctrlKey || e.shiftKey) return;
    e.preventDefault();
    router.push(href);
  };
  return (
    <a href={href} onClick={go} aria-label={title} data-testid={testid} data-name={name} className="group outline-none">
      <title>{title}</title>
      {children}
    </a>
  );
}

export function TopologyGraph({ topology, servers }: { topology: Topology; servers: ServerInfo[] }) {
  const g = layout(topology, servers);
  const netName = (i: number) => g.nets[i]?.name || g.nets[i]?.id.slice(0, 8) || '';
  return (
    <svg
      width={g.width}
      height={g.height}
      viewBox={`0 0 ${g.width} ${g.height}`}
      className="max-w-none text-slate-700 dark:text-slate-200"
      aria-labelledby="topology-title"
    >
      <title id="topology-title">Network topology</title>
      {g.nets.map((n) => (
        <NavLink
          key={n.id}
          href={`/project/networks/${n.id}`}
          title={`Network ${label(n)} ${n.cidrs.join(', ')}`}
          testid="topo-network"
          name={n.name}
        >
          <rect x={n.x} y={TOP - 12} width={BAR} height={g.height - TOP} rx={6} fill={n.color} opacity={0.9} />
          <text x={n.x} y={16} fontSize={13} fontWeight={600} fill="currentColor">
            {clip(label(n), 24)}
            {n.external ? ' (external)' : ''}
          </text>
          <text x={n.x} y={32} fontSize={11} fill="#64748b" fontFamily="ui-monospace, monospace">
            {clip(n.cidrs.join(' ') || 'no subnet', 30)}
          </text>
          <rect
            x={n.x - 3}
            y={TOP - 15}
            width={BAR + 6}
            height={g.height - TOP + 6}
            rx={8}
            fill="none"
            stroke={n.color}
            strokeWidth={2}
            className="opacity-0 group-hover:opacity-100 group-focus-visible:opacity-100"
          />
        </NavLink>
      ))}
      {g.devices.map((d) => {
        const bx = barX(d.col) + GAP;
        const by = TOP + d.row * ROW;
        const cy = by + BOX_H / 2;
        return (
          <g key={d.id}>
            {d.links.map((l) => {
              const net = g.nets[l.net];
              if (!net) return null;
              const left = l.net === d.col;
              const x1 = left ? net.x + BAR : bx + BOX_W;
              const x2 = left ? bx : net.x;
              return (
                <g
                  key={l.net}
                  data-testid="topo-link"
                  data-device={d.name}
                  data-network={netName(l.net)}
                  data-ips={l.ips.join(',')}
                >
                  <title>{`${d.name} on ${netName(l.net)}: ${l.ips.join(', ')}`}</title>
                  <line x1={x1} y1={cy} x2={x2} y2={cy} stroke={net.color} strokeWidth={2} />
                  {/* A dot where the link joins its network; a line merely crossing a bar has none. */}
                  <circle cx={net.x + BAR / 2} cy={cy} r={5} fill={net.color} stroke="white" strokeWidth={1.5} />
                  <text
                    x={left ? x1 + 4 : x2 - 4}
                    y={cy - 5}
                    fontSize={10}
                    textAnchor={left ? 'start' : 'end'}
                    fill="#64748b"
                    fontFamily="ui-monospace, monospace"
                  >
                    {left ? clip(l.ips.join(', '), 13) : clip(l.ips.join(', '), 14)}
                  </text>
                </g>
              );
            })}
            <NavLink
              href={d.href}
              title={`${d.kind === 'router' ? 'Router' : 'Instance'} ${d.name}${d.status ? ` (${d.status})` : ''}`}
              testid={d.kind === 'router' ? 'topo-router' : 'topo-instance'}
              name={d.name}
            >
              <rect
                x={bx}
                y={by}
                width={BOX_W}
                height={BOX_H}
                rx={10}
                className="fill-white stroke-slate-300 group-hover:stroke-sky-500 group-focus-visible:stroke-sky-600 dark:fill-slate-900 dark:stroke-slate-600"
                strokeWidth={d.kind === 'router' ? 2 : 1.5}
              />
              <text x={bx + 12} y={by + 20} fontSize={11} fill="#64748b">
                {d.kind === 'router' ? 'Router' : 'Instance'}
              </text>
              {d.status && <circle cx={bx + BOX_W - 14} cy={by + 16} r={5} fill={statusColor(d.status)} />}
              <text x={bx + 12} y={by + 38} fontSize={13} fontWeight={600} fill="currentColor">
                {clip(d.name, 18)}
              </text>
              {d.extra && (
                <text x={bx + 4} y={by + BOX_H + 13} fontSize={10} fill="#0284c7" fontFamily="ui-monospace, monospace">
                  {d.extra}
                </text>
              )}
            </NavLink>
          </g>
        );
      })}
    </svg>
  );
}
