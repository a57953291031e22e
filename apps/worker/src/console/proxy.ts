import { constants, openSync, write as fsWrite } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { ReadStream } from 'node:tty';
import {
  CONSOLE_LOG_PATH,
  ConsoleLogInput,
  type ConsoleProtocol,
  type ConsoleSession,
  type ConsoleTokenProtocol,
  ConsoleTokenRefused,
  consoleLogPath,
  consumeConsoleToken,
  logger,
  readLogFile,
} from '@stratus/core';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { type LogTailOptions, startConsoleLogTail } from './log-tail.ts';

/*
 * The console proxy of one host (the worker's `console` role): a websocket server
 *   /vnc?token=…     ↔ TCP to the domain's VNC server (binary frames, noVNC's `binary` subprotocol)
 *   /serial?token=…  ↔ the domain's serial pty (raw, no echo)
 * and one plain HTTP route for API nodes on other hosts:
 *   GET /log?token=…&lines=N → the console log window of the token's server, JSON
 *   (core's readLogFile; the token is a `log` token the API node minted, console/log.ts)
 * The token is consumed (single use) before the websocket handshake completes; only
 * tokens minted for this host's servers are accepted. The dashboard's web server
 * forwards `/console/ws/{vnc,serial}` here (apps/web/src/server/console-upgrade.ts).
 */

/** What the proxy asks of the hypervisor (the compute driver implements it). */
export interface ConsoleTargets {
  vncAddress(uuid: string): Promise<{ host: string; port: number } | null>;
  serialPty(uuid: string): Promise<string | null>;
  consoleLog(uuid: string, opts?: { tailLines?: number }): Promise<string>;
}

export interface ConsoleProxyOptions {
  /** This host's name: tokens of other hosts are refused. */
  host: string;
  listen: string;
  /** 0 picks a free port (tests). */
  port: number;
  targets: ConsoleTargets;
  /** Lines of the serial log replayed to a new serial session (output before attaching is otherwise lost). */
  serialScrollbackLines?: number;
  /**
   * Live follow of this host's console logs (log-tail.ts), started with the proxy as part
   * of the console role; false leaves it off (tests of the proxy alone).
   */
  logTail?: false | Omit<LogTailOptions, 'host'>;
  /** For tests: how tokens are consumed. */
  consume?: (token: string, want: { host: string; protocol: ConsoleTokenProtocol }) => Promise<ConsoleSession>;
}

export interface ConsoleProxy {
  port: number;
  server: Server;
  /** Sessions currently bridged. */
  sessions(): number;
  close(): Promise<void>;
}

/** Close codes the browser shows (4000–4999 are the application's). */
export const CloseCode = { NOT_RUNNING: 4004, TAKEN_OVER: 4009, TARGET_FAILED: 4011, SHUTDOWN: 1001 } as const;

const PATHS: Record<string, ConsoleProtocol> = {
  '/vnc': 'vnc',
  '/serial': 'serial',
  '/console/ws/vnc': 'vnc',
  '/console/ws/serial': 'serial',
  '/websockify': 'vnc',
};

function reject(socket: Duplex, status: number, text: string): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${text}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export async function startConsoleProxy(opts: ConsoleProxyOptions): Promise<ConsoleProxy> {
  const log = logger().child({ component: 'console-proxy' });
  const consume = opts.consume ?? consumeConsoleToken;
  const scrollback = opts.serialScrollbackLines ?? 50;
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // noVNC offers `binary` (older clients `base64`, which we do not speak).
    handleProtocols: (protocols) => (protocols.has('binary') ? 'binary' : false),
  });
  const live = new Set<WebSocket>();
  /** One reader per pty: a new serial session for a server takes over from the old one. */
  const serialOwners = new Map<string, WebSocket>();

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === CONSOLE_LOG_PATH) {
      void serveLog(url, res);
      return;
    }
    res.writeHead(426, { 'Content-Type': 'text/plain' }).end('websocket only\n');
  });

  /** GET /log: one window of the token's server's console log (see the header). */
  async function serveLog(url: URL, res: ServerResponse): Promise<void> {
    const answer = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    const lines = url.searchParams.get('lines');
    const parsed = ConsoleLogInput.shape.lines.safeParse(lines === null ? undefined : Number(lines));
    if (!parsed.success) return answer(400, { error: 'lines must be an integer from 0 to 100000' });
    try {
      const session = await consume(url.searchParams.get('token') ?? '', { host: opts.host, protocol: 'log' });
      answer(200, await readLogFile(session.serverId, consoleLogPath(session.serverId), parsed.data));
    } catch (err) {
      if (err instanceof ConsoleTokenRefused) return answer(403, { error: 'Forbidden' });
      log.error({ err }, 'console log read failed');
      answer(503, { error: 'Service Unavailable' });
    }
  }

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://localhost');
    const protocol = PATHS[url.pathname];
    if (!protocol) return reject(socket, 404, 'Not Found');
    const token = url.searchParams.get('token') ?? '';
    consume(token, { host: opts.host, protocol })
      .then((session) => {
        // Answer 101 at once; the target is resolved after, failures close the websocket
        // with a reason the page shows (a proxying web server must see bytes quickly).
        wss.handleUpgrade(req, socket, head, (ws) => {
          live.add(ws);
          ws.on('close', () => live.delete(ws));
          const peer = req.headers['x-forwarded-for'] ?? req.socket.remoteAddress;
          log.info({ serverId: session.serverId, protocol, peer }, 'console session opened');
          ws.on('close', (code) => log.info({ serverId: session.serverId, protocol, code }, 'console session closed'));
          const bridge =
            protocol === 'vnc'
              ? bridgeVnc(ws, session, opts.targets)
              : bridgeSerial(ws, session, opts.targets, serialOwners, scrollback);
          bridge.catch((err: unknown) => {
            log.warn({ err, serverId: session.serverId, protocol }, 'console target failed');
            closeWs(ws, CloseCode.TARGET_FAILED, 'console target failed');
          });
        });
      })
      .catch((err: unknown) => {
        if (err instanceof ConsoleTokenRefused) return reject(socket, 403, 'Forbidden');
        log.error({ err }, 'console token check failed');
        reject(socket, 503, 'Service Unavailable');
      });
  });

  await new Promise<void>((resolve, reject_) => {
    server.once('error', reject_);
    server.listen(opts.port, opts.listen, () => {
      server.off('error', reject_);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  log.info({ listen: opts.listen, port }, 'console proxy listening');
  const tail = opts.logTail === false ? undefined : startConsoleLogTail({ ...opts.logTail, host: opts.host });
  return {
    port,
    server,
    sessions: () => live.size,
    close: async () => {
      for (const ws of live) closeWs(ws, CloseCode.SHUTDOWN, 'proxy stopping');
      wss.close();
      await tail?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function closeWs(ws: WebSocket, code: number, reason: string): void {
  if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(code, reason);
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Websocket ↔ TCP to the domain's VNC server, with backpressure both ways. */
async function bridgeVnc(ws: WebSocket, session: ConsoleSession, targets: ConsoleTargets): Promise<void> {
  const addr = await targets.vncAddress(session.serverId);
  if (!addr) return closeWs(ws, CloseCode.NOT_RUNNING, 'the server is not running');
  if (ws.readyState !== WebSocket.OPEN) return;
  const tcp: Socket = connect({ host: addr.host, port: addr.port });
  tcp.setNoDelay(true);
  const pending: Buffer[] = [];
  tcp.on('connect', () => {
    for (const b of pending.splice(0)) tcp.write(b);
  });
  tcp.on('data', (chunk) => {
    ws.send(chunk, { binary: true });
    // The browser is slow: stop reading VNC until the websocket buffer drains.
    if (ws.bufferedAmount > 4 * 1024 * 1024) {
      tcp.pause();
      const drain = setInterval(() => {
        if (ws.bufferedAmount < 1024 * 1024 || ws.readyState !== WebSocket.OPEN) {
          clearInterval(drain);
          tcp.resume();
        }
      }, 20);
    }
  });
  tcp.on('error', (err) => {
    logger().warn({ err, serverId: session.serverId }, 'vnc connection failed');
    closeWs(ws, CloseCode.TARGET_FAILED, 'vnc connection failed');
  });
  tcp.on('close', () => closeWs(ws, 1000, 'vnc closed'));
  ws.on('message', (data) => {
    const b = toBuffer(data);
    if (tcp.connecting) pending.push(b);
    else tcp.write(b);
  });
  ws.on('close', () => tcp.destroy());
}

/**
 * Websocket ↔ the domain's serial pty. The host end is raw without echo (else the
 * guest's own output comes back to it as input); QEMU notices a new reader only about
 * once a second and drops input until then, so clients retry early keystrokes.
 * Frames from the browser are input bytes (text or binary); output goes out binary.
 */
async function bridgeSerial(
  ws: WebSocket,
  session: ConsoleSession,
  targets: ConsoleTargets,
  owners: Map<string, WebSocket>,
  scrollback: number,
): Promise<void> {
  // The pty and the log to replay are looked up at once (each may cost the driver a process start).
  const [pty, past] = await Promise.all([
    targets.serialPty(session.serverId),
    scrollback > 0
      ? targets.consoleLog(session.serverId, { tailLines: scrollback }).catch(() => '')
      : Promise.resolve(''),
  ]);
  if (!pty) return closeWs(ws, CloseCode.NOT_RUNNING, 'the server is not running');
  if (ws.readyState !== WebSocket.OPEN) return;
  const previous = owners.get(session.serverId);
  if (previous && previous !== ws) closeWs(previous, CloseCode.TAKEN_OVER, 'another console session opened');
  owners.set(session.serverId, ws);
  // Let the previous reader's close run first: one reader per pty.
  await new Promise((r) => setImmediate(r));

  if (past && ws.readyState === WebSocket.OPEN)
    ws.send(Buffer.from(past.replace(/\r?\n/g, '\r\n'), 'utf8'), { binary: true });

  const fd = openSync(pty, constants.O_RDWR | constants.O_NOCTTY);
  const tty = new ReadStream(fd);
  tty.setRawMode(true); // cfmakeraw: no echo, no line discipline
  let closed = false;
  const cleanup = () => {
    if (closed) return;
    closed = true;
    if (owners.get(session.serverId) === ws) owners.delete(session.serverId);
    // Destroying the stream closes its fd.
    tty.destroy();
  };
  tty.on('data', (chunk: Buffer) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(chunk, { binary: true });
  });
  tty.on('error', (err) => {
    // EIO when QEMU closes its end (guest stopped).
    logger().info({ err: err.message, serverId: session.serverId }, 'serial pty closed');
    closeWs(ws, 1000, 'serial console closed');
    cleanup();
  });
  tty.on('close', () => closeWs(ws, 1000, 'serial console closed'));

  // Writes in order, off the event loop (a pty write can block while QEMU is not reading).
  let chain = Promise.resolve();
  ws.on('message', (data) => {
    const b = toBuffer(data);
    chain = chain.then(
      () =>
        new Promise<void>((resolve) => {
          let off = 0;
          const step = () => {
            if (closed || off >= b.length) return resolve();
            fsWrite(fd, b, off, b.length - off, null, (err, n) => {
              // libuv made the fd non-blocking for its reader: retry a full pty buffer shortly.
              if (err && err.code === 'EAGAIN') return void setTimeout(step, 10);
              if (err) return resolve();
              off += n;
              step();
            });
          };
          step();
        }),
    );
  });
  ws.on('close', cleanup);
}
