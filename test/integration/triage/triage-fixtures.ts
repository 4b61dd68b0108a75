import pg from 'pg';
import type { TriageServiceConfig } from '../../../src/adapters/postgres/triage-runner.js';

/** A service slice pointing triage at `url`, with test-friendly defaults (threshold 1 s). */
export function triageService(
  url: string,
  over: {
    table?: string;
    schema?: string;
    long_transaction_seconds?: number;
    statement_timeout?: { text: string; ms: number };
  } = {},
): TriageServiceConfig {
  const table = over.table ?? 'knex_migrations';
  return {
    name: 'ticket-service',
    migrations: { tool: 'knex', directory: '/nonexistent', table, schema: over.schema ?? 'public' },
    triage: {
      database_url: url,
      long_transaction_seconds: over.long_transaction_seconds ?? 1,
      exact_count_max_rows: 1_000_000,
      max_connections: 4,
      statement_timeout: over.statement_timeout ?? { text: '5s', ms: 5000 },
      lock_timeout: { text: '1s', ms: 1000 },
    },
  };
}

/** A connected client with its backend pid; the caller ends it. */
export async function session(url: string): Promise<{ client: pg.Client; pid: number }> {
  const client = new pg.Client({ connectionString: url, application_name: 'triage-test' });
  await client.connect();
  client.on('error', () => undefined);
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return { client, pid: rows[0]!.pid };
}

/** Polls until `pid` waits on a lock (pg_stat_activity.wait_event_type = 'Lock'); throws after `timeoutMs`. */
export async function waitUntilWaitingOnLock(observer: pg.Client, pid: number, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const { rows } = await observer.query<{ w: string | null }>(
      'SELECT wait_event_type AS w FROM pg_stat_activity WHERE pid = $1',
      [pid],
    );
    if (rows[0]?.w === 'Lock') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`pid ${pid} never waited on a lock`);
}

/** Knex's tracking table and lock table, as `knex migrate:latest` creates them, with migrations 005–007 applied. */
export async function createKnexTables(client: pg.Client, schema = 'public', table = 'knex_migrations'): Promise<void> {
  const t = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(table)}`;
  const lock = `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(`${table}_lock`)}`;
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
  await client.query(
    `CREATE TABLE ${t} (id serial PRIMARY KEY, name varchar(255), batch integer, migration_time timestamptz)`,
  );
  await client.query(`CREATE TABLE ${lock} (index serial PRIMARY KEY, is_locked integer)`);
  await client.query(`INSERT INTO ${lock} (is_locked) VALUES (0)`);
  await client.query(
    `INSERT INTO ${t} (name, batch, migration_time) VALUES
      ('005_add_idempotency_keys.ts', 1, now() - interval '2 days'),
      ('006_add_ticket_state_machine.ts', 2, now() - interval '1 day'),
      ('007_add_security_tables.ts', 3, now())`,
  );
}
