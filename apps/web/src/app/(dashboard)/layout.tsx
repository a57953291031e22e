import { can, listUserProjects } from '@stratus/core/identity/index';
import type { ReactNode } from 'react';
import { RedirectToLogin } from '@/components/redirect-to-login';
import { Shell } from '@/components/shell';
import { NAV } from '@/lib/nav';
import { currentAuth } from '@/server/auth';

export const dynamic = 'force-dynamic';

export default async function DashboardLayout({ children }: { children: ReactNode }) {
  const auth = await currentAuth();
  if (!auth) return <RedirectToLogin />;
  // Sections the caller's policy allows; core enforces on every call regardless.
  const nav = NAV.map((s) => ({ ...s, items: s.items.filter((i) => !i.action || can(auth, i.action)) })).filter(
    (s) => s.items.length > 0,
  );
  const projects = (await listUserProjects(auth)).map((p) => ({ id: p.id, name: p.name }));
  return (
    <Shell
      nav={nav}
      user={{ id: auth.userId, name: auth.userName }}
      project={auth.projectId ? { id: auth.projectId, name: auth.projectName ?? auth.projectId } : null}
      projects={projects}
      tokenId={auth.tokenId}
    >
      {children}
    </Shell>
  );
}
