import NextAuth from 'next-auth';
import type { NextRequest } from 'next/server';
import { authOptions } from '@/server/auth';

export const dynamic = 'force-dynamic';

type Ctx = { params: Promise<{ nextauth: string[] }> };
// Options are built on the first request: the secret may live under the state directory.
const handler = (req: NextRequest, ctx: Ctx): Promise<Response> => NextAuth(req, ctx, authOptions());

export { handler as GET, handler as POST };
