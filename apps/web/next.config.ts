import type { NextConfig } from 'next';

const config: NextConfig = {
  transpilePackages: ['@stratus/core', '@stratus/db'],
  serverExternalPackages: ['pg', '@prisma/adapter-pg', '@prisma/client', 'graphile-worker', 'pino', '@node-rs/argon2'],
  poweredByHeader: false,
  // Several stacks built from one checkout (parallel development) each keep their own build.
  distDir: process.env.STRATUS_NEXT_DIST_DIR || '.next',
  // Next type-checks the app only; tests are checked by `tsc -p apps/web/tsconfig.json`.
  typescript: { ignoreBuildErrors: false, tsconfigPath: 'tsconfig.next.json' },
};
export default config;
