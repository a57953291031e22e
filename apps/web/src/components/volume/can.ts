'use client';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/lib/trpc';

/**
 * Whether the caller may take each block-storage action in their project. Cinder's rules
 * are project-scoped, so this asks `volume.can` (target: the caller's project) rather than
 * the session's target-less check, which only an admin would pass.
 */
export function useVolumeCan<A extends string>(actions: readonly A[]): Record<A, boolean> {
  const trpc = useTRPC();
  const { data } = useQuery({
    ...trpc.volume.can.queryOptions({ actions: [...actions] }),
    staleTime: 60_000,
  });
  return Object.fromEntries(actions.map((a) => [a, data?.[a] ?? false])) as Record<A, boolean>;
}
