import type { IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { consoleProxyAddress, logger, peekConsoleToken } from '@stratus/core';

/*
 * Websocket upgrades of /console/ws/vnc and /console/ws/serial: the browser stays on the
 * dashboard's origin and this server forwards the upgrade, bytes untouched, to the
 * console proxy of the host the token was minted for (the worker's `console` role),
 * which consumes the single-use token and bridges to VNC or the serial pty. Looking
 * the token up here does not use it. No cookie is needed: the token is the credential.
 */

const PATH_RE = /^\/console\/ws\/(vnc|serial)$/;
/** Hidden from Next's own upgrade handler, which would end a socket its catch-all route matches. */
const CLAIMED = '/_stratus-console-upgrade';

/** Call first (synchronously) on every `upgrade`; returns true when the request is a console's. */
export function handleConsoleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const m = PATH_RE.exec(url.pathname);
  if (!m?.[1]) return false;
  const protocol = m[1];
  req.url = CLAIMED;
  socket.on('error', () => socket.destroy());
  void forward(req, socket, head, protocol, url.searchParams.get('token') ?? '').catch((err: unknown) => {
    logger().error({ err }, 'console upgrade failed');
    refuse(socket, 502, 'Bad Gateway');
  });
  return true;
}

function refuse(socket: Duplex, status: number, text: string): void {
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  else socket.destroy();
}

async function forward(req: IncomingMessage, socket: Duplex, head: Buffer, protocol: string, token: string): Promise<void> {
  const t = await peekConsoleToken(token);
  if (!t || t.protocol !== protocol) {
    // The worker logs the precise reason when it refuses; here an unusable token stops early.
    logger().warn({ protocol }, 'console websocket refused: token unknown, used, expired or of another protocol');
    return refuse(socket, 403, 'Forbidden');
  }
  const addr = consoleProxyAddress(t.host);
  const upstream = connect({ host: addr.host, port: addr.port });
  upstream.on('error', (err) => {
    logger().warn({ err, host: t.host, proxy: addr }, 'console proxy unreachable');
    refuse(socket, 502, 'Bad Gateway');
  });
  upstream.on('connect', () => {
    const lines = [`GET /${protocol}?token=${encodeURIComponent(token)} HTTP/1.1`];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i] ?? '';
      if (k.toLowerCase() === 'x-forwarded-for' || k.toLowerCase() === 'cookie') continue;
      lines.push(`${k}: ${req.rawHeaders[i + 1] ?? ''}`);
    }
    lines.push(`X-Forwarded-For: ${req.socket.remoteAddress ?? ''}`);
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  socket.on('close', () => upstream.destroy());
  upstream.on('close', () => socket.destroy());
}
