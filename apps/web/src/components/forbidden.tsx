import { Icon } from './icons';

export function Forbidden({ what }: { what: string }) {
  return (
    <div
      role="alert"
      className="mx-auto mt-10 max-w-lg rounded-2xl border border-slate-200 bg-white p-8 text-center dark:border-slate-800 dark:bg-slate-900"
    >
      <span className="mx-auto grid size-10 place-items-center rounded-full bg-rose-50 text-rose-600 dark:bg-rose-500/10">
        <Icon name="shield" />
      </span>
      <h1 className="mt-3 text-lg font-semibold">Not allowed</h1>
      <p className="mt-1 text-sm text-slate-500 dark:text-slate-400">
        Your role in this project does not allow you to see {what}.
      </p>
    </div>
  );
}
