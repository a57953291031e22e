import type { Metadata } from 'next';
import { HypervisorDetail } from './detail';

export const metadata: Metadata = { title: 'Hypervisor' };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <HypervisorDetail id={id} />;
}
