import { can } from '@stratus/core/identity/index';
import type { Metadata } from 'next';
import Link from 'next/link';
import { Forbidden } from '@/components/forbidden';
import { Icon } from '@/components/icons';
import { SystemStatus } from '@/components/system-status';
import { PageHeader } from '@/components/ui';
import { NAV } from '@/lib/nav';
import { currentAuth } from '@/server/auth';

export const metadata: Metadata = { title: 'Admin overview' };

export default async function AdminOverview() {
  const auth = await currentAuth();
  if (!auth || !can(auth, 'stratus:cloud_admin')) return <Forbidden what="the admin console" />;
  const admin = NAV.find((s) => s.id === 'admin')?.items.filter((i) => i.href !== '/admin') ?? [];
  return (
    <>
      <PageHeader title="Admin overview" description="The health of this cloud and the operator panels." />
      <SystemStatus />
      <div className="mt-6 grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
        {admin.map((i) => (
          <Link
            key={i.href}
            href={i.href}
            className="group rounded-xl border border-slate-200 bg-white p-4 transition hover:border-sky-300 hover:shadow-sm dark:border-slate-800 dark:bg-slate-900 dark:hover:border-sky-700"
          >
            <div className="flex items-center gap-2 font-medium">
              <Icon name={i.icon} className="size-4 text-slate-400 group-hover:text-sky-600" /> {i.label}
            </div>
            <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">{i.about}</p>
          </Link>
        ))}
      </div>
    </>
  );
}
