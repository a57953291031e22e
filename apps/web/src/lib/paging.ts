'use client';
import { useCallback, useState } from 'react';

/**
 * Marker paging for lists: the markers of the pages visited so far, so "previous"
 * goes back without the server keeping any state.
 */
export function useMarkerPaging() {
  const [markers, setMarkers] = useState<Array<string | undefined>>([undefined]);
  const marker = markers[markers.length - 1];
  const next = useCallback((m: string) => setMarkers((xs) => [...xs, m]), []);
  const previous = useCallback(() => setMarkers((xs) => (xs.length > 1 ? xs.slice(0, -1) : xs)), []);
  const reset = useCallback(() => setMarkers([undefined]), []);
  return { marker, page: markers.length, hasPrevious: markers.length > 1, next, previous, reset };
}
