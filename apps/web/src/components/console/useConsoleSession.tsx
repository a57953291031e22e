'use client';
import { type ReactNode, type RefObject, useCallback, useEffect, useState } from 'react';
import { type ConsoleState, StateBadge, ToolButton, toggleFullscreen } from './common';

/**
 * What the VNC and serial consoles share: the single-use token (a new one from the
 * parent replaces it; "Reconnect" asks for a fresh one, since a used token is refused),
 * the connection state with its explanation, and the toolbar frame. The console itself
 * (noVNC, xterm.js) connects in an effect keyed on `token` and reports through `report`.
 */
export function useConsoleSession(initialToken: string, onRequestNewToken?: () => Promise<string>) {
  const [token, setToken] = useState(initialToken);
  const [state, setState] = useState<ConsoleState>('connecting');
  const [detail, setDetail] = useState<string | null>(null);

  useEffect(() => setToken(initialToken), [initialToken]);

  const report = useCallback((next: ConsoleState, why: string | null = null) => {
    setState(next);
    setDetail(why);
  }, []);

  const reconnect = useCallback(async () => {
    if (!onRequestNewToken) return;
    report('connecting', 'asking for a new console token');
    try {
      setToken(await onRequestNewToken());
    } catch (err) {
      report('disconnected', err instanceof Error ? err.message : String(err));
    }
  }, [onRequestNewToken, report]);

  return { token, state, detail, report, reconnect, canReconnect: onRequestNewToken !== undefined };
}

export type ConsoleSession = ReturnType<typeof useConsoleSession>;

/** The toolbar above a console: state, the console's own buttons, full screen, reconnect. */
export function ConsoleToolbar({
  session,
  frame,
  children,
}: {
  session: ConsoleSession;
  frame: RefObject<HTMLElement | null>;
  children?: ReactNode;
}) {
  return (
    <div className="flex items-center gap-2">
      <StateBadge state={session.state} detail={session.detail} />
      <span className="flex-1" />
      {children}
      <ToolButton onClick={() => toggleFullscreen(frame.current)}>Full screen</ToolButton>
      {session.canReconnect ? (
        <ToolButton onClick={() => void session.reconnect()} disabled={session.state === 'connecting'}>
          Reconnect
        </ToolButton>
      ) : null}
    </div>
  );
}
