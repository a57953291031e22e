import type { Metadata } from 'next';
import { AssignmentsPanel } from './panel';

export const metadata: Metadata = { title: 'Role assignments' };

export default function Page() {
  return <AssignmentsPanel />;
}
