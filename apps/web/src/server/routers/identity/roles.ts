import { createRole, deleteRole, getRole, listRoles, updateRole } from '@stratus/core/identity/index';
import { CreateRoleInput, ListRolesInput, UpdateRoleInput } from '@stratus/core/identity/roles';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const RoleId = z.object({ roleId: z.string().min(1) });

export const rolesRouter = router({
  list: protectedProcedure.input(ListRolesInput).query(({ ctx, input }) => listRoles(ctx.auth, input)),
  get: protectedProcedure.input(RoleId).query(({ ctx, input }) => getRole(ctx.auth, input)),
  create: protectedProcedure.input(CreateRoleInput).mutation(({ ctx, input }) => createRole(ctx.auth, input)),
  update: protectedProcedure.input(UpdateRoleInput).mutation(({ ctx, input }) => updateRole(ctx.auth, input)),
  delete: protectedProcedure.input(RoleId).mutation(({ ctx, input }) => deleteRole(ctx.auth, input)),
});
