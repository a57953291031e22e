'use client';
import type RFB from '@novnc/novnc';
import { useEffect, useRef } from 'react';
import { consoleSocketUrl, ToolButton } from './common';
import { ConsoleToolbar, useConsoleSession } from './useConsoleSession';

export interface VncConsoleProps {
  /** A single-use console token (from `compute.console.create` with protocol 'vnc'). */
  token: string;
  /** Gets a fresh token for "Reconnect" (tokens are single use); without it the button is hidden. */
  onRequestNewToken?: () => Promise<string>;
  className?: string;
}

/** The server's screen through noVNC, over this origin's /console/ws/vnc websocket. */
export function VncConsole({ token: initialToken, onRequestNewToken, className }: VncConsoleProps) {
  const session = useConsoleSession(initialToken, onRequestNewToken);
  const { token, report } = session;
  const frame = useRef<HTMLDivElement>(null);
  const screen = useRef<HTMLDivElement>(null);
  const rfb = useRef<RFB | null>(null);

  useEffect(() => {
    let cancelled = false;
    report('connecting');
    // noVNC touches `window` at import: load it in the browser only.
    void import('@novnc/novnc')
      .then(({ default: RFBClass }) => {
        if (cancelled || !screen.current) return;
        const r = new RFBClass(screen.current, consoleSocketUrl('vnc', token), { wsProtocols: ['binary'] });
        r.scaleViewport = true;
        r.background = '#000';
        r.addEventListener('connect', () => report('connected'));
        r.addEventListener('disconnect', (e) => {
          const clean =
            e instanceof CustomEvent &&
            typeof e.detail === 'object' &&
            e.detail &&
            'clean' in e.detail &&
            e.detail.clean === true;
          report(
            'disconnected',
            clean ? 'session ended' : 'the token was refused or the connection dropped (tokens are single use)',
          );
        });
        r.addEventListener('securityfailure', () => report('disconnected', 'VNC security negotiation failed'));
        rfb.current = r;
      })
      .catch((err: unknown) => report('disconnected', `noVNC did not load: ${String(err)}`));
    return () => {
      cancelled = true;
      rfb.current?.disconnect();
      rfb.current = null;
    };
  }, [token, report]);

  return (
    <div ref={frame} className={`flex flex-col gap-2 bg-slate-50 dark:bg-slate-950 ${className ?? ''}`}>
      <ConsoleToolbar session={session} frame={frame}>
        <ToolButton
          onClick={() => rfb.current?.sendCtrlAltDel()}
          disabled={session.state !== 'connected'}
          title="Send Ctrl-Alt-Del to the guest"
        >
          Ctrl-Alt-Del
        </ToolButton>
      </ConsoleToolbar>
      <div ref={screen} data-testid="vnc-screen" className="min-h-[480px] flex-1 overflow-hidden bg-black" />
    </div>
  );
}
