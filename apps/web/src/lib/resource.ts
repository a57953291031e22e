'use client';
import { keepPreviousData, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useMarkerPaging } from './paging';

export const PAGE_SIZE = 20;

/** Filter + marker paging state of a list panel, and the list input it implies. */
export function useListState() {
  const [name, setName] = useState('');
  const paging = useMarkerPaging();
  const input = { name: name || undefined, marker: paging.marker, limit: PAGE_SIZE };
  const filter = {
    value: name,
    onChange: (v: string) => {
      setName(v);
      paging.reset();
    },
  };
  return { input, filter, paging, keep: { placeholderData: keepPreviousData } };
}

/** Invalidates every cached query under a tRPC path key (e.g. trpc.identity.projects.pathKey()). */
export function useInvalidate() {
  const qc = useQueryClient();
  return (...keys: ReadonlyArray<readonly unknown[]>) =>
    Promise.all(keys.map((queryKey) => qc.invalidateQueries({ queryKey })));
}
