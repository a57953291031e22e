import type { Metadata } from 'next';
import { NetworkDetail } from './detail';

export const metadata: Metadata = { title: 'Network' };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <NetworkDetail id={id} />;
}
