import {
  addFlavorAccess,
  createFlavorWithDetails,
  deleteExtraSpec,
  ExtraSpecs,
  FlavorCreate,
  listFlavorAccess,
  removeFlavorAccess,
  setExtraSpecs,
} from '@stratus/core/compute/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const FlavorId = z.object({ flavorId: z.string().min(1).max(255) });
const ProjectAccess = FlavorId.extend({ projectId: z.string().min(1).max(64) });

/** Flavor management beyond list/create/delete (compute.flavors): extra specs and project access. */
export const adminFlavorsRouter = router({
  /** Create with extra specs and, for a private flavor, the projects that may use it; all or nothing. */
  create: protectedProcedure
    .input(
      z.object({
        flavor: FlavorCreate,
        extraSpecs: ExtraSpecs.optional(),
        projectIds: z.array(z.string().min(1).max(64)).max(100).optional(),
      }),
    )
    .mutation(({ ctx, input }) => createFlavorWithDetails(ctx.auth, input)),
  setExtraSpecs: protectedProcedure
    .input(FlavorId.extend({ extraSpecs: ExtraSpecs }))
    .mutation(({ ctx, input }) => setExtraSpecs(ctx.auth, input.flavorId, input.extraSpecs)),
  deleteExtraSpec: protectedProcedure
    .input(FlavorId.extend({ key: z.string().min(1).max(255) }))
    .mutation(({ ctx, input }) => deleteExtraSpec(ctx.auth, input.flavorId, input.key)),
  /** Projects that may use a private flavor. */
  access: protectedProcedure
    .input(FlavorId)
    .query(async ({ ctx, input }) => (await listFlavorAccess(ctx.auth, input.flavorId)).map((a) => a.projectId)),
  addAccess: protectedProcedure
    .input(ProjectAccess)
    .mutation(async ({ ctx, input }) =>
      (await addFlavorAccess(ctx.auth, input.flavorId, input.projectId)).map((a) => a.projectId),
    ),
  removeAccess: protectedProcedure
    .input(ProjectAccess)
    .mutation(async ({ ctx, input }) =>
      (await removeFlavorAccess(ctx.auth, input.flavorId, input.projectId)).map((a) => a.projectId),
    ),
});
