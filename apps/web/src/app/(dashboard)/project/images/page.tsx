import type { Metadata } from 'next';
import { ImagesPanel } from './panel';

export const metadata: Metadata = { title: 'Images' };

export default function Page() {
  return <ImagesPanel />;
}
