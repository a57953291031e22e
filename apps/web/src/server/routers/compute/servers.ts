import {
  createServers,
  deleteServer,
  getConsoleOutput,
  getInstanceAction,
  type InstanceActionView,
  listInstanceActions,
  listServersWithAddresses,
  type Server,
  ServerCreate,
  type ServerWithAddresses,
  serverPowerAction,
  showServer,
  updateServerAttrs,
} from '@stratus/core/compute/index';
import { z } from 'zod';
import { protectedProcedure, router } from '../../trpc/init';

const ServerId = z.object({ serverId: z.string().min(1) });
const iso = (d: Date | null) => d?.toISOString() ?? null;

type Address = { addr: string; version: number; type: string; network: string };

/** Dates travel as ISO strings; key material and user data stay on the server. */
const shape = (s: Server, addresses: Address[] = []) => ({
  id: s.id,
  name: s.name,
  projectId: s.projectId,
  userId: s.userId,
  flavor: s.flavor,
  imageId: s.imageId,
  keyName: s.keyName,
  metadata: s.metadata,
  availabilityZone: s.availabilityZone,
  host: s.host,
  vmState: s.vmState,
  taskState: s.taskState,
  powerState: s.powerState,
  status: s.status,
  locked: s.locked,
  lockedReason: s.lockedReason,
  fault: s.fault,
  serverGroupId: s.serverGroupId,
  addresses,
  launchedAt: iso(s.launchedAt),
  createdAt: s.createdAt.toISOString(),
  updatedAt: s.updatedAt.toISOString(),
});

/** Nova's address map flattened for the table: one entry per IP with its network. */
const flatAddresses = (s: ServerWithAddresses): Address[] =>
  Object.entries(s.addresses).flatMap(([network, list]) =>
    list.map((a) => ({ addr: a.addr, version: a.version, type: a['OS-EXT-IPS:type'], network })),
  );

const shapeAction = (a: InstanceActionView) => ({
  id: a.id,
  action: a.action,
  requestId: a.requestId,
  userId: a.userId,
  startTime: a.startTime.toISOString(),
  finishTime: iso(a.finishTime),
  message: a.message,
  events: (a.events ?? []).map((e) => ({
    event: e.event,
    startTime: e.startTime.toISOString(),
    finishTime: iso(e.finishTime),
    result: e.result,
    details: e.details,
    host: e.host ?? null,
    traceback: e.traceback ?? null,
  })),
});

export const ListServersInput = z.object({
  name: z.string().max(255).optional(),
  status: z.string().max(32).optional(),
  marker: z.string().optional(),
  limit: z.number().int().min(1).max(200).default(20),
});

const POWER_OPS = ['stop', 'start', 'reboot_soft', 'reboot_hard', 'pause', 'unpause', 'suspend', 'resume'] as const;

/** A literal name filter: core takes Nova's regular expression. */
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const serversRouter = router({
  list: protectedProcedure.input(ListServersInput).query(async ({ ctx, input }) => {
    // One extra row tells whether there is a next page.
    const rows = await listServersWithAddresses(ctx.auth, {
      detail: true,
      name: input.name ? escapeRe(input.name) : undefined,
      status: input.status,
      marker: input.marker,
      limit: input.limit + 1,
    });
    const page = rows.slice(0, input.limit);
    return {
      items: page.map((s) => shape(s, flatAddresses(s))),
      next: rows.length > input.limit ? (page.at(-1)?.id ?? null) : null,
    };
  }),
  get: protectedProcedure.input(ServerId).query(async ({ ctx, input }) => {
    const s = await showServer(ctx.auth, input.serverId);
    return shape(s, flatAddresses(s));
  }),
  create: protectedProcedure.input(ServerCreate).mutation(async ({ ctx, input }) => {
    const r = await createServers(ctx.auth, input);
    return { reservationId: r.reservationId, servers: r.servers.map((s) => shape(s)) };
  }),
  update: protectedProcedure
    .input(ServerId.extend({ name: z.string().min(1).max(255) }))
    .mutation(async ({ ctx, input }) => {
      const s = await updateServerAttrs(ctx.auth, input.serverId, { name: input.name });
      return shape(s, flatAddresses(s));
    }),
  delete: protectedProcedure.input(ServerId).mutation(({ ctx, input }) => deleteServer(ctx.auth, input.serverId)),
  action: protectedProcedure
    .input(ServerId.extend({ op: z.enum(POWER_OPS) }))
    .mutation(({ ctx, input }) => serverPowerAction(ctx.auth, input.serverId, input.op)),
  /** The instance's action log, newest first, without events. */
  actions: protectedProcedure
    .input(ServerId)
    .query(async ({ ctx, input }) => (await listInstanceActions(ctx.auth, input.serverId)).map(shapeAction)),
  /** One action with its events (the task timeline). */
  actionEvents: protectedProcedure
    .input(ServerId.extend({ requestId: z.string().min(1) }))
    .query(async ({ ctx, input }) => shapeAction(await getInstanceAction(ctx.auth, input.serverId, input.requestId))),
  consoleOutput: protectedProcedure
    .input(ServerId.extend({ length: z.number().int().min(1).max(100000).optional() }))
    .query(async ({ ctx, input }) => ({ output: await getConsoleOutput(ctx.auth, input.serverId, input.length) })),
});
