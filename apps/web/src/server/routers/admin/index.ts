import { listProjects } from '@stratus/core/identity/index';
import { listDeadJobs } from '@stratus/core/platform/tasks';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';
import { aggregatesRouter } from './aggregates';
import { adminFlavorsRouter } from './flavors';
import { hypervisorsRouter } from './hypervisors';
import { instancesRouter } from './instances';
import { projectQuotas } from './quotas';
import { servicesRouter } from './services';

export const adminRouter = router({
  /** Background jobs that failed all their attempts (the queue's dead list). */
  deadJobs: protectedProcedure
    .input(z.object({ limit: z.number().int().min(1).max(500).optional() }).default({}))
    .query(({ ctx, input }) => listDeadJobs(ctx.auth, { limit: input.limit })),
  hypervisors: hypervisorsRouter,
  services: servicesRouter,
  instances: instancesRouter,
  flavors: adminFlavorsRouter,
  aggregates: aggregatesRouter,
  /** Project ids and names for the admin filters and the flavor access picker (identity:list_projects). */
  projects: protectedProcedure.query(async ({ ctx }) =>
    (await listProjects(ctx.auth, { limit: 1000 })).items.map((p) => ({ id: p.id, name: p.name })),
  ),
  /**
   * The caller's own project quota usage (the project Overview). Not an admin call: it
   * lives in this router because the overview and the admin panels are built together.
   */
  projectQuotas,
});
