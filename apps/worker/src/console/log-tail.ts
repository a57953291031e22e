import { open } from 'node:fs/promises';
import {
  CONSOLE_OUTPUT_EVENT,
  type ConsoleOutputChunk,
  cleanConsoleText,
  consoleLogPath,
  logger,
  runtime,
  statLog,
} from '@stratus/core';
import { emitEvent, type StratusEvent } from '@stratus/db';

/*
 * Live follow of console logs, the worker's half (console role): every INTERVAL it looks
 * at the serial log file of each server on this host (one stat each) and publishes the
 * bytes appended since the last look as `console.output` events (Postgres NOTIFY, the
 * same path as every live event), tagged with the server's project. The web server
 * passes them only to sockets that were authorised for that server's log
 * (apps/web/src/server/live.ts, core authorizeConsoleLog). Nothing re-reads a whole log.
 *
 * Each event carries bytes [offset, end) of the file named by `file` (device:inode):
 * a client that holds the log up to byte `end` appends an event whose offset equals it
 * and asks for a fresh window on anything else (a gap after a burst, a rotated file).
 */

export interface LogTailOptions {
  /** This host: the servers placed here are followed. */
  host: string;
  /** Servers to follow (default: not deleted and on `host`, from the database). */
  listServers?: () => Promise<Array<{ id: string; projectId: string }>>;
  /** Default: core consoleLogPath (<stateDir>/instances/<id>/console.log). */
  logPath?: (serverId: string) => string;
  /** Default: emitEvent on the runtime's database (pg_notify). */
  publish?: (e: StratusEvent) => Promise<void>;
  intervalMs?: number;
  refreshMs?: number;
}

export interface LogTail {
  /** One pass over all followed logs (the timer calls it; tests may too). */
  tick(): Promise<void>;
  close(): Promise<void>;
}

/** Bytes per event: NOTIFY payloads are capped at 8000 bytes, JSON escaping may double some. */
const CHUNK_BYTES = 3000;
/** More than this appended within one interval: publish only the newest part (clients see the gap and re-read). */
const BURST_BYTES = 64 * 1024;

interface Followed {
  projectId: string;
  file: string;
  offset: number;
}

/** Length of the longest prefix of `buf` that does not end inside a UTF-8 character. */
export function completeUtf8(buf: Uint8Array, len = buf.length): number {
  for (let back = 1; back <= Math.min(4, len); back++) {
    const b = buf[len - back] ?? 0;
    if ((b & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead
    const need = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return back < need ? len - back : len;
  }
  return len;
}

export function startConsoleLogTail(opts: LogTailOptions): LogTail {
  const log = logger().child({ component: 'console-log-tail' });
  const intervalMs = opts.intervalMs ?? 500;
  const refreshMs = opts.refreshMs ?? 5000;
  const pathOf = opts.logPath ?? consoleLogPath;
  const listServers =
    opts.listServers ??
    (() =>
      runtime().db.server.findMany({
        where: { host: opts.host, deleted: false },
        select: { id: true, projectId: true },
      }));
  const publish = opts.publish ?? ((e: StratusEvent) => emitEvent(runtime().db, e));
  const followed = new Map<string, Followed>();
  let lastRefresh = 0;
  let running: Promise<void> | undefined;
  let closed = false;
  let warned = 0;

  let first = true;
  const refresh = async () => {
    const servers = await listServers();
    const ids = new Set(servers.map((s) => s.id));
    for (const id of followed.keys()) if (!ids.has(id)) followed.delete(id);
    for (const s of servers) {
      if (followed.has(s.id)) continue;
      // Servers already here when the tail starts: from the current end (what is there is
      // read as a window, not replayed). Servers that arrive later: from their first byte.
      const st = first ? await statLog(pathOf(s.id)) : null;
      followed.set(s.id, { projectId: s.projectId, file: st?.file ?? '', offset: st?.size ?? 0 });
    }
    first = false;
    lastRefresh = Date.now();
  };

  const follow = async (id: string, f: Followed) => {
    const st = await statLog(pathOf(id));
    if (!st) return;
    if (st.file !== f.file) {
      // A new file (first boot, rotation): everything in it is new.
      f.file = st.file;
      f.offset = 0;
    } else if (st.size < f.offset) f.offset = 0; // truncated in place
    if (st.size <= f.offset) return;
    const from = st.size - f.offset > BURST_BYTES ? st.size - BURST_BYTES : f.offset;
    const buf = Buffer.alloc(st.size - from);
    const fh = await open(pathOf(id), 'r');
    let got = 0;
    try {
      while (got < buf.length) {
        const { bytesRead } = await fh.read(buf, got, buf.length - got, from + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
    } finally {
      await fh.close();
    }
    const usable = completeUtf8(buf, got);
    let at = 0;
    while (at < usable) {
      const n = at + CHUNK_BYTES >= usable ? usable - at : completeUtf8(buf, at + CHUNK_BYTES) - at;
      const data: ConsoleOutputChunk = {
        file: f.file,
        offset: from + at,
        end: from + at + n,
        text: cleanConsoleText(buf.subarray(at, at + n).toString('utf8')),
      };
      await publish({ type: CONSOLE_OUTPUT_EVENT, projectId: f.projectId, resourceId: id, data });
      at += n;
      f.offset = from + at;
    }
  };

  const tick = async () => {
    if (running) return running;
    running = (async () => {
      try {
        if (Date.now() - lastRefresh >= refreshMs) await refresh();
        for (const [id, f] of followed) await follow(id, f);
      } catch (err) {
        // The database may be restarting; try again on the next tick (and do not flood the log).
        if (Date.now() - warned > 60_000) {
          warned = Date.now();
          log.warn({ err }, 'console log tail failed');
        }
      }
    })().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => {
    if (!closed) void tick();
  }, intervalMs);
  timer.unref();
  return {
    tick: async () => {
      await running;
      lastRefresh = 0;
      await tick();
    },
    close: async () => {
      closed = true;
      clearInterval(timer);
      await running;
    },
  };
}
