import type { Metadata } from 'next';
import { SecurityGroupDetail } from './detail';

export const metadata: Metadata = { title: 'Security Group' };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <SecurityGroupDetail id={id} />;
}
