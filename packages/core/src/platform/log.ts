import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';

/** Per-request context; the request id follows a request into the jobs it causes. */
export interface RequestContext {
  requestId: string;
}
const als = new AsyncLocalStorage<RequestContext>();

export function newRequestId(): string {
  return `req-${randomUUID()}`;
}
export function withRequestContext<T>(ctx: RequestContext, fn: () => T): T {
  return als.run(ctx, fn);
}
export function currentRequestId(): string | undefined {
  return als.getStore()?.requestId;
}

let root: Logger | undefined;
export function initLogger(opts: { name: string; level: string; destination?: string }): Logger {
  root = pino(
    {
      name: opts.name,
      level: opts.level,
      mixin: () => {
        const id = currentRequestId();
        return id ? { requestId: id } : {};
      },
    },
    opts.destination ? pino.destination({ dest: opts.destination, mkdir: true, sync: false }) : undefined,
  );
  return root;
}
export function logger(): Logger {
  root ??= pino({ name: 'stratus', level: 'info' });
  return root;
}
export type { Logger };
