// Prints the database URL the configuration resolves to (DATABASE_URL or the embedded server).
import { ConfigError, databaseUrl, loadConfig } from '@stratus/core';

try {
  process.stdout.write(databaseUrl(loadConfig()));
} catch (err) {
  process.stdout.write(err instanceof ConfigError ? err.message : String(err));
  process.exit(1);
}
