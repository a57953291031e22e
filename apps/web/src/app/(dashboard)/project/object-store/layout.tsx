import type { ReactNode } from 'react';
import { UploadsProvider } from '@/components/objectstore/upload';

/** Uploads outlive a page of the object store: they go on while the user browses. */
export default function ObjectStoreLayout({ children }: { children: ReactNode }) {
  return <UploadsProvider>{children}</UploadsProvider>;
}
