import type { StratusEvent } from '@stratus/db';
import { io as connect, type Socket } from 'socket.io-client';

/*
 * For live-event integration tests: a socket.io client of a test server's live events,
 * connected with `token`, collecting every event it receives. The socket is pushed onto
 * `sockets` for the test's afterAll to close; a refused token rejects (connect_error).
 */
export async function liveClient(
  base: string,
  token: string,
  sockets: Socket[],
): Promise<{ socket: Socket; events: StratusEvent[] }> {
  const socket = connect(base, { auth: { token }, transports: ['websocket'], reconnection: false });
  sockets.push(socket);
  const events: StratusEvent[] = [];
  socket.on('event', (e: StratusEvent) => events.push(e));
  await new Promise<void>((resolve, reject) => {
    socket.on('connect', () => resolve());
    socket.on('connect_error', reject);
  });
  return { socket, events };
}
