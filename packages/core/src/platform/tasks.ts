import { type JobRow, listFailedJobs } from '@stratus/db';
import type { AuthContext } from '../identity/types.ts';
import { enforce } from '../policy/index.ts';
import { runtime } from './runtime.ts';

/** Jobs that used all their attempts (dead), newest first: for cloud admins only. */
export async function listDeadJobs(ctx: AuthContext, opts: { limit?: number } = {}): Promise<JobRow[]> {
  enforce(ctx, 'stratus:cloud_admin');
  return listFailedJobs(runtime().db, Math.min(Math.max(opts.limit ?? 50, 1), 500));
}
