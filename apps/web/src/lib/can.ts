'use client';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from './trpc';

/** Whether the caller may perform each action (policy from core), to show or hide controls. */
export function useCan<A extends string>(actions: readonly A[]): Record<A, boolean> {
  const trpc = useTRPC();
  const { data } = useQuery({
    ...trpc.identity.session.can.queryOptions({ actions: [...actions] }),
    staleTime: 60_000,
  });
  return Object.fromEntries(actions.map((a) => [a, data?.[a] ?? false])) as Record<A, boolean>;
}
