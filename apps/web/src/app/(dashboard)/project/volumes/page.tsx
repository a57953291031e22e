import type { Metadata } from 'next';
import { VolumesPanel } from './panel';

export const metadata: Metadata = { title: 'Volumes' };

export default function Page() {
  return <VolumesPanel />;
}
