import { can } from '@stratus/core/identity/index';
import type { ReactNode } from 'react';
import { Forbidden } from '@/components/forbidden';
import { currentAuth } from '@/server/auth';

/**
 * Every /admin page is for cloud admins: others get the forbidden page instead of a
 * panel full of refused calls. Core still enforces each call's own policy.
 */
export default async function AdminLayout({ children }: { children: ReactNode }) {
  const auth = await currentAuth();
  if (!auth || !can(auth, 'stratus:cloud_admin')) return <Forbidden what="the admin console" />;
  return children;
}
