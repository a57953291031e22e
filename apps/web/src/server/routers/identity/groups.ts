import type { User } from '@stratus/core/identity/index';
import {
  addUserToGroup,
  createGroup,
  deleteGroup,
  getGroup,
  listGroups,
  listGroupUsers,
  removeUserFromGroup,
  updateGroup,
} from '@stratus/core/identity/index';
import { CreateGroupInput, ListGroupsInput, UpdateGroupInput } from '@stratus/core/identity/groups';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const GroupId = z.object({ groupId: z.string().min(1) });
const Membership = z.object({ groupId: z.string().min(1), userId: z.string().min(1) });
const member = (u: User) => ({ id: u.id, name: u.name, domainId: u.domainId, enabled: u.enabled });

export const groupsRouter = router({
  list: protectedProcedure.input(ListGroupsInput).query(({ ctx, input }) => listGroups(ctx.auth, input)),
  get: protectedProcedure.input(GroupId).query(({ ctx, input }) => getGroup(ctx.auth, input)),
  create: protectedProcedure.input(CreateGroupInput).mutation(({ ctx, input }) => createGroup(ctx.auth, input)),
  update: protectedProcedure.input(UpdateGroupInput).mutation(({ ctx, input }) => updateGroup(ctx.auth, input)),
  delete: protectedProcedure.input(GroupId).mutation(({ ctx, input }) => deleteGroup(ctx.auth, input)),
  members: protectedProcedure
    .input(GroupId)
    .query(async ({ ctx, input }) => (await listGroupUsers(ctx.auth, input)).map(member)),
  addMember: protectedProcedure.input(Membership).mutation(({ ctx, input }) => addUserToGroup(ctx.auth, input)),
  removeMember: protectedProcedure.input(Membership).mutation(({ ctx, input }) => removeUserFromGroup(ctx.auth, input)),
});
