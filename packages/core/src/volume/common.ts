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

export function isAdmin(ctx: AuthContext): boolean {
  return can(ctx, 'admin_required');
}

/** The caller's project; project-scoped tokens only. */
export function projectOf(ctx: AuthContext): string {
  if (!ctx.projectId) throw badRequest('A project-scoped token is required.');
  return ctx.projectId;
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

export const MAX_LIMIT = 1000;

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
