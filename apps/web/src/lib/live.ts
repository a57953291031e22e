'use client';
import { type QueryClient, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { io, type Socket } from 'socket.io-client';

/** A live event as the web server relays it (see apps/web/src/server/live.ts). */
export interface LiveEvent {
  type: string;
  projectId: string | null;
  resourceId?: string;
  data: Record<string, unknown>;
  at?: string;
}

/**
 * Which cached tRPC queries an event makes stale, by the event type's first word
 * (`project.updated` → identity.projects.*). Services add their resources here.
 */
const INVALIDATES: Record<string, string[][]> = {
  domain: [['identity', 'domains']],
  project: [
    ['identity', 'projects'],
    ['identity', 'session', 'projects'],
  ],
  user: [
    ['identity', 'users'],
    ['identity', 'groups', 'members'],
  ],
  group: [['identity', 'groups']],
  role: [
    ['identity', 'roles'],
    ['identity', 'assignments'],
  ],
  role_assignment: [
    ['identity', 'assignments'],
    ['identity', 'session'],
  ],
  assignment: [
    ['identity', 'assignments'],
    ['identity', 'session'],
  ],
  // Compute: every task_state change emits server.updated, so the list, the detail page,
  // its action timeline and the quota gauges follow the worker without polling.
  server: [
    ['compute', 'servers'],
    ['compute', 'limits'],
    ['compute', 'serverGroups'],
    ['network', 'topology'],
    ['network', 'floatingIps', 'targets'],
    ['admin', 'instances'],
    ['admin', 'hypervisors'],
    ['admin', 'projectQuotas'],
  ],
  image: [['image', 'images']],
  // Block storage: core and the volume worker emit volume.*, snapshot.*, backup.* with every
  // status and progress change; the Volumes, Snapshots and Backups panels follow them.
  volume: [['volume'], ['admin', 'projectQuotas']],
  snapshot: [['volume'], ['admin', 'projectQuotas']],
  backup: [['volume'], ['admin', 'projectQuotas']],
  // Networking: core emits <kind>.created|updated|deleted with every change and the agent
  // port/network/floatingip status changes; the panels and the topology follow them.
  network: [['network'], ['admin', 'projectQuotas']],
  subnet: [['network'], ['admin', 'projectQuotas']],
  port: [['network'], ['compute', 'servers'], ['admin', 'projectQuotas']],
  router: [['network'], ['admin', 'projectQuotas']],
  floatingip: [['network'], ['compute', 'servers'], ['admin', 'projectQuotas']],
  security_group: [
    ['network', 'securityGroups'],
    ['admin', 'projectQuotas'],
  ],
  security_group_rule: [
    ['network', 'securityGroups'],
    ['admin', 'projectQuotas'],
  ],
  keypair: [
    ['compute', 'keypairs'],
    ['admin', 'projectQuotas'],
  ],
  flavor: [
    ['compute', 'flavors'],
    ['admin', 'flavors'],
  ],
  // Admin panels: a compute node registered or changed, a worker (re)started.
  hypervisor: [['admin', 'hypervisors']],
  aggregate: [
    ['admin', 'aggregates'],
    ['admin', 'services'],
  ],
  service: [
    ['admin', 'services'],
    ['admin', 'hypervisors'],
  ],
  // Tokens were revoked (role removed, user or project disabled): re-ask what we may do;
  // if it was our own token, that request answers 401 and the client goes to sign in.
  revocation: [['identity', 'session']],
};

function startsWith(key: readonly unknown[], path: string[]): boolean {
  const head = key[0];
  return Array.isArray(head) && path.every((p, i) => head[i] === p);
}

export function invalidateFor(qc: QueryClient, e: LiveEvent): void {
  const kind = e.type.replace(/^identity\./, '').split('.')[0] ?? '';
  const paths = INVALIDATES[kind];
  if (!paths) return;
  void qc.invalidateQueries({ predicate: (q) => paths.some((p) => startsWith(q.queryKey, p)) });
}

export type LiveState = 'connecting' | 'live' | 'offline';

/** Connects socket.io with the session's Keystone token; events invalidate matching queries. */
export function useLiveEvents(token: string | null): LiveState {
  const qc = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');
  useEffect(() => {
    if (!token) return;
    const socket: Socket = io({ path: '/socket.io', auth: { token }, transports: ['websocket', 'polling'] });
    setState('connecting');
    socket.on('connect', () => setState('live'));
    socket.on('disconnect', () => setState('offline'));
    // A refused handshake (token not accepted) does not retry on its own; queries still refresh on focus.
    socket.on('connect_error', () => setState('offline'));
    socket.on('event', (e: LiveEvent) => invalidateFor(qc, e));
    return () => {
      socket.close();
    };
  }, [token, qc]);
  return state;
}
