import { listUserProjects } from '@stratus/core/identity/index';
import { canInOwnProject } from '@stratus/core/policy/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

export const sessionRouter = router({
  /** Projects the caller can switch to. */
  projects: protectedProcedure.query(async ({ ctx }) =>
    (await listUserProjects(ctx.auth)).map((p) => ({ id: p.id, name: p.name })),
  ),
  /**
   * Which of these policy actions the caller may perform in their project (to show or hide
   * buttons; core enforces anyway). Project-scoped rules (Nova, Neutron, Cinder) are checked
   * against the caller's project, so members see what they may do, not only admins.
   */
  can: protectedProcedure
    .input(
      z.object({
        actions: z
          .array(
            z
              .string()
              .regex(/^[a-z][a-z0-9_]*(:[a-z0-9_-]+)*$/)
              .max(128),
          )
          .max(50),
      }),
    )
    .query(({ ctx, input }) => Object.fromEntries(input.actions.map((a) => [a, canInOwnProject(ctx.auth, a)]))),
});
