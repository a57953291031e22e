import { can, listUserProjects } from '@stratus/core/identity/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

export const sessionRouter = router({
  /** Projects the caller can switch to. */
  projects: protectedProcedure.query(async ({ ctx }) =>
    (await listUserProjects(ctx.auth)).map((p) => ({ id: p.id, name: p.name })),
  ),
  /** Which of these policy actions the caller may perform (to show or hide buttons; core enforces anyway). */
  can: protectedProcedure
    .input(z.object({ actions: z.array(z.string().regex(/^[a-z_]+:[a-z_]+$/)).max(50) }))
    .query(({ ctx, input }) => Object.fromEntries(input.actions.map((a) => [a, can(ctx.auth, a)]))),
});
