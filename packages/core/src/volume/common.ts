import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { type Config, loadConfig } from '../platform/config.ts';
import { badRequest, notFound, StratusError } from '../platform/errors.ts';
import { runtime } from '../platform/runtime.ts';
import { can, enforce } from '../policy/index.ts';
import './policy.ts';

export function db(): PrismaClient {
  return runtime().db;
}
export function cfg(): Config {
  return loadConfig();
}
export const newUuid = (): string => randomUUID();

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID_RE.test(s);

export function isAdmin(ctx: AuthContext): boolean {
  return can(ctx, 'admin_required');
}

/** The caller's project; project-scoped tokens only. */
export function projectOf(ctx: AuthContext): string {
  if (!ctx.projectId) throw badRequest('A project-scoped token is required.');
  return ctx.projectId;
}

/**
 * A row the caller may act on with `action`: a missing row, or another project's the
 * caller may not touch, is "not found" (`what`, Cinder's message); the caller's own
 * project's, when `action` refuses, is 403.
 */
export function allowedRow<T extends { projectId: string; userId?: string }>(
  ctx: AuthContext,
  row: T | null,
  action: string,
  what: string,
): T {
  if (!row) throw notFound(what);
  if (!can(ctx, action, { project_id: row.projectId, ...(row.userId ? { user_id: row.userId } : {}) })) {
    if (row.projectId !== ctx.projectId) throw notFound(what);
    enforce(ctx, action, { project_id: row.projectId });
  }
  return row;
}

/** Cinder answers quota failures with 413 overLimit. */
export function volumeOverLimit(message: string): StratusError {
  return new StratusError('QuotaExceeded', message, { overLimit: true });
}

/** Cinder's InvalidVolume and friends are 400s. */
export const invalid = (what: string, reason: string): StratusError =>
  new StratusError('BadRequest', `Invalid ${what}: ${reason}`);

/** A transaction's own options: volume writes are short, but queue on the quota lock. */
export const TX = { maxWait: 60_000, timeout: 60_000 };

/** The volume service's default list order (Cinder's created_at desc), ties by id. */
export const NEWEST_FIRST = { field: 'createdAt', dir: 'desc' } as const;

/** The filters of the volume service's lists, and Cinder's marker paging. */
export interface VolumeListScope {
  allTenants?: boolean;
  projectId?: string;
  /** Snapshots and backups: those of one volume. */
  volumeId?: string;
  name?: string;
  status?: string;
  marker?: string;
  limit?: number;
}

/**
 * The filter every volume-service list starts from. Every project's rows (or the named
 * project's) for a caller asking for all tenants or another project who may
 * (volume:get_all_tenants); otherwise — all_tenants from others is ignored, as Cinder
 * does — the caller's own project, once `action` allows it. Then the exact volume, name
 * and status filters.
 */
export function listScope(
  ctx: AuthContext,
  action: string,
  o: VolumeListScope,
): { projectId?: string; volumeId?: string; name?: string; status?: string } {
  const where: { projectId?: string; volumeId?: string; name?: string; status?: string } = {};
  if ((o.allTenants || (o.projectId && o.projectId !== ctx.projectId)) && can(ctx, 'volume:get_all_tenants')) {
    if (o.projectId) where.projectId = o.projectId;
  } else {
    const projectId = projectOf(ctx);
    enforce(ctx, action, { project_id: projectId });
    where.projectId = projectId;
  }
  if (o.volumeId) where.volumeId = o.volumeId;
  if (o.name !== undefined) where.name = o.name;
  if (o.status !== undefined) where.status = o.status;
  return where;
}

/** zod-style metadata: string keys 1-255, string values up to 255. */
export function checkMetadata(m: unknown, field = 'metadata'): Record<string, string> {
  if (m === undefined || m === null) return {};
  if (typeof m !== 'object' || Array.isArray(m)) throw badRequest(`Invalid input for field/attribute ${field}.`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) {
    if (k.length < 1 || k.length > 255) throw badRequest(`Invalid metadata key: keys are 1-255 characters.`);
    if (typeof v !== 'string') throw badRequest(`Invalid metadata value for ${k}: values must be strings.`);
    if (v.length > 255) throw badRequest(`Invalid metadata value for ${k}: values are at most 255 characters.`);
    out[k] = v;
  }
  return out;
}
