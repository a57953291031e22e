import type { Metadata } from 'next';
import { ProjectsPanel } from './panel';

export const metadata: Metadata = { title: 'Projects' };

export default function Page() {
  return <ProjectsPanel />;
}
