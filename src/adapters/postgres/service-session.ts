import pg from 'pg';
import type { ServiceConfig } from '../../config/services.js';
import { serviceDbError } from '../migrations/service-db.js';
import { connectClient } from './connect.js';

/** `"schema"."name"` (or just the name), each part quoted as an identifier. */
export const qualified = (schema: string | null, name: string) =>
  schema ? `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}` : pg.escapeIdentifier(name);

/**
 * One session on the service database as the role that runs the downs: `setup` first (a read-only
 * transaction with a 5 s statement_timeout for reads), then `fn`, then `teardown`; errors mapped
 * by the service-db rules.
 */
export async function onService<T>(
  service: ServiceConfig,
  what: string,
  sql: { setup: string; teardown?: string },
  fn: (c: pg.Client) => Promise<T>,
): Promise<T> {
  let client: pg.Client | null = null;
  try {
    client = await connectClient({
      connectionString: service.database_url,
      application_name: 'migrate-bot-archive',
      connectionTimeoutMillis: 5000,
    });
    await client.query(sql.setup);
    const result = await fn(client);
    if (sql.teardown) await client.query(sql.teardown);
    return result;
  } catch (err) {
    throw serviceDbError(err, service.name, what);
  } finally {
    await client?.end().catch(() => undefined);
  }
}

/** Reads in a read-only transaction with a 5 s statement_timeout (see {@link onService}). */
export const readOnly = <T>(service: ServiceConfig, what: string, fn: (c: pg.Client) => Promise<T>): Promise<T> =>
  onService(service, what, { setup: "BEGIN READ ONLY; SET LOCAL statement_timeout = '5s'", teardown: 'COMMIT' }, fn);

/** The primary-key columns of a relation (by oid), in key order; empty when it has none. */
export async function primaryKeyOf(c: pg.ClientBase, oid: number): Promise<string[]> {
  const { rows } = await c.query<{ attname: string }>(
    `SELECT a.attname FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`,
    [oid],
  );
  return rows.map((r) => r.attname);
}
