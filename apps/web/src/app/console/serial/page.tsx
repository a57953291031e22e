import type { Metadata } from 'next';
import { SerialConsole } from '@/components/console/SerialConsole';
import { StandaloneConsole, tokenOf } from '../standalone';

export const metadata: Metadata = { title: 'Serial console' };

export default async function SerialConsolePage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const token = tokenOf(await searchParams);
  return (
    <StandaloneConsole title="Serial console" token={token}>
      <SerialConsole token={token} className="flex-1" />
    </StandaloneConsole>
  );
}
