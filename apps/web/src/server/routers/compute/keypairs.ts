import { createKeyPair, deleteKeyPair, type KeyPair, listKeyPairs } from '@stratus/core/compute/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const shape = (k: KeyPair) => ({
  id: k.id,
  name: k.name,
  publicKey: k.publicKey,
  fingerprint: k.fingerprint,
  type: k.type,
  createdAt: k.createdAt.toISOString(),
  // Only present in the answer that generated the key: shown once, never stored.
  privateKey: k.privateKey ?? null,
});

export const keypairsRouter = router({
  list: protectedProcedure.query(async ({ ctx }) => (await listKeyPairs(ctx.auth)).map(shape)),
  /** Without a public key, core generates the pair and returns the private key this once. */
  create: protectedProcedure
    .input(z.object({ name: z.string().min(1).max(255), publicKey: z.string().max(16384).optional() }))
    .mutation(async ({ ctx, input }) => shape(await createKeyPair(ctx.auth, input))),
  delete: protectedProcedure
    .input(z.object({ name: z.string().min(1) }))
    .mutation(({ ctx, input }) => deleteKeyPair(ctx.auth, input.name)),
});
