import type { NavItem } from '@/lib/nav';
import { Icon } from './icons';

/** A panel that is planned but not built yet: say so plainly instead of a 404. */
export function ComingSoon({ item, section }: { item: NavItem; section: string }) {
  return (
    <div className="mx-auto mt-10 max-w-xl rounded-2xl border border-dashed border-slate-300 bg-white/60 p-10 text-center dark:border-slate-700 dark:bg-slate-900/40">
      <span className="mx-auto grid size-12 place-items-center rounded-xl bg-sky-50 text-sky-600 dark:bg-sky-500/10 dark:text-sky-400">
        <Icon name={item.icon} className="size-6" />
      </span>
      <p className="mt-4 text-xs font-medium uppercase tracking-wider text-slate-400">{section}</p>
      <h1 className="mt-1 text-xl font-semibold">{item.label}</h1>
      <p className="mt-2 text-sm text-slate-500 dark:text-slate-400">{item.about ?? 'This panel is on its way.'}</p>
      <p className="mt-6 inline-flex items-center gap-1.5 rounded-full bg-amber-50 px-3 py-1 text-xs font-medium text-amber-800 ring-1 ring-amber-600/20 dark:bg-amber-500/10 dark:text-amber-300">
        Coming soon
      </p>
    </div>
  );
}
