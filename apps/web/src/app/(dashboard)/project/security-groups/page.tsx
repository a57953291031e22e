import type { Metadata } from 'next';
import { SecurityGroupsPanel } from './panel';

export const metadata: Metadata = { title: 'Security Groups' };

export default function Page() {
  return <SecurityGroupsPanel />;
}
