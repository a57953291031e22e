import type { User } from '@stratus/core/identity/index';
import { createUser, deleteUser, getUser, listUsers, updateUser } from '@stratus/core/identity/index';
import { CreateUserInput, ListUsersInput, UpdateUserInput } from '@stratus/core/identity/users';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const UserId = z.object({ userId: z.string().min(1) });

/** Dates travel as ISO strings (no transformer on the wire). */
const shape = (u: User) => ({ ...u, passwordExpiresAt: u.passwordExpiresAt?.toISOString() ?? null });

export const usersRouter = router({
  list: protectedProcedure.input(ListUsersInput).query(async ({ ctx, input }) => {
    const page = await listUsers(ctx.auth, input);
    return { items: page.items.map(shape), next: page.next };
  }),
  get: protectedProcedure.input(UserId).query(async ({ ctx, input }) => shape(await getUser(ctx.auth, input))),
  create: protectedProcedure
    .input(CreateUserInput)
    .mutation(async ({ ctx, input }) => shape(await createUser(ctx.auth, input))),
  update: protectedProcedure
    .input(UpdateUserInput)
    .mutation(async ({ ctx, input }) => shape(await updateUser(ctx.auth, input))),
  delete: protectedProcedure.input(UserId).mutation(({ ctx, input }) => deleteUser(ctx.auth, input)),
});
