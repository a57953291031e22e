'use client';
import { useMutation } from '@tanstack/react-query';
import { useCallback, useRef, useState } from 'react';
import { QUIET, useTRPC } from '@/lib/trpc';
import { useToast } from '../toast';

/**
 * Deletes every object under a prefix (a folder, or '' for a whole container) in rounds of
 * 1,000 through bulk delete, counting as it goes; stops at the first error.
 */
export function useDeleteUnder() {
  const trpc = useTRPC();
  const toast = useToast();
  const del = useMutation(trpc.objectStore.objects.deleteUnder.mutationOptions(QUIET));
  const [progress, setProgress] = useState<number | null>(null);
  const [busy, setBusy] = useState(false);
  const stopped = useRef(false);

  const run = useCallback(
    async (container: string, prefix: string): Promise<boolean> => {
      stopped.current = false;
      setBusy(true);
      setProgress(0);
      let total = 0;
      try {
        for (;;) {
          const r = await del.mutateAsync({ container, prefix, max: 1000 });
          total += r.deleted;
          setProgress(total);
          if (r.errors.length) {
            toast.error(
              `Could not delete ${r.errors.length} object${r.errors.length === 1 ? '' : 's'}`,
              r.errors
                .slice(0, 3)
                .map((e) => `${e.name}: ${e.status}`)
                .join('; '),
            );
            return false;
          }
          if (!r.more || stopped.current) return !stopped.current;
          if (r.deleted === 0 && r.notFound === 0) return false;
        }
      } catch (e) {
        toast.error('Could not delete the objects', e instanceof Error ? e.message : String(e));
        return false;
      } finally {
        setBusy(false);
        setProgress(null);
      }
    },
    [del, toast],
  );

  const stop = useCallback(() => {
    stopped.current = true;
  }, []);

  return { run, stop, busy, progress };
}
