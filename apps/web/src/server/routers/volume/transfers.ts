import {
  acceptVolumeTransfer,
  createVolumeTransfer,
  deleteVolumeTransfer,
  listVolumeTransfers,
  type TransferView,
} from '@stratus/core';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const shape = (t: TransferView) => ({
  id: t.id,
  volumeId: t.volumeId,
  name: t.name,
  createdAt: t.createdAt.toISOString(),
});

export const transfersRouter = router({
  list: protectedProcedure.query(async ({ ctx }) => (await listVolumeTransfers(ctx.auth)).map(shape)),
  /** The only answer that carries the auth key: core keeps its salted hash, never the key. */
  create: protectedProcedure
    .input(z.object({ volumeId: z.string().min(1), name: z.string().max(255).optional() }))
    .mutation(async ({ ctx, input }) => {
      const t = await createVolumeTransfer(ctx.auth, input);
      return { ...shape(t), authKey: t.authKey };
    }),
  accept: protectedProcedure
    .input(z.object({ transferId: z.string().trim().min(1), authKey: z.string().trim().min(1).max(255) }))
    .mutation(({ ctx, input }) => acceptVolumeTransfer(ctx.auth, input.transferId, input.authKey)),
  delete: protectedProcedure
    .input(z.object({ transferId: z.string().min(1) }))
    .mutation(({ ctx, input }) => deleteVolumeTransfer(ctx.auth, input.transferId)),
});
