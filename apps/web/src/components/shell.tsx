'use client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { signOut, useSession } from 'next-auth/react';
import { type ReactNode, useState, useTransition } from 'react';
import { useLiveEvents } from '@/lib/live';
import type { NavSection } from '@/lib/nav';
import { markSigningOut, useTRPC } from '@/lib/trpc';
import { Icon } from './icons';
import { Menu, MenuDivider, MenuItem, MenuLabel } from './menu';
import { ThemeToggle } from './theme';
import { useToast } from './toast';
import { Spinner } from './ui';

export interface ShellProps {
  nav: NavSection[];
  user: { id: string; name: string };
  project: { id: string; name: string } | null;
  projects: Array<{ id: string; name: string }>;
  tokenId: string;
  children: ReactNode;
}

/** The dashboard frame: side navigation, top bar (project switcher, user menu), content. */
export function Shell({ nav, user, project, projects, tokenId, children }: ShellProps) {
  const pathname = usePathname();
  // The drawer belongs to the page it was opened on: navigating closes it.
  const [navOpenOn, setNavOpenOn] = useState<string | null>(null);
  const navOpen = navOpenOn === pathname;
  const setNavOpen = (open: boolean) => setNavOpenOn(open ? pathname : null);
  const live = useLiveEvents(tokenId);

  return (
    <div className="min-h-screen lg:pl-64">
      {/* Small screens: the navigation slides in over the page. */}
      {navOpen && (
        <div
          className="fixed inset-0 z-30 bg-slate-950/40 lg:hidden"
          onClick={() => setNavOpen(false)}
          aria-hidden="true"
        />
      )}
      <aside
        className={`fixed inset-y-0 left-0 z-40 flex w-64 flex-col border-r border-slate-200 bg-white transition-transform dark:border-slate-800 dark:bg-slate-900 ${navOpen ? 'translate-x-0' : '-translate-x-full'} lg:translate-x-0`}
      >
        <div className="flex h-14 items-center justify-between px-5">
          <Link href="/project" className="flex items-center gap-2 font-semibold tracking-tight">
            <span className="grid size-7 place-items-center rounded-lg bg-gradient-to-br from-sky-500 to-indigo-600 text-white shadow-sm">
              <Icon name="cloud" className="size-4" />
            </span>
            Stratus
          </Link>
          <button
            type="button"
            className="rounded p-1 text-slate-500 lg:hidden"
            onClick={() => setNavOpen(false)}
            aria-label="Close navigation"
          >
            <Icon name="close" />
          </button>
        </div>
        <nav aria-label="Main navigation" className="flex-1 overflow-y-auto px-3 pb-6">
          {nav.map((s) => (
            <NavBlock key={s.id} section={s} pathname={pathname} />
          ))}
        </nav>
        <div className="flex items-center justify-between border-t border-slate-200 px-5 py-3 text-xs text-slate-500 dark:border-slate-800 dark:text-slate-400">
          <span
            className="flex items-center gap-1.5"
            title={
              live === 'live'
                ? 'Receiving live updates'
                : 'Live updates unavailable; lists refresh when you return to the tab'
            }
          >
            <span
              className={`size-2 rounded-full ${live === 'live' ? 'bg-emerald-500' : live === 'connecting' ? 'bg-amber-400' : 'bg-slate-400'}`}
            />
            {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Offline'}
          </span>
          {/* On phones the top bar has no room for it. */}
          <div className="sm:hidden">
            <ThemeToggle />
          </div>
        </div>
      </aside>

      <header className="sticky top-0 z-20 flex h-14 items-center gap-3 border-b border-slate-200 bg-white/80 px-4 backdrop-blur dark:border-slate-800 dark:bg-slate-950/80 sm:px-6">
        <button
          type="button"
          className="-ml-1 rounded p-1.5 text-slate-600 lg:hidden dark:text-slate-300"
          onClick={() => setNavOpen(true)}
          aria-label="Open navigation"
        >
          <Icon name="menu" />
        </button>
        <ProjectSwitcher project={project} initial={projects} />
        <div className="ml-auto flex items-center gap-3">
          <div className="hidden sm:block">
            <ThemeToggle />
          </div>
          <UserMenu user={user} project={project} />
        </div>
      </header>

      <main className="mx-auto max-w-7xl px-4 py-6 sm:px-6 lg:px-8">{children}</main>
    </div>
  );
}

function NavBlock({ section, pathname }: { section: NavSection; pathname: string }) {
  let lastGroup: string | undefined;
  return (
    <div className="mt-5 first:mt-2">
      <h2 className="px-2 pb-1 text-xs font-semibold uppercase tracking-wider text-slate-400 dark:text-slate-500">
        {section.label}
      </h2>
      <ul className="space-y-0.5">
        {section.items.map((item) => {
          const active =
            pathname === item.href ||
            (item.href !== '/project' && item.href !== '/admin' && pathname.startsWith(`${item.href}/`));
          const header = item.group && item.group !== lastGroup ? item.group : undefined;
          lastGroup = item.group;
          return (
            <li key={item.href}>
              {header && (
                <div className="px-2 pt-2 pb-0.5 text-[11px] font-medium text-slate-400 dark:text-slate-500">
                  {header}
                </div>
              )}
              <Link
                href={item.href}
                aria-current={active ? 'page' : undefined}
                className={`group flex items-center gap-2.5 rounded-lg px-2 py-1.5 text-sm ${item.group ? 'pl-3' : ''} ${
                  active
                    ? 'bg-sky-50 font-medium text-sky-700 dark:bg-sky-500/10 dark:text-sky-300'
                    : 'text-slate-600 hover:bg-slate-100 hover:text-slate-900 dark:text-slate-300 dark:hover:bg-slate-800 dark:hover:text-white'
                }`}
              >
                <Icon
                  name={item.icon}
                  className={`size-4.5 ${active ? 'text-sky-600 dark:text-sky-400' : 'text-slate-400 group-hover:text-slate-600 dark:group-hover:text-slate-200'}`}
                />
                <span className="flex-1">{item.label}</span>
                {!item.ready && (
                  <span className="text-[10px] font-medium uppercase tracking-wide text-slate-400">soon</span>
                )}
              </Link>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function ProjectSwitcher({ project, initial }: { project: ShellProps['project']; initial: ShellProps['projects'] }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const toast = useToast();
  const { update } = useSession();
  const [switching, startSwitch] = useTransition();
  const { data: projects = initial } = useQuery({
    ...trpc.identity.session.projects.queryOptions(),
    initialData: initial,
  });

  const switchTo = (p: { id: string; name: string }) =>
    startSwitch(async () => {
      const s = await update({ projectId: p.id });
      if (s?.project?.id !== p.id) {
        toast.error('Could not switch project', `You may no longer have a role on ${p.name}.`);
        return;
      }
      // Everything cached belongs to the old project.
      qc.clear();
      router.refresh();
    });

  return (
    <Menu
      label="Switch project"
      align="left"
      buttonClassName="flex items-center gap-2 rounded-lg px-2.5 py-1.5 text-sm ring-1 ring-slate-200 hover:bg-slate-50 dark:ring-slate-700 dark:hover:bg-slate-800"
      button={
        <>
          <Icon name="folder" className="size-4 text-slate-400" />
          <span data-testid="current-project" className="max-w-48 truncate font-medium">
            {project?.name ?? 'No project'}
          </span>
          {switching ? (
            <Spinner className="size-3.5 text-slate-400" />
          ) : (
            <Icon name="chevron" className="size-4 text-slate-400" />
          )}
        </>
      }
    >
      {(close) => (
        <div data-testid="project-list">
          <MenuLabel>Your projects</MenuLabel>
          {projects.length === 0 && (
            <p className="px-3 py-2 text-sm text-slate-500">You have no role on any project yet.</p>
          )}
          <div className="max-h-72 overflow-y-auto">
            {projects.map((p) => (
              <MenuItem
                key={p.id}
                onSelect={() => {
                  close();
                  if (p.id !== project?.id) switchTo(p);
                }}
              >
                <span className="flex-1 truncate">{p.name}</span>
                {p.id === project?.id && <Icon name="check" className="size-4 text-sky-600" />}
              </MenuItem>
            ))}
          </div>
        </div>
      )}
    </Menu>
  );
}

function UserMenu({ user, project }: { user: ShellProps['user']; project: ShellProps['project'] }) {
  const qc = useQueryClient();
  const [leaving, setLeaving] = useState(false);
  const logout = async () => {
    setLeaving(true);
    markSigningOut();
    // next-auth revokes the session's Keystone tokens (events.signOut) and clears the cookie.
    await signOut({ redirect: false });
    qc.clear();
    window.location.assign('/login');
  };
  return (
    <Menu
      label="User menu"
      buttonClassName="flex items-center gap-2 rounded-full py-1 pr-2 pl-1 text-sm hover:bg-slate-100 dark:hover:bg-slate-800"
      button={
        <>
          <span className="grid size-7 place-items-center rounded-full bg-slate-200 text-xs font-semibold uppercase text-slate-700 dark:bg-slate-700 dark:text-slate-200">
            {user.name.slice(0, 2)}
          </span>
          <span data-testid="user-name" className="hidden font-medium sm:inline">
            {user.name}
          </span>
          <Icon name="chevron" className="size-4 text-slate-400" />
        </>
      }
    >
      {(close) => (
        <>
          <div className="px-3 py-2">
            <p className="text-sm font-medium">{user.name}</p>
            <p className="truncate text-xs text-slate-500">{project ? `Project ${project.name}` : 'No project'}</p>
          </div>
          <MenuDivider />
          <MenuLabel>OpenStack CLI</MenuLabel>
          <MenuItem href="/api/openstack/clouds.yaml" download onSelect={close}>
            <Icon name="download" className="size-4" /> Download clouds.yaml
          </MenuItem>
          <MenuItem href="/api/openstack/openrc.sh" download onSelect={close}>
            <Icon name="download" className="size-4" /> Download OpenStack RC file
          </MenuItem>
          <MenuDivider />
          <MenuItem onSelect={() => void logout()}>
            {leaving ? <Spinner /> : <Icon name="logout" className="size-4" />} Sign out
          </MenuItem>
        </>
      )}
    </Menu>
  );
}
