import { type ErrorCode, isStratusError } from '@stratus/core/platform/errors';
import { logger } from '@stratus/core/platform/log';
import type { AuthContext } from '@stratus/core/identity/index';
import { initTRPC, TRPCError } from '@trpc/server';
import { z } from 'zod';

export interface Context {
  /** The caller, from the session's Keystone token; null when signed out or the token is no longer valid. */
  auth: AuthContext | null;
}

type TRPCCode = TRPCError['code'];
/** Core error codes to tRPC codes; the HTTP status follows (QuotaExceeded stays 413 as in core). */
const CODES: Record<ErrorCode, TRPCCode> = {
  BadRequest: 'BAD_REQUEST',
  Unauthorized: 'UNAUTHORIZED',
  Forbidden: 'FORBIDDEN',
  NotFound: 'NOT_FOUND',
  Conflict: 'CONFLICT',
  QuotaExceeded: 'PAYLOAD_TOO_LARGE',
  NotAcceptable: 'BAD_REQUEST',
  PreconditionFailed: 'PRECONDITION_FAILED',
  RangeNotSatisfiable: 'BAD_REQUEST',
  UnprocessableEntity: 'UNPROCESSABLE_CONTENT',
  Unavailable: 'SERVICE_UNAVAILABLE',
};

/** "The input is not valid: name: Too small…" — the first problem, for toasts; forms use zodError. */
function invalidInput(e: z.ZodError): string {
  const first = e.issues[0];
  if (!first) return 'The input is not valid.';
  return `The input is not valid: ${first.path.length ? `${first.path.join('.')}: ` : ''}${first.message}`;
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    const stratus = isStratusError(cause) ? cause : null;
    const zodError = cause instanceof z.ZodError ? z.flattenError(cause) : null;
    // Unexpected errors keep their detail in the log, not in the browser.
    const hidden = error.code === 'INTERNAL_SERVER_ERROR' && !stratus;
    return {
      ...shape,
      message: hidden
        ? 'Internal error: the request failed unexpectedly.'
        : cause instanceof z.ZodError
          ? invalidInput(cause)
          : shape.message,
      data: { ...shape.data, stack: undefined, stratusCode: stratus?.code ?? null, zodError },
    };
  },
});

/** Re-throws core's StratusError as the matching tRPC error with the real message. */
const mapErrors = t.middleware(async ({ next, path }) => {
  const res = await next();
  if (!res.ok) {
    const cause = res.error.cause;
    if (isStratusError(cause)) {
      throw new TRPCError({ code: CODES[cause.code], message: cause.message, cause });
    }
    // Core validates its own input too: a schema failure there is the caller's mistake.
    if (cause instanceof z.ZodError) throw new TRPCError({ code: 'BAD_REQUEST', message: invalidInput(cause), cause });
    if (res.error.code === 'INTERNAL_SERVER_ERROR')
      logger().error({ err: cause ?? res.error, path }, 'trpc: unexpected error');
  }
  return res;
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapErrors);

/** A signed-in caller: `ctx.auth` is the validated AuthContext. */
export const protectedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (!ctx.auth) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Your session has ended. Sign in again.' });
  return next({ ctx: { auth: ctx.auth } });
});
