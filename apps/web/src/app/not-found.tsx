import Link from 'next/link';

export default function NotFound() {
  return (
    <main className="flex min-h-[60vh] flex-col items-center justify-center gap-2 p-8 text-center">
      <p className="text-sm font-semibold text-sky-600">404</p>
      <h1 className="text-2xl font-semibold tracking-tight">Page not found</h1>
      <p className="text-sm text-slate-500">There is nothing at this address.</p>
      <Link href="/project" className="mt-4 text-sm font-medium text-sky-600 hover:underline">
        Back to the dashboard
      </Link>
    </main>
  );
}
