import pg from 'pg';
import { z } from 'zod';
import type { Tx } from './client.ts';

/*
 * Live events. pg_notify inside the writer's transaction is delivered only when that
 * transaction commits, so listeners never see a change that was rolled back.
 */
export const EVENT_CHANNEL = 'stratus_events';

export const StratusEvent = z.object({
  /** e.g. server.updated, service.heartbeat */
  type: z.string(),
  /** Project the resource belongs to; null for cloud-wide (admin) events. */
  projectId: z.string().nullable(),
  resourceId: z.string().optional(),
  data: z.record(z.string(), z.unknown()).default({}),
  at: z.string().optional(),
});
export type StratusEvent = z.infer<typeof StratusEvent>;

export async function emitEvent(tx: Pick<Tx, '$executeRaw'>, event: StratusEvent): Promise<void> {
  const body = JSON.stringify({ ...event, at: event.at ?? new Date().toISOString() });
  // NOTIFY payloads are capped at 8000 bytes: events carry ids and status, not documents.
  if (Buffer.byteLength(body) > 7900) throw new Error(`event ${event.type} too large`);
  await tx.$executeRaw`SELECT pg_notify(${EVENT_CHANNEL}, ${body})`;
}

export interface EventListener {
  close(): Promise<void>;
}

/** Subscribes to all events; reconnects after a lost connection. */
export async function listenEvents(
  connectionString: string,
  onEvent: (e: StratusEvent) => void,
  onError: (err: unknown) => void = () => {},
): Promise<EventListener> {
  let client: pg.Client | undefined;
  let closed = false;
  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString });
    c.on('notification', (msg) => {
      if (msg.channel !== EVENT_CHANNEL || !msg.payload) return;
      const parsed = StratusEvent.safeParse(JSON.parse(msg.payload));
      if (parsed.success) onEvent(parsed.data);
    });
    c.on('error', (err) => {
      onError(err);
      if (!closed) setTimeout(() => void connect().catch(onError), 1000);
    });
    await c.connect();
    await c.query(`LISTEN ${EVENT_CHANNEL}`);
    client = c;
  };
  await connect();
  return {
    async close() {
      closed = true;
      await client?.end();
    },
  };
}
