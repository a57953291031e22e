import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type AuthContext,
  badRequest,
  isStratusError,
  logger,
  StratusError,
  unauthorized,
  validateToken,
} from '@stratus/core';
import { z } from 'zod';
import type { RestHandler } from '../http.ts';

/*
 * Shared pieces of the OpenStack REST adapters: body reading with a size limit, error
 * rendering in each service's shape, the caller from X-Auth-Token, and a small router.
 */

export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/** Reads a JSON body; BadRequest when malformed, too large or not an object. Empty → {}. */
export async function readJson(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<Record<string, unknown>> {
  const parsed = await readJsonValue(req, limit);
  if (parsed === undefined) return {};
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed))
    throw badRequest('The request body must be a JSON object.');
  return parsed as Record<string, unknown>;
}

/** Reads any JSON value (e.g. a JSON-patch array); undefined when the body is empty. */
export async function readJsonValue(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new StratusError('QuotaExceeded', `Request body is larger than ${limit} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += b.length;
    if (size > limit) throw new StratusError('QuotaExceeded', `Request body is larger than ${limit} bytes.`);
    chunks.push(b);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('Malformed JSON in the request body.');
  }
}

/** zod parse whose failure is a BadRequest naming the field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue?.path.length ? `'${issue.path.join('.')}'` : 'the request body';
  throw badRequest(`Invalid input for ${where}: ${issue?.message ?? 'invalid'}`);
}

/** The caller: X-Auth-Token validated by identity; Unauthorized when absent or invalid. */
export async function requireAuth(req: IncomingMessage): Promise<AuthContext> {
  const token = header(req, 'x-auth-token');
  if (!token) throw unauthorized();
  return validateToken(token);
}

export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s && s.length > 0 ? s : undefined;
}

/** Query booleans the way OpenStack services read them. */
export function queryBool(v: string | null): boolean | undefined {
  if (v === null) return undefined;
  return !['false', '0', 'no', 'off', 'f', 'n'].includes(v.toLowerCase());
}
/** Flags like ?nocatalog or ?include_names: present means true unless explicitly false. */
export function queryFlag(url: URL, name: string): boolean {
  if (!url.searchParams.has(name)) return false;
  const v = url.searchParams.get(name);
  return v === '' || queryBool(v) === true;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Request Entity Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};
export const titleOf = (status: number): string => TITLES[status] ?? 'Error';

/** How a service shapes its error bodies. */
export type ErrorRenderer = (status: number, message: string) => unknown;
export const keystoneError: ErrorRenderer = (status, message) => ({
  error: { code: status, message, title: titleOf(status) },
});

const FAULTS: Record<number, string> = {
  400: 'badRequest',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'itemNotFound',
  405: 'badMethod',
  406: 'notAcceptable',
  409: 'conflictingRequest',
  413: 'overLimit',
  415: 'badMediaType',
  500: 'computeFault',
  501: 'notImplemented',
  503: 'serviceUnavailable',
};
/** Nova's and Cinder's error body, {"itemNotFound": {"code": 404, "message": …}}; `extra` adds fault names. */
export const faultRenderer =
  (extra: Record<number, string> = {}): ErrorRenderer =>
  (status, message) => ({ [extra[status] ?? FAULTS[status] ?? 'computeFault']: { code: status, message } });

/** Maps any thrown value to a status and message; unexpected errors are logged, not leaked. */
export function toHttpError(err: unknown): { status: number; message: string } {
  if (isStratusError(err)) return { status: err.status, message: err.message };
  if (err instanceof z.ZodError) return { status: 400, message: err.issues[0]?.message ?? 'Invalid input.' };
  logger().error({ err }, 'unexpected error in REST handler');
  return { status: 500, message: 'An unexpected error prevented the server from fulfilling your request.' };
}

export function send(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...headers });
  res.end(data);
}

/** Sends an already serialized JSON body. */
export function sendText(
  res: ServerResponse,
  status: number,
  json: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json), ...headers });
  res.end(json);
}

export function sendError(
  res: ServerResponse,
  err: unknown,
  render: ErrorRenderer,
  headers: Record<string, string> = {},
): void {
  const { status, message } = toHttpError(err);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const extra: Record<string, string> = { ...headers };
  if (status === 401) extra['www-authenticate'] = 'Keystone uri="/identity"';
  send(res, status, render(status, message), extra);
}

// ---------------------------------------------------------------- microversions

export interface Microversion {
  major: number;
  minor: number;
}
export type Negotiated = { ok: true; version: Microversion } | { ok: false; status: 400 | 406; message: string };
export const versionString = (v: Microversion): string => `${v.major}.${v.minor}`;

/**
 * The microversion a request names (Nova's and Cinder's rules): none means `min`,
 * `latest` means `max`; a malformed one is 400, one outside the range 406.
 */
export function negotiateVersion(raw: string | undefined, min: Microversion, max: Microversion): Negotiated {
  if (!raw) return { ok: true, version: { ...min } };
  if (raw.toLowerCase() === 'latest') return { ok: true, version: { ...max } };
  const m = /^(\d+)\.(\d+)$/.exec(raw);
  if (!m)
    return {
      ok: false,
      status: 400,
      message: `API Version String ${raw} is of invalid format. Must be of format MajorNum.MinorNum.`,
    };
  const v = { major: Number(m[1]), minor: Number(m[2]) };
  const below = v.major < min.major || (v.major === min.major && v.minor < min.minor);
  const above = v.major > max.major || (v.major === max.major && v.minor > max.minor);
  if (below || above)
    return {
      ok: false,
      status: 406,
      message: `Version ${raw} is not supported by the API. Minimum is ${versionString(min)} and maximum is ${versionString(max)}.`,
    };
  return { ok: true, version: v };
}

/** A request header's value, repeated headers joined with commas. */
export function headerList(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

// ---------------------------------------------------------------- router

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
  /** Path below the mount prefix, e.g. /v3/projects. */
  path: string;
}
export type Route = (c: RouteContext) => Promise<void>;

interface Compiled {
  method: string;
  re: RegExp;
  names: string[];
  handler: Route;
}

/**
 * Routes `METHOD /path/:param` below a prefix. Unknown paths answer 404, known paths
 * with another method 405, both in the service's error shape; HEAD falls back to GET.
 * A thrown error is rendered by `onError` when the service has special cases
 * (Nova's quota 403, Neutron's error types), else by sendError with `render`.
 */
export function createRouter(opts: {
  prefix: string;
  render: ErrorRenderer;
  onError?: (res: ServerResponse, err: unknown) => void;
}) {
  const routes: Compiled[] = [];
  const add = (method: string, pattern: string, handler: Route) => {
    const names: string[] = [];
    const src = pattern
      .split('/')
      .map((seg) => {
        if (seg.startsWith(':')) {
          names.push(seg.slice(1));
          return '([^/]+)';
        }
        return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    routes.push({ method, re: new RegExp(`^${src}/?$`), names, handler });
  };
  const handler: RestHandler = async (req, res, url) => {
    const path = url.pathname.slice(opts.prefix.length) || '/';
    const method = req.method ?? 'GET';
    let pathMatched = false;
    for (const want of method === 'HEAD' ? ['HEAD', 'GET'] : [method]) {
      for (const r of routes) {
        const m = r.re.exec(path);
        if (!m) continue;
        pathMatched = true;
        if (r.method !== want) continue;
        const params: Record<string, string> = {};
        r.names.forEach((n, i) => {
          params[n] = decodeURIComponent(m[i + 1] ?? '');
        });
        try {
          await r.handler({ req, res, url, params, path });
        } catch (err) {
          if (opts.onError) opts.onError(res, err);
          else sendError(res, err, opts.render);
        }
        return true;
      }
    }
    if (pathMatched) send(res, 405, opts.render(405, `The method ${method} is not supported for this resource.`));
    else send(res, 404, opts.render(404, `The resource could not be found.`));
    return true;
  };
  return { add, handler };
}

/** Base URL of this request as the client reached it (for links and version documents). */
export function requestBase(req: IncomingMessage, publicUrl: string): string {
  const host = header(req, 'x-forwarded-host') ?? header(req, 'host');
  if (!host) return publicUrl.replace(/\/+$/, '');
  const pub = new URL(publicUrl);
  const proto = header(req, 'x-forwarded-proto') ?? (pub.host === host ? pub.protocol.replace(':', '') : 'http');
  return `${proto}://${host}`;
}

// ---------------------------------------------------------------- resources

/** How an adapter adds a route: its own wrapper (error shape, microversion context). */
export type AddRoute<C extends RouteContext> = (
  method: string,
  pattern: string,
  handler: (c: C) => Promise<void>,
) => void;

/** A handler's answer: the status and the JSON body (none for 202/204 without one). */
export type Answer = readonly [status: number, body?: unknown];

/** A handler that gets the authenticated caller and returns its answer. */
export type AuthedHandler<C extends RouteContext> = (c: C, ctx: AuthContext) => Promise<Answer>;

/**
 * Adds routes whose handler gets the caller (`auth`, X-Auth-Token by default) and
 * returns [status, body]; the body is sent as JSON.
 */
export function authedRoutes<C extends RouteContext>(
  add: AddRoute<C>,
  auth: (c: C) => Promise<AuthContext> = (c) => requireAuth(c.req),
): (method: string, pattern: string, handler: AuthedHandler<C>) => void {
  return (method, pattern, handler) =>
    add(method, pattern, async (c) => {
      const [status, body] = await handler(c, await auth(c));
      send(c.res, status, body);
    });
}

/** One resource's collection and item routes: `${path}` and `${path}/:id`. */
export interface ResourceSpec<C extends RouteContext, T> {
  path: string;
  /** The key one item is wrapped in: {"project": {…}}. */
  key: string;
  /** One item as the service shows it. */
  show: (item: T, c: C, ctx: AuthContext) => unknown;
  /** GET path: the whole list body. */
  list?: (c: C, ctx: AuthContext) => Promise<unknown>;
  /** POST path. */
  create?: (c: C, ctx: AuthContext) => Promise<T>;
  /** The create status when it is not the service's usual one. */
  created?: number;
  get?: (ctx: AuthContext, id: string, c: C) => Promise<T>;
  update?: (ctx: AuthContext, id: string, c: C) => Promise<T>;
  remove?: (ctx: AuthContext, id: string, c: C) => Promise<unknown>;
}

/** How a service answers the usual verbs (Keystone: 201/PATCH/204, Cinder: 202/PUT/202). */
export interface ResourceStyle<C extends RouteContext> {
  created: number;
  update: 'PATCH' | 'PUT';
  removed: number;
  auth?: (c: C) => Promise<AuthContext>;
}

/** Registers list, create, show, update and delete of resources in one service's style. */
export function resourceRoutes<C extends RouteContext>(add: AddRoute<C>, style: ResourceStyle<C>) {
  const route = authedRoutes(add, style.auth);
  return <T>(r: ResourceSpec<C, T>): void => {
    const item = `${r.path}/:id`;
    const id = (c: C) => c.params.id ?? '';
    const one = (status: number, t: T, c: C, ctx: AuthContext): Answer => [status, { [r.key]: r.show(t, c, ctx) }];
    const { list, create, get, update, remove } = r;
    if (list) route('GET', r.path, async (c, ctx) => [200, await list(c, ctx)]);
    if (create) route('POST', r.path, async (c, ctx) => one(r.created ?? style.created, await create(c, ctx), c, ctx));
    if (get) route('GET', item, async (c, ctx) => one(200, await get(ctx, id(c), c), c, ctx));
    if (update) route(style.update, item, async (c, ctx) => one(200, await update(ctx, id(c), c), c, ctx));
    if (remove)
      route('DELETE', item, async (c, ctx) => {
        await remove(ctx, id(c), c);
        return [style.removed];
      });
  };
}
