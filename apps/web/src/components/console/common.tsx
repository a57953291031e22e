'use client';
import type { ReactNode } from 'react';

export type ConsoleState = 'connecting' | 'connected' | 'disconnected';

/** ws(s)://<this origin>/console/ws/<protocol>?token=… — the browser stays on the dashboard's origin. */
export function consoleSocketUrl(protocol: 'vnc' | 'serial', token: string): string {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}/console/ws/${protocol}?token=${encodeURIComponent(token)}`;
}

const STYLE: Record<ConsoleState, string> = {
  connecting: 'bg-amber-100 text-amber-900 dark:bg-amber-900/40 dark:text-amber-200',
  connected: 'bg-emerald-100 text-emerald-900 dark:bg-emerald-900/40 dark:text-emerald-200',
  disconnected: 'bg-rose-100 text-rose-900 dark:bg-rose-900/40 dark:text-rose-200',
};

export function StateBadge({ state, detail }: { state: ConsoleState; detail?: string | null }) {
  return (
    <span data-testid="console-state" data-state={state} className={`rounded px-2 py-0.5 text-xs font-medium ${STYLE[state]}`}>
      {state}
      {detail ? ` — ${detail}` : ''}
    </span>
  );
}

export function ToolButton({ onClick, children, disabled, title }: { onClick: () => void; children: ReactNode; disabled?: boolean; title?: string }) {
  return (
    <button
      type="button"
      onClick={onClick}
      disabled={disabled}
      title={title}
      className="rounded border border-slate-300 px-2 py-0.5 text-xs hover:bg-slate-100 disabled:opacity-50 dark:border-slate-600 dark:hover:bg-slate-800"
    >
      {children}
    </button>
  );
}

/** Why a console websocket closed, in words (close codes of apps/worker/src/console/proxy.ts). */
export function closeReason(code: number, reason: string): string {
  if (code === 4004) return 'the server is not running';
  if (code === 4009) return 'another console session took over';
  if (code === 4011) return reason || 'the console could not be reached';
  if (code === 1006) return 'the token was refused or the connection dropped (tokens are single use)';
  return reason || `closed (${code})`;
}

export function toggleFullscreen(el: HTMLElement | null): void {
  if (!el) return;
  if (document.fullscreenElement) void document.exitFullscreen();
  else void el.requestFullscreen();
}
