import type { Metadata } from 'next';
import { ImageDetail } from './detail';

export const metadata: Metadata = { title: 'Image' };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <ImageDetail id={id} />;
}
