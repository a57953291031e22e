'use client';
import type RFB from '@novnc/novnc';
import { useEffect, useRef, useState } from 'react';
import { type ConsoleState, StateBadge, ToolButton, consoleSocketUrl, toggleFullscreen } from './common';

export interface VncConsoleProps {
  /** A single-use console token (from `compute.console.create` with protocol 'vnc'). */
  token: string;
  /** Gets a fresh token for "Reconnect" (tokens are single use); without it the button is hidden. */
  onRequestNewToken?: () => Promise<string>;
  className?: string;
}

/** The server's screen through noVNC, over this origin's /console/ws/vnc websocket. */
export function VncConsole({ token: initialToken, onRequestNewToken, className }: VncConsoleProps) {
  const [token, setToken] = useState(initialToken);
  const [state, setState] = useState<ConsoleState>('connecting');
  const [detail, setDetail] = useState<string | null>(null);
  const frame = useRef<HTMLDivElement>(null);
  const screen = useRef<HTMLDivElement>(null);
  const rfb = useRef<RFB | null>(null);

  useEffect(() => setToken(initialToken), [initialToken]);

  useEffect(() => {
    let cancelled = false;
    setState('connecting');
    setDetail(null);
    // noVNC touches `window` at import: load it in the browser only.
    void import('@novnc/novnc')
      .then(({ default: RFBClass }) => {
        if (cancelled || !screen.current) return;
        const r = new RFBClass(screen.current, consoleSocketUrl('vnc', token), { wsProtocols: ['binary'] });
        r.scaleViewport = true;
        r.background = '#000';
        r.addEventListener('connect', () => setState('connected'));
        r.addEventListener('disconnect', (e) => {
          setState('disconnected');
          const clean = e instanceof CustomEvent && typeof e.detail === 'object' && e.detail && 'clean' in e.detail && e.detail.clean === true;
          setDetail(clean ? 'session ended' : 'the token was refused or the connection dropped (tokens are single use)');
        });
        r.addEventListener('securityfailure', () => setDetail('VNC security negotiation failed'));
        rfb.current = r;
      })
      .catch((err: unknown) => {
        setState('disconnected');
        setDetail(`noVNC did not load: ${String(err)}`);
      });
    return () => {
      cancelled = true;
      rfb.current?.disconnect();
      rfb.current = null;
    };
  }, [token]);

  const reconnect = async () => {
    if (!onRequestNewToken) return;
    setState('connecting');
    setDetail('asking for a new console token');
    try {
      setToken(await onRequestNewToken());
    } catch (err) {
      setState('disconnected');
      setDetail(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <div ref={frame} className={`flex flex-col gap-2 bg-slate-50 dark:bg-slate-950 ${className ?? ''}`}>
      <div className="flex items-center gap-2">
        <StateBadge state={state} detail={detail} />
        <span className="flex-1" />
        <ToolButton onClick={() => rfb.current?.sendCtrlAltDel()} disabled={state !== 'connected'} title="Send Ctrl-Alt-Del to the guest">
          Ctrl-Alt-Del
        </ToolButton>
        <ToolButton onClick={() => toggleFullscreen(frame.current)}>Full screen</ToolButton>
        {onRequestNewToken ? (
          <ToolButton onClick={() => void reconnect()} disabled={state === 'connecting'}>
            Reconnect
          </ToolButton>
        ) : null}
      </div>
      <div ref={screen} data-testid="vnc-screen" className="min-h-[480px] flex-1 overflow-hidden bg-black" />
    </div>
  );
}
