import pg from 'pg';

/** Server the tests use; DESIGN.md "Real services on this machine". Override with TEST_PG_URL. */
export const ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** Prefix of every template database the suite makes; the global setup drops leftovers of earlier runs. */
export const TEMPLATE_PREFIX = 'mbtpl_';

/** `url` with its database name replaced. */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Runs `fn` on a connection to the server's `postgres` database and closes it.
 * @throws Error naming the server and how to start it when PostgreSQL is not reachable (tests fail, never skip)
 */
export async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
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
    return await fn(admin);
  } finally {
    await admin.end();
  }
}
