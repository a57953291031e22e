import { randomUUID } from 'node:crypto';
import type { PrismaClient } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { type Config, loadConfig } from '../platform/config.ts';
import { badRequest, StratusError } from '../platform/errors.ts';
import { runtime } from '../platform/runtime.ts';
import { can } from '../policy/index.ts';
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

/** Nova answers 403 (overLimit) for quota; adapters read `overLimit` from details. */
export function overLimit(message: string): StratusError {
  return new StratusError('QuotaExceeded', message, { overLimit: true });
}

export function isAdmin(ctx: AuthContext): boolean {
  return can(ctx, 'admin_required');
}

/** The caller's project; project-scoped tokens only. */
export function projectOf(ctx: AuthContext): string {
  if (!ctx.projectId) throw badRequest('A project-scoped token is required.');
  return ctx.projectId;
}

export interface Page {
  marker?: string;
  limit?: number;
}
export { MAX_LIMIT } from '../platform/paging.ts';
