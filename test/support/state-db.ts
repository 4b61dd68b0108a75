import pg from 'pg';
import { migrateStateDb } from '../../src/adapters/postgres/state-schema.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createTestDatabase, type TemplateSpec, type TestDatabase } from './postgres.js';

/** The bot's state schema, migrated up once per run by the bot's own migrations and cloned per test. */
export const STATE_TEMPLATE: TemplateSpec = {
  key: 'state',
  build: async (url) => void (await migrateStateDb(url, silentLogger)),
};

/** A fresh state database with the bot's schema migrated up, and a small pool on it; `close()` ends the pool and drops the database. */
export interface StateDatabase {
  db: TestDatabase;
  pool: pg.Pool;
  close(): Promise<void>;
}

/** Creates a {@link StateDatabase} named `<prefix>_<random>` (pool of `max` connections, default 3). */
export async function createStateDatabase(prefix: string, max = 3): Promise<StateDatabase> {
  const db = await createTestDatabase(prefix, STATE_TEMPLATE);
  const pool = new pg.Pool({ connectionString: db.url, max });
  return {
    db,
    pool,
    async close() {
      await pool.end();
      await db.drop();
    },
  };
}
