'use client';
import { useSession } from 'next-auth/react';
import { useEffect, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import { Button, Card } from '@/components/ui';
import type { ConsoleState } from './common';
import { StateBadge } from './common';

/** What the web server answers to `console:follow` (apps/web/src/server/live.ts). */
interface LogWindow {
  file: string;
  start: number;
  end: number;
  text: string;
}
type FollowAck = { ok: true; window: LogWindow } | { ok: false; error: { code: string; message: string } };
interface Chunk {
  file: string;
  offset: number;
  end: number;
  text: string;
}

/** Lines shown in tail mode; live lines are appended and the oldest dropped beyond KEEP. */
const TAIL_LINES = 100;
const KEEP_LINES = 2000;

function keepLast(text: string, lines: number): string {
  let i = text.length;
  if (text.endsWith('\n')) i--;
  for (let n = 0; n < lines; n++) {
    const nl = text.lastIndexOf('\n', i - 1);
    if (nl < 0) return text;
    i = nl;
  }
  return text.slice(i + 1);
}

/**
 * Follows a server's console log: asks for the window (tail or whole log) with the byte
 * offset where it ends, then appends the `console` chunks the worker publishes as the
 * guest prints. A chunk that does not continue exactly at that offset (a gap after a
 * burst, a rotated log, a reconnect) makes it ask for a fresh window. Nothing polls.
 */
export function useConsoleLogFollow(serverId: string, opts: { full: boolean; enabled: boolean }) {
  const session = useSession();
  const token = session.data?.tokenId;
  const [text, setText] = useState<string | null>(null);
  const [state, setState] = useState<ConsoleState>('connecting');
  const [error, setError] = useState<string | null>(null);
  const { full, enabled } = opts;

  useEffect(() => {
    if (!enabled || !token) return;
    const socket: Socket = io({ path: '/socket.io', auth: { token }, transports: ['websocket', 'polling'] });
    let file = '';
    let end = -1;
    let current = '';
    let loading = false;
    let pending: Chunk[] = [];
    let closed = false;
    const show = (t: string) => {
      current = full ? t : keepLast(t, KEEP_LINES);
      setText(current);
    };
    const apply = (c: Chunk): boolean => {
      if (c.file === file && c.offset === end) {
        end = c.end;
        show(current + c.text);
        return true;
      }
      // Already shown (it arrived while the window was being read).
      return c.file === file && c.end <= end;
    };
    const load = async () => {
      if (loading || closed) return;
      loading = true;
      pending = [];
      try {
        const ack = (await socket
          .timeout(30_000)
          .emitWithAck('console:follow', { serverId, ...(full ? {} : { lines: TAIL_LINES }) })) as FollowAck;
        if (closed) return;
        if (!ack.ok) {
          setError(ack.error.message);
          setState('disconnected');
          return;
        }
        setError(null);
        setState('connected');
        file = ack.window.file;
        end = ack.window.end;
        show(ack.window.text);
      } catch (err) {
        if (!closed) setError(err instanceof Error ? err.message : String(err));
      } finally {
        loading = false;
      }
      const queued = pending;
      pending = [];
      if (!queued.every(apply)) void load();
    };
    socket.on('connect', () => void load());
    socket.on('disconnect', () => setState('disconnected'));
    socket.on('connect_error', (err) => {
      setState('disconnected');
      setError(`live updates unavailable: ${err.message}`);
    });
    socket.on('console', (e: { resourceId?: string; data: Chunk }) => {
      if (e.resourceId !== serverId) return;
      if (loading) pending.push(e.data);
      else if (!apply(e.data)) void load();
    });
    return () => {
      closed = true;
      socket.emit('console:unfollow', { serverId });
      socket.close();
    };
  }, [serverId, full, enabled, token]);

  return { text, state, error, waitingForSession: session.status === 'loading' };
}

/** The Log tab: the console log's tail or all of it, following the guest's output live. */
export function ConsoleLog({ serverId, enabled = true }: { serverId: string; enabled?: boolean }) {
  const [full, setFull] = useState(false);
  const [autoScroll, setAutoScroll] = useState(true);
  const { text, state, error } = useConsoleLogFollow(serverId, { full, enabled });
  const pre = useRef<HTMLPreElement>(null);
  // New output scrolls to the end, like `tail -f` (unless the user turned that off).
  useEffect(() => {
    if (autoScroll && pre.current && text !== null) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text, autoScroll]);
  return (
    <Card
      title={full ? 'Console log (full)' : `Console log (last ${TAIL_LINES} lines, then live)`}
      action={
        <div className="flex items-center gap-2">
          <StateBadge state={state} detail={state === 'connected' ? 'following' : null} />
          <label className="flex items-center gap-1 text-xs text-slate-600 dark:text-slate-300">
            <input type="checkbox" checked={autoScroll} onChange={(e) => setAutoScroll(e.target.checked)} />
            Scroll to new lines
          </label>
          <Button onClick={() => setFull((f) => !f)}>{full ? 'Show the tail' : 'Show full log'}</Button>
        </div>
      }
    >
      {error ? (
        <p role="alert" className="mb-2 text-sm text-rose-600">
          {error}
        </p>
      ) : null}
      <pre
        ref={pre}
        data-testid="console-log"
        className="max-h-[32rem] overflow-auto rounded-lg bg-slate-950 p-4 font-mono text-xs leading-relaxed text-slate-200"
      >
        {text === null ? 'Loading…' : text || '(empty)'}
      </pre>
    </Card>
  );
}
