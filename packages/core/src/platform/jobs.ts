import { enqueue, type EnqueueOptions, type Tx } from '@stratus/db';
import type { z } from 'zod';
import { currentRequestId, logger, withRequestContext, newRequestId } from './log.ts';

/*
 * A job definition: a name, a zod payload and a handler. Handlers must be idempotent
 * (a retry after a crash re-runs them). `hostBound` jobs go to one host's worker.
 */
export interface JobContext {
  jobId: string;
  attempt: number;
  maxAttempts: number;
  requestId: string;
}

export interface JobDefinition<S extends z.ZodType = z.ZodType> {
  name: string;
  payload: S;
  hostBound: boolean;
  maxAttempts?: number;
  handler: (payload: z.infer<S>, ctx: JobContext) => Promise<void>;
}

export function defineJob<S extends z.ZodType>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}

/** Enqueues inside the caller's transaction; carries the current request id. */
export async function enqueueJob<S extends z.ZodType>(
  tx: Tx,
  def: JobDefinition<S>,
  payload: z.input<S>,
  opts: Omit<EnqueueOptions, 'host'> & { host?: string } = {},
): Promise<string> {
  if (def.hostBound && !opts.host) throw new Error(`job ${def.name} needs a host`);
  const data = def.payload.parse(payload);
  return enqueue(tx, def.name, { data, meta: { requestId: currentRequestId() } }, {
    maxAttempts: def.maxAttempts,
    ...opts,
  });
}

interface RawJob {
  id: string;
  attempts: number;
  max_attempts: number;
}

/** Adapts a definition to a graphile-worker task: parse, set the request id, log. */
export function toTask(def: JobDefinition) {
  return async (raw: unknown, helpers: { job: RawJob }) => {
    const envelope = (raw ?? {}) as { data?: unknown; meta?: { requestId?: string } };
    const requestId = envelope.meta?.requestId ?? newRequestId();
    await withRequestContext({ requestId }, async () => {
      const log = logger().child({ job: def.name, jobId: helpers.job.id, attempt: helpers.job.attempts });
      const parsed = def.payload.safeParse(envelope.data);
      if (!parsed.success) {
        // A malformed payload never becomes valid: log it and do not retry forever.
        log.error({ issues: parsed.error.issues }, 'job payload rejected');
        return;
      }
      const started = Date.now();
      try {
        await def.handler(parsed.data, {
          jobId: helpers.job.id,
          attempt: helpers.job.attempts,
          maxAttempts: helpers.job.max_attempts,
          requestId,
        });
        log.info({ ms: Date.now() - started }, 'job done');
      } catch (err) {
        log.warn({ err, ms: Date.now() - started }, 'job failed');
        throw err;
      }
    });
  };
}
