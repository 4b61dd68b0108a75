import knexFactory, { type Knex } from 'knex';

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
