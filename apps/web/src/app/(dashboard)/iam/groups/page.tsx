import type { Metadata } from 'next';
import { GroupsPanel } from './panel';

export const metadata: Metadata = { title: 'Groups' };

export default function Page() {
  return <GroupsPanel />;
}
