import { listDeadJobs } from '@stratus/core/platform/tasks';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

export const adminRouter = router({
  /** Background jobs that failed all their attempts (the queue's dead list). */
  deadJobs: protectedProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).optional() }).default({}))
    .query(({ ctx, input }) => listDeadJobs(ctx.auth, { limit: input.limit })),
});
