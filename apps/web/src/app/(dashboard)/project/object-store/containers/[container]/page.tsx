import type { Metadata } from 'next';
import { ContainerBrowser } from '@/components/objectstore/browser';
import { normalizeFolder } from '@/components/objectstore/paths';

export const metadata: Metadata = { title: 'Container' };

/** /project/object-store/containers/<container>?path=<folder/> */
export default async function Page({
  params,
  searchParams,
}: {
  params: Promise<{ container: string }>;
  searchParams: Promise<{ path?: string | string[] }>;
}) {
  const { container } = await params;
  const sp = await searchParams;
  const path = normalizeFolder(Array.isArray(sp.path) ? sp.path[0] : sp.path);
  const name = decodeSegment(container);
  // A new folder or container is a new browser: filter and paging start over.
  return <ContainerBrowser key={`${name}\u0000${path}`} container={name} path={path} />;
}

/** Next hands dynamic segments over still percent-encoded in some versions; decode once, safely. */
function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
