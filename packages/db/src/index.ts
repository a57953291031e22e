export { getPrisma, getPgPool, closePrisma, type PrismaClient, type Tx } from './client.ts';
export * from './generated/prisma/client.ts';
export { startEmbeddedPostgres, type EmbeddedHandle } from './embedded.ts';
export {
  enqueue,
  releaseHostLocks,
  startQueueWorker,
  listFailedJobs,
  getJob,
  taskName,
  type EnqueueOptions,
  type JobRow,
} from './queue.ts';
export { emitEvent, listenEvents, StratusEvent, EVENT_CHANNEL, type EventListener } from './events.ts';
