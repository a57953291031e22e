import { emitEvent, type EventListener, listenEvents, type Tx } from '@stratus/db';
import { logger } from '../platform/log.ts';
import { runtime } from '../platform/runtime.ts';
import { cfg, db } from './store.ts';

/*
 * Token revocation, effective at once in every process. Events are rows in
 * PostgreSQL; each process keeps them in memory as "key → revoked-before time" and
 * learns new ones by NOTIFY (plus a 2 s poll as a safety net). The process that
 * revokes applies its event before returning, and while the NOTIFY connection is down
 * every check reads the table, so a revoked token is never accepted from stale memory.
 */
export interface RevocationFields {
  auditId?: string;
  userId?: string;
  projectId?: string;
  domainId?: string;
  roleId?: string;
  appCredId?: string;
}

export interface TokenFacts {
  auditIds: string[];
  userId: string;
  projectId: string | null;
  domainIds: string[];
  roleIds: string[];
  appCredId: string | null;
  /** ms since epoch */
  issuedAt: number;
}

export const REVOCATION_EVENT = 'identity.revocation';

function keyOf(e: RevocationFields): string | null {
  if (e.auditId) return `a:${e.auditId}`;
  if (e.userId && e.projectId) return `up:${e.userId}:${e.projectId}`;
  if (e.userId) return `u:${e.userId}`;
  if (e.projectId) return `p:${e.projectId}`;
  if (e.domainId) return `d:${e.domainId}`;
  if (e.roleId) return `r:${e.roleId}`;
  if (e.appCredId) return `ac:${e.appCredId}`;
  return null;
}

class RevocationIndex {
  private byKey = new Map<string, number>();
  maxId = 0n;
  add(e: RevocationFields & { id: bigint; issuedBefore: Date }): void {
    const k = keyOf(e);
    if (k) this.byKey.set(k, Math.max(this.byKey.get(k) ?? 0, e.issuedBefore.getTime()));
    if (e.id > this.maxId) this.maxId = e.id;
  }
  private hit(k: string, iat: number): boolean {
    const v = this.byKey.get(k);
    return v !== undefined && iat <= v;
  }
  isRevoked(t: TokenFacts): boolean {
    const iat = t.issuedAt;
    if (t.auditIds.some((a) => this.hit(`a:${a}`, iat))) return true;
    if (this.hit(`u:${t.userId}`, iat)) return true;
    if (t.projectId && (this.hit(`p:${t.projectId}`, iat) || this.hit(`up:${t.userId}:${t.projectId}`, iat)))
      return true;
    if (t.domainIds.some((d) => this.hit(`d:${d}`, iat))) return true;
    if (t.roleIds.some((r) => this.hit(`r:${r}`, iat))) return true;
    return t.appCredId !== null && this.hit(`ac:${t.appCredId}`, iat);
  }
  /** Forget events older than any token that could still be valid. */
  prune(before: number): void {
    for (const [k, v] of this.byKey) if (v < before) this.byKey.delete(k);
  }
  get size(): number {
    return this.byKey.size;
  }
}

interface State {
  index: RevocationIndex;
  listener?: EventListener;
  /** NOTIFY connection believed healthy. */
  live: boolean;
  refreshing?: Promise<void>;
  timer?: NodeJS.Timeout;
  lastPrune: number;
}
let state: State | undefined;
let starting: Promise<State> | undefined;

function maxLifetimeMs(): number {
  return (cfg().tokenLifetimeSeconds + 3600) * 1000;
}

async function refresh(s: State): Promise<void> {
  s.refreshing ??= (async () => {
    try {
      const rows = await db().revocationEvent.findMany({
        where: { id: { gt: s.index.maxId } },
        orderBy: { id: 'asc' },
      });
      for (const r of rows) s.index.add(toFields(r));
      const now = Date.now();
      if (now - s.lastPrune > 600_000) {
        s.lastPrune = now;
        s.index.prune(now - maxLifetimeMs());
        // The database's clock, not this process's: hosts may disagree by a little.
        await db().$executeRaw`DELETE FROM "RevocationEvent" WHERE "expiresAt" < now()`;
      }
    } finally {
      s.refreshing = undefined;
    }
  })();
  return s.refreshing;
}

/** A read that starts after the caller's point in time (not a join onto an older one). */
async function freshRefresh(s: State): Promise<void> {
  if (s.refreshing) await s.refreshing.catch(() => {});
  await refresh(s);
}

function toFields(r: {
  id: bigint;
  auditId: string | null;
  userId: string | null;
  projectId: string | null;
  domainId: string | null;
  roleId: string | null;
  appCredId: string | null;
  issuedBefore: Date;
}) {
  return {
    id: r.id,
    issuedBefore: r.issuedBefore,
    ...(r.auditId ? { auditId: r.auditId } : {}),
    ...(r.userId ? { userId: r.userId } : {}),
    ...(r.projectId ? { projectId: r.projectId } : {}),
    ...(r.domainId ? { domainId: r.domainId } : {}),
    ...(r.roleId ? { roleId: r.roleId } : {}),
    ...(r.appCredId ? { appCredId: r.appCredId } : {}),
  };
}

type Subscriber = { type: string; fn: () => void };
const subscribers: Subscriber[] = [];

/**
 * Runs `fn` when an event of `type` arrives from any process, and also whenever the
 * event connection was (or may have been) interrupted, since events can be lost then.
 * Caches built on this must not be trusted while `eventsLive()` is false.
 */
export function onIdentityEvent(type: string, fn: () => void): void {
  subscribers.push({ type, fn });
}

/** Whether the NOTIFY connection is believed healthy (caches may rely on invalidation events). */
export function eventsLive(): boolean {
  return state?.live ?? false;
}

function setLive(s: State, live: boolean): void {
  if (s.live === live) return;
  s.live = live;
  for (const sub of subscribers) sub.fn();
}

/** Starts the event listener if it is not running yet (revocation and cache invalidation share it). */
export async function ensureIdentityListener(): Promise<void> {
  await getState();
}

async function start(): Promise<State> {
  const s: State = { index: new RevocationIndex(), live: false, lastPrune: Date.now() };
  await refresh(s);
  try {
    s.listener = await listenEvents(
      runtime().databaseUrl,
      (e) => {
        // Any event proves the connection works again; what was missed meanwhile is read back.
        const wasLive = s.live;
        setLive(s, true);
        if (e.type === REVOCATION_EVENT || !wasLive) {
          void refresh(s).catch((err: unknown) => logger().warn({ err }, 'revocation refresh failed'));
        }
        for (const sub of subscribers) if (sub.type === e.type) sub.fn();
      },
      (err) => {
        // Until the next notification proves the connection is back, read the table on every check.
        setLive(s, false);
        logger().warn({ err }, 'revocation listener lost its connection');
      },
    );
    setLive(s, true);
  } catch (err) {
    logger().warn({ err }, 'revocation listener unavailable; checking the database on every validation');
  }
  s.timer = setInterval(() => {
    void refresh(s).catch(() => {});
  }, 2000);
  s.timer.unref();
  // Catch events written between the first read and LISTEN.
  await refresh(s);
  return s;
}

async function getState(): Promise<State> {
  if (state) return state;
  starting ??= start().then((s) => {
    state = s;
    return s;
  });
  return starting;
}

/** Is a token with these facts revoked? Memory only while NOTIFY is healthy. */
export async function isRevoked(t: TokenFacts): Promise<boolean> {
  const s = await getState();
  if (!s.live) await freshRefresh(s);
  return s.index.isRevoked(t);
}

/** Writes revocation events (in the caller's transaction when given) and applies them here. */
export async function recordRevocations(events: RevocationFields[], tx?: Tx): Promise<void> {
  if (events.length === 0) return;
  const now = new Date();
  const expiresAt = new Date(now.getTime() + maxLifetimeMs());
  const write = async (t: Tx) => {
    await t.revocationEvent.createMany({ data: events.map((e) => ({ ...e, issuedBefore: now, expiresAt })) });
    await emitEvent(t, { type: REVOCATION_EVENT, projectId: null, data: {} });
  };
  if (tx) await write(tx);
  else await db().$transaction(write);
  if (!tx) await afterRevocationCommit();
}

/** Call after committing a transaction given to recordRevocations. */
export async function afterRevocationCommit(): Promise<void> {
  const s = await getState();
  await freshRefresh(s);
}

/** For tests and shutdown. */
export async function stopRevocationListener(): Promise<void> {
  const s = state;
  state = undefined;
  starting = undefined;
  if (s?.timer) clearInterval(s.timer);
  await s?.listener?.close();
}
