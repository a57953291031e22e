import { notFound } from 'next/navigation';
import { ComingSoon } from '@/components/coming-soon';
import { NAV } from '@/lib/nav';

/** Panels listed in the navigation but not built yet. Anything else is a real 404. */
export default async function Planned({ params }: { params: Promise<{ path: string[] }> }) {
  const { path } = await params;
  const href = `/${path.join('/')}`;
  for (const s of NAV) {
    const item = s.items.find((i) => i.href === href && !i.ready);
    if (item) return <ComingSoon item={item} section={s.label} />;
  }
  notFound();
}
