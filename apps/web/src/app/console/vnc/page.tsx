import type { Metadata } from 'next';
import { VncConsole } from '@/components/console/VncConsole';
import { StandaloneConsole, tokenOf } from '../standalone';

export const metadata: Metadata = { title: 'VNC console' };

export default async function VncConsolePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const token = tokenOf(await searchParams);
  return (
    <StandaloneConsole title="VNC console" token={token}>
      <VncConsole token={token} className="flex-1" />
    </StandaloneConsole>
  );
}
