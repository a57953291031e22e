import { assignRole, listRoleAssignments, unassignRole } from '@stratus/core/identity/index';
import { GrantInput, ListAssignmentsInput } from '@stratus/core/identity/assignments';
import { protectedProcedure, router } from '../../trpc/init';

export const assignmentsRouter = router({
  list: protectedProcedure
    .input(ListAssignmentsInput)
    .query(({ ctx, input }) => listRoleAssignments(ctx.auth, { ...input, includeNames: true })),
  assign: protectedProcedure.input(GrantInput).mutation(({ ctx, input }) => assignRole(ctx.auth, input)),
  unassign: protectedProcedure.input(GrantInput).mutation(({ ctx, input }) => unassignRole(ctx.auth, input)),
});
