/*
 * One error type for every rule in core. Adapters map `code` to HTTP statuses and
 * tRPC codes; REST layers render each OpenStack service's error body from it.
 */
export const ErrorCodes = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  QuotaExceeded: 413,
  NotAcceptable: 406,
  PreconditionFailed: 412,
  RangeNotSatisfiable: 416,
  UnprocessableEntity: 422,
  Unavailable: 503,
} as const;
export type ErrorCode = keyof typeof ErrorCodes;

export class StratusError extends Error {
  override name = 'StratusError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
  get status(): number {
    return ErrorCodes[this.code];
  }
}

export const badRequest = (m: string, d?: Record<string, unknown>) => new StratusError('BadRequest', m, d);
export const notFound = (m: string) => new StratusError('NotFound', m);
export const conflict = (m: string) => new StratusError('Conflict', m);
export const forbidden = (m = 'Policy does not allow this action.') => new StratusError('Forbidden', m);
export const unauthorized = (m = 'The request you have made requires authentication.') =>
  new StratusError('Unauthorized', m);
export const quotaExceeded = (m: string) => new StratusError('QuotaExceeded', m);

export function isStratusError(e: unknown): e is StratusError {
  return e instanceof StratusError;
}
