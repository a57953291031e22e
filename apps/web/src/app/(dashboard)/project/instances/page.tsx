import type { Metadata } from 'next';
import { Suspense } from 'react';
import { InstancesPanel } from './panel';

export const metadata: Metadata = { title: 'Instances' };

export default function Page() {
  return (
    <Suspense>
      <InstancesPanel />
    </Suspense>
  );
}
