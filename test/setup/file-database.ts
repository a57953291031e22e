import { cloneDatabase } from '@stratus/db/testing';
import { inject } from 'vitest';

import '../helpers.ts';

/*
 * Runs before each integration/system test file: the file gets its own copy of the run's
 * migrated database (testDb() returns it), so files running in parallel never schedule
 * onto, heartbeat over or page through each other's rows.
 */
process.env.STRATUS_TEST_DATABASE_URL = await cloneDatabase(inject('databaseUrl'));
