import type { Server as HttpServer } from 'node:http';
import { listenEvents, type EventListener, type StratusEvent } from '@stratus/db';
import { Server } from 'socket.io';
import {
  authorizeConsoleLog,
  CONSOLE_OUTPUT_EVENT,
  ConsoleLogInput,
  type ConsoleLogWindow,
  isStratusError,
  readConsoleLogWindow,
  validateToken,
} from '@stratus/core';

/** What a socket may see: its project's events, cloud-wide ones when admin, and those addressed to its user. */
export interface SocketScope {
  projectId: string;
  isAdmin: boolean;
  /** The token's user: events addressed to them (data.userIds) reach this socket too. */
  userId?: string;
}
/** Maps the handshake's token to a scope; null refuses the connection. */
export type ScopeResolver = (token: string) => Promise<SocketScope | null>;

export const projectRoom = (id: string) => `project:${id}`;
export const ADMIN_ROOM = 'admin';
export const userRoom = (id: string) => `user:${id}`;

/** Users an event is addressed to besides its project (e.g. their role assignments changed). */
function addressedUsers(e: StratusEvent): string[] {
  const ids = e.data.userIds;
  return Array.isArray(ids) ? ids.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * socket.io on the web server, fed by Postgres NOTIFY. A socket joins only the rooms
 * its token allows, so a member of project A never receives project B's events.
 */
export async function attachLiveEvents(opts: {
  http: HttpServer;
  databaseUrl: string;
  resolveScope: ScopeResolver;
  onError: (err: unknown) => void;
  /** Console log follow (default: core, with the socket's Keystone token). */
  followConsoleLog?: FollowConsoleLog;
}): Promise<{ io: Server; listener: EventListener }> {
  // destroyUpgrade off: engine.io would otherwise end every other websocket upgrade (the
  // consoles) that has not answered within 1 s, which a loaded host easily exceeds.
  const io = new Server(opts.http, { path: '/socket.io', serveClient: false, destroyUpgrade: false });
  io.use((socket, next) => {
    const token: unknown = socket.handshake.auth.token;
    if (typeof token !== 'string' || token.length === 0) return next(new Error('unauthorized'));
    opts
      .resolveScope(token)
      .then((scope) => {
        if (!scope) return next(new Error('unauthorized'));
        socket.data.scope = scope;
        void socket.join(projectRoom(scope.projectId));
        if (scope.isAdmin) void socket.join(ADMIN_ROOM);
        if (scope.userId) void socket.join(userRoom(scope.userId));
        next();
      })
      .catch((err: unknown) => {
        opts.onError(err);
        next(new Error('unauthorized'));
      });
  });
  attachConsoleLogFollow(io, opts.followConsoleLog ?? followConsoleLogWithCore, opts.onError);
  const listener = await listenEvents(
    opts.databaseUrl,
    (e: StratusEvent) => {
      // Console output goes only to the sockets authorised to follow that server's log.
      if (e.type === CONSOLE_OUTPUT_EVENT) {
        if (e.resourceId) io.to(consoleLogRoom(e.resourceId)).emit('console', e);
        return;
      }
      // Admins see everything; members only their project's events.
      const rooms = e.projectId ? [projectRoom(e.projectId), ADMIN_ROOM] : [ADMIN_ROOM];
      io.to(rooms).emit('event', e);
      const users = addressedUsers(e);
      if (users.length === 0) return;
      // Each addressed user gets the event without the list of the others (sockets already
      // in one of the rooms above are left out, so nobody receives it twice).
      const data = Object.fromEntries(Object.entries(e.data).filter(([k]) => k !== 'userIds'));
      for (const id of users)
        io.to(userRoom(id))
          .except(rooms)
          .emit('event', { ...e, data });
    },
    opts.onError,
  );
  return { io, listener };
}

// ---------------------------------------------------------------- console log follow

/**
 * Live follow of a server's console log (the instance page's Log tab), on the socket the
 * dashboard already has. The client emits `console:follow` {serverId, lines?}; the
 * token of the socket's handshake is checked again (it may have been revoked) and core
 * policy decides (os_compute_api:os-console-output, the server's project); only then the
 * socket joins the server's console room, and the answer is the log window with the byte
 * offset where it ends. The worker's `console.output` events (appended bytes) reach that
 * room only. Joining before reading means no appended byte falls between the two.
 */
export type FollowConsoleLog = (
  token: string,
  input: ConsoleLogInput,
  join: () => Promise<void>,
) => Promise<ConsoleLogWindow>;
export type FollowAck =
  | { ok: true; window: ConsoleLogWindow }
  | { ok: false; error: { code: string; message: string } };
export const consoleLogRoom = (serverId: string) => `console-log:${serverId}`;

export const followConsoleLogWithCore: FollowConsoleLog = async (token, input, join) => {
  const ctx = await validateToken(token);
  await authorizeConsoleLog(ctx, input.serverId);
  await join();
  return readConsoleLogWindow(ctx, input);
};

function attachConsoleLogFollow(io: Server, follow: FollowConsoleLog, onError: (err: unknown) => void): void {
  io.on('connection', (socket) => {
    const token: unknown = socket.handshake.auth.token;
    socket.on('console:follow', (raw: unknown, ack: unknown) => {
      const reply = (a: FollowAck) => {
        if (typeof ack === 'function') ack(a);
      };
      const input = ConsoleLogInput.safeParse(raw);
      if (!input.success || typeof token !== 'string') {
        reply({ ok: false, error: { code: 'BadRequest', message: 'console:follow needs {serverId, lines?}.' } });
        return;
      }
      const room = consoleLogRoom(input.data.serverId);
      follow(token, input.data, () => Promise.resolve(socket.join(room))).then(
        (window) => reply({ ok: true, window }),
        (err: unknown) => {
          void socket.leave(room);
          if (!isStratusError(err)) onError(err);
          const error = isStratusError(err)
            ? { code: err.code, message: err.message }
            : { code: 'Unavailable', message: 'The console log could not be read.' };
          reply({ ok: false, error });
        },
      );
    });
    socket.on('console:unfollow', (raw: unknown) => {
      const input = ConsoleLogInput.pick({ serverId: true }).safeParse(raw);
      if (input.success) void socket.leave(consoleLogRoom(input.data.serverId));
    });
  });
}
