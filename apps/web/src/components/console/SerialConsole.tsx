'use client';
import type { FitAddon } from '@xterm/addon-fit';
import type { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'react';
import { type ConsoleState, StateBadge, ToolButton, closeReason, consoleSocketUrl, toggleFullscreen } from './common';

export interface SerialConsoleProps {
  /** A single-use console token (from `compute.console.create` with protocol 'serial'). */
  token: string;
  onRequestNewToken?: () => Promise<string>;
  className?: string;
}

/**
 * The server's serial console (ttyS0) in xterm.js over /console/ws/serial. Keystrokes go
 * out as text frames; the guest's output comes back binary. QEMU ignores input for about
 * a second after a console attaches: press Enter again if the first keys vanish.
 */
export function SerialConsole({ token: initialToken, onRequestNewToken, className }: SerialConsoleProps) {
  const [token, setToken] = useState(initialToken);
  const [state, setState] = useState<ConsoleState>('connecting');
  const [detail, setDetail] = useState<string | null>(null);
  const frame = useRef<HTMLDivElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const term = useRef<Terminal | null>(null);
  const ws = useRef<WebSocket | null>(null);

  useEffect(() => setToken(initialToken), [initialToken]);

  useEffect(() => {
    let cancelled = false;
    let observer: ResizeObserver | null = null;
    let fit: FitAddon | null = null;
    setState('connecting');
    setDetail(null);
    void Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')]).then(([{ Terminal: T }, { FitAddon: F }]) => {
      if (cancelled || !host.current) return;
      const t = new T({ cursorBlink: true, convertEol: false, fontSize: 14, scrollback: 5000 });
      fit = new F();
      t.loadAddon(fit);
      t.open(host.current);
      fit.fit();
      observer = new ResizeObserver(() => fit?.fit());
      observer.observe(host.current);
      term.current = t;

      const socket = new WebSocket(consoleSocketUrl('serial', token), ['binary']);
      socket.binaryType = 'arraybuffer';
      ws.current = socket;
      socket.onopen = () => {
        setState('connected');
        t.focus();
      };
      socket.onmessage = (e) => {
        if (e.data instanceof ArrayBuffer) t.write(new Uint8Array(e.data));
        else if (typeof e.data === 'string') t.write(e.data);
      };
      socket.onclose = (e) => {
        setState('disconnected');
        setDetail(closeReason(e.code, e.reason));
      };
      t.onData((d) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(d);
      });
      // Ctrl+Shift+C copies the selection (Ctrl+C goes to the guest).
      t.attachCustomKeyEventHandler((ev) => {
        if (ev.type === 'keydown' && ev.ctrlKey && ev.shiftKey && ev.key.toLowerCase() === 'c') {
          void navigator.clipboard?.writeText(t.getSelection());
          return false;
        }
        return true;
      });
    });
    return () => {
      cancelled = true;
      observer?.disconnect();
      ws.current?.close();
      ws.current = null;
      term.current?.dispose();
      term.current = null;
    };
  }, [token]);

  const paste = async () => {
    const text = await navigator.clipboard?.readText();
    if (text && ws.current?.readyState === WebSocket.OPEN) ws.current.send(text.replace(/\r?\n/g, '\r'));
  };
  const copy = () => void navigator.clipboard?.writeText(term.current?.getSelection() ?? '');
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
        <ToolButton onClick={copy} title="Copy the selection (Ctrl+Shift+C)">
          Copy
        </ToolButton>
        <ToolButton onClick={() => void paste()} disabled={state !== 'connected'}>
          Paste
        </ToolButton>
        <ToolButton onClick={() => toggleFullscreen(frame.current)}>Full screen</ToolButton>
        {onRequestNewToken ? (
          <ToolButton onClick={() => void reconnect()} disabled={state === 'connecting'}>
            Reconnect
          </ToolButton>
        ) : null}
      </div>
      <div ref={host} data-testid="serial-terminal" className="min-h-[420px] flex-1 bg-black p-1" />
    </div>
  );
}
