import type { Metadata } from 'next';
import { ContainersPanel } from '@/components/objectstore/containers';

export const metadata: Metadata = { title: 'Object Store' };

export default function Page() {
  return <ContainersPanel />;
}
