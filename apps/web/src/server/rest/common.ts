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
 */
export function createRouter(opts: { prefix: string; render: ErrorRenderer }) {
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
          sendError(res, err, opts.render);
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
