'use client';
import type { FitAddon } from '@xterm/addon-fit';
import type { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef } from 'react';
import { closeReason, consoleSocketUrl, ToolButton } from './common';
import { ConsoleToolbar, useConsoleSession } from './useConsoleSession';

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
  const session = useConsoleSession(initialToken, onRequestNewToken);
  const { token, report } = session;
  const frame = useRef<HTMLDivElement>(null);
  const host = useRef<HTMLDivElement>(null);
  const term = useRef<Terminal | null>(null);
  const ws = useRef<WebSocket | null>(null);

  useEffect(() => {
    let cancelled = false;
    let observer: ResizeObserver | null = null;
    let fit: FitAddon | null = null;
    report('connecting');
    void Promise.all([import('@xterm/xterm'), import('@xterm/addon-fit')]).then(
      ([{ Terminal: T }, { FitAddon: F }]) => {
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
          report('connected');
          t.focus();
        };
        socket.onmessage = (e) => {
          if (e.data instanceof ArrayBuffer) t.write(new Uint8Array(e.data));
          else if (typeof e.data === 'string') t.write(e.data);
        };
        socket.onclose = (e) => report('disconnected', closeReason(e.code, e.reason));
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
      },
    );
    return () => {
      cancelled = true;
      observer?.disconnect();
      ws.current?.close();
      ws.current = null;
      term.current?.dispose();
      term.current = null;
    };
  }, [token, report]);

  const paste = async () => {
    const text = await navigator.clipboard?.readText();
    if (text && ws.current?.readyState === WebSocket.OPEN) ws.current.send(text.replace(/\r?\n/g, '\r'));
  };
  const copy = () => void navigator.clipboard?.writeText(term.current?.getSelection() ?? '');

  return (
    <div ref={frame} className={`flex flex-col gap-2 bg-slate-50 dark:bg-slate-950 ${className ?? ''}`}>
      <ConsoleToolbar session={session} frame={frame}>
        <ToolButton onClick={copy} title="Copy the selection (Ctrl+Shift+C)">
          Copy
        </ToolButton>
        <ToolButton onClick={() => void paste()} disabled={session.state !== 'connected'}>
          Paste
        </ToolButton>
      </ConsoleToolbar>
      <div ref={host} data-testid="serial-terminal" className="min-h-[420px] flex-1 bg-black p-1" />
    </div>
  );
}
