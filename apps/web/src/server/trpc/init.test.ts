import { conflict, forbidden, notFound } from '@stratus/core/platform/errors';
import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { AuthContext } from '@stratus/core/identity/index';
import { createCallerFactory, protectedProcedure, publicProcedure, router } from './init';

const testRouter = router({
  fails: publicProcedure
    .input(z.object({ code: z.enum(['conflict', 'forbidden', 'notFound', 'bug']) }))
    .query(({ input }) => {
      if (input.code === 'conflict') throw conflict('Duplicate entry found with name demo.');
      if (input.code === 'forbidden') throw forbidden();
      if (input.code === 'notFound') throw notFound('Could not find project: x.');
      throw new Error('secret database detail');
    }),
  named: publicProcedure.input(z.object({ name: z.string().min(1) })).mutation(() => 'ok'),
  whoami: protectedProcedure.query(({ ctx }) => ctx.auth.userName),
});
const caller = (auth: AuthContext | null = null) => createCallerFactory(testRouter)({ auth });

async function errorOf(p: Promise<unknown>): Promise<TRPCError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  if (!(e instanceof TRPCError)) throw new Error(`expected a TRPCError, got ${String(e)}`);
  return e;
}

describe('tRPC error mapping', () => {
  it('maps core error codes to tRPC codes and keeps the message', async () => {
    const c = caller();
    const conflictErr = await errorOf(c.fails({ code: 'conflict' }));
    expect(conflictErr.code).toBe('CONFLICT');
    expect(conflictErr.message).toBe('Duplicate entry found with name demo.');
    expect((await errorOf(c.fails({ code: 'forbidden' }))).code).toBe('FORBIDDEN');
    expect((await errorOf(c.fails({ code: 'notFound' }))).code).toBe('NOT_FOUND');
  });

  it('keeps unexpected errors internal', async () => {
    expect((await errorOf(caller().fails({ code: 'bug' }))).code).toBe('INTERNAL_SERVER_ERROR');
  });

  it('rejects invalid input as BAD_REQUEST', async () => {
    expect((await errorOf(caller().named({ name: '' }))).code).toBe('BAD_REQUEST');
  });

  it('refuses protected procedures without a session', async () => {
    expect((await errorOf(caller().whoami())).code).toBe('UNAUTHORIZED');
    const auth: AuthContext = {
      userId: 'u',
      userName: 'alice',
      domainId: 'default',
      projectId: 'p',
      projectName: 'demo',
      domainScopeId: null,
      system: false,
      roles: ['member'],
      tokenId: 't',
      auditId: 'a',
      expiresAt: new Date(Date.now() + 60_000),
      methods: ['password'],
    };
    expect(await caller(auth).whoami()).toBe('alice');
  });
});
