import knexFactory, { type Knex } from 'knex';
import { withDeadline } from '../../shared/deadline.js';

/**
 * Runs `fn` against a knex instance that records SQL instead of sending it: no
 * connection is opened, every query answers with zero rows. Used for the plan's
 * dry run (node-pg-migrate's "dry-run that issues no writes").
 *
 * Best effort: a down migration that branches on query results (e.g.
 * `hasTable`) sees empty results, so the captured SQL may differ from a real run.
 * @returns the SQL statements in issue order, with bindings inlined for display
 */
export async function captureSql(fn: (knex: Knex) => Promise<unknown>): Promise<string[]> {
  const statements: string[] = [];
  const knex = knexFactory({ client: 'pg' });
  const client = knex.client as Knex.Client & {
    acquireConnection: () => Promise<unknown>;
    releaseConnection: () => Promise<void>;
    _query: (conn: unknown, obj: { sql: string; bindings?: unknown[] }) => Promise<unknown>;
    positionBindings: (sql: string) => string;
  };
  // Keep `?` placeholders so bindings can be inlined for display.
  client.positionBindings = (sql) => sql;
  client.acquireConnection = async () => ({ __capture: true });
  client.releaseConnection = async () => undefined;
  client._query = async (_conn, obj) => {
    const sql = obj.bindings?.length ? knex.raw(obj.sql, obj.bindings as Knex.RawBinding[]).toString() : obj.sql;
    if (!/^(BEGIN|COMMIT|ROLLBACK)\b/i.test(sql.trim())) statements.push(sql);
    return { ...obj, response: { rows: [], rowCount: 0, command: 'SELECT', fields: [] } };
  };
  try {
    await fn(knex);
  } finally {
    await knex.destroy().catch(() => undefined);
  }
  return statements;
}

/** How long the dry run of one JS migration function may take by default, ms. */
export const CAPTURE_TIMEOUT_MS = 10_000;

/**
 * The dry run of a JS migration function (`capture`), given up after `ms`: a function that
 * never settles (it awaits something other than the database) must not hang the plan. The
 * function itself keeps its pending promise; it issues nothing, since it has no connection.
 * @throws Error "did not finish within … in the dry run" when the deadline passes first
 */
export function captureWithin<T>(capture: Promise<T>, ms = CAPTURE_TIMEOUT_MS): Promise<T> {
  return withDeadline(
    capture,
    ms,
    () =>
      new Error(
        `it did not finish within ${ms / 1000} s in the dry run (it awaits something other than the database), so its SQL is unknown`,
      ),
  );
}
