import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Server the tests use; DESIGN.md "Real services on this machine". Override with TEST_PG_URL. */
export const ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A database created for one test (or one file) and dropped afterwards. */
export interface TestDatabase {
  name: string;
  /** Connection string for the new database. */
  url: string;
  drop(): Promise<void>;
}

/** `url` with its database name replaced. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Creates a fresh database `<prefix>_<random>` on the local server.
 * @throws Error naming the server when PostgreSQL is not reachable (tests fail, never skip).
 */
export async function createTestDatabase(prefix = 'mb_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is required for this test and is not reachable at ${ADMIN_URL}: ${(err as Error).message}. ` +
        'Start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
    );
  }
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(ADMIN_URL, name);
  return {
    name,
    url,
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Drops the database a connection string names (`WITH (FORCE)`), if it exists. */
export async function dropDatabase(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(decodeURIComponent(new URL(url).pathname.slice(1)))} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}
