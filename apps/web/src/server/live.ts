import type { Server as HttpServer } from 'node:http';
import { listenEvents, type EventListener, type StratusEvent } from '@stratus/db';
import { Server } from 'socket.io';

/** What a socket may see: its project's events, and cloud-wide ones when admin. */
export interface SocketScope {
  projectId: string;
  isAdmin: boolean;
}
/** Maps the handshake's token to a scope; null refuses the connection. */
export type ScopeResolver = (token: string) => Promise<SocketScope | null>;

export const projectRoom = (id: string) => `project:${id}`;
export const ADMIN_ROOM = 'admin';

/**
 * socket.io on the web server, fed by Postgres NOTIFY. A socket joins only the rooms
 * its token allows, so a member of project A never receives project B's events.
 */
export async function attachLiveEvents(opts: {
  http: HttpServer;
  databaseUrl: string;
  resolveScope: ScopeResolver;
  onError: (err: unknown) => void;
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
        next();
      })
      .catch((err: unknown) => {
        opts.onError(err);
        next(new Error('unauthorized'));
      });
  });
  const listener = await listenEvents(
    opts.databaseUrl,
    (e: StratusEvent) => {
      // Admins see everything; members only their project's events.
      const rooms = e.projectId ? [projectRoom(e.projectId), ADMIN_ROOM] : [ADMIN_ROOM];
      io.to(rooms).emit('event', e);
    },
    opts.onError,
  );
  return { io, listener };
}
