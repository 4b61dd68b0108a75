/**
 * Triage benchmark ("speed targets live in benchmarks, not in timed tests"): `npm run bench:triage`.
 *
 * Builds a throw-away database on the local server (TEST_PG_URL or
 * postgres://postgres@127.0.0.1:5432/postgres) with 2,000 tables, a knex tracking
 * table, and 50 idle-in-transaction sessions holding locks (each ROW EXCLUSIVE on
 * 20 tables; the first also ACCESS EXCLUSIVE on one table, with 5 more sessions
 * waiting behind it). The offending migration's down SQL drops all 2,000 tables,
 * the worst case for `touched_objects`. Runs the full triage 20 times, one after
 * the other, and prints median and p95 wall time per check and in total (ms).
 * Uses at most 50 + 5 + 2 triage + 1 setup connections; ends its sessions and
 * drops the database when done, on error, and on Ctrl-C.
 */
import pg from 'pg';
import { DEFAULT_TRIAGE_CONCURRENCY, runTriage } from '../src/adapters/postgres/triage-runner.js';
import type { TriageReport } from '../src/domain/triage/triage-report.js';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres.js';

const TABLES = 2000;
const IDLE_SESSIONS = 50;
const TABLES_LOCKED_PER_SESSION = 20;
const WAITERS = 5;
const RUNS = 20;

const table = (i: number): string => `bench_t${String(i).padStart(4, '0')}`;

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'triage-bench' });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

async function buildSchema(url: string): Promise<void> {
  const c = await connect(url);
  try {
    for (let start = 1; start <= TABLES; start += 250) {
      const ddl: string[] = [];
      for (let i = start; i < start + 250 && i <= TABLES; i++)
        ddl.push(`CREATE TABLE ${pg.escapeIdentifier(table(i))} (id int PRIMARY KEY, v text)`);
      await c.query(ddl.join(';\n'));
    }
    for (let i = 1; i <= 100; i++)
      await c.query(
        `INSERT INTO ${pg.escapeIdentifier(table(i))} SELECT g, md5(g::text) FROM generate_series(1, $1::int) g`,
        [i * 100],
      );
    await c.query(
      'CREATE TABLE knex_migrations (id serial PRIMARY KEY, name varchar(255), batch integer, migration_time timestamptz)',
    );
    await c.query('CREATE TABLE knex_migrations_lock (index serial PRIMARY KEY, is_locked integer)');
    await c.query('INSERT INTO knex_migrations_lock (is_locked) VALUES (0)');
    await c.query(
      "INSERT INTO knex_migrations (name, batch, migration_time) SELECT format('%s_migration.ts', lpad(g::text, 3, '0')), g, now() FROM generate_series(1, 30) g",
    );
    await c.query('ANALYZE');
  } finally {
    await c.end();
  }
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function printTable(reports: TriageReport[]): void {
  const names = reports[0]!.checks.map((c) => c.name);
  const rows = names.map((name) => {
    const results = reports.map((r) => r.checks.find((c) => c.name === name)!);
    const ms = results.map((c) => c.durationMs).sort((a, b) => a - b);
    const verdicts = [...new Set(results.map((c) => c.verdict))].join('/');
    return [name, String(quantile(ms, 0.5)), String(quantile(ms, 0.95)), verdicts, results[0]!.rows.length.toString()];
  });
  const totals = reports.map((r) => r.durationMs).sort((a, b) => a - b);
  rows.push(['TOTAL (wall)', String(quantile(totals, 0.5)), String(quantile(totals, 0.95)), '', '']);
  const header = ['check', 'median ms', 'p95 ms', 'verdict', 'rows'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 || i === 3 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(
    `|${widths.map((w, i) => (i === 0 || i === 3 ? `-${'-'.repeat(w)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
  );
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  let db: TestDatabase | undefined;
  const sessions: pg.Client[] = [];
  const waiting: Array<Promise<unknown>> = [];
  let cleaned = false;
  const cleanup = async (): Promise<void> => {
    if (cleaned) return;
    cleaned = true;
    await Promise.all(sessions.map((s) => s.query('ROLLBACK').catch(() => undefined)));
    await Promise.allSettled(waiting);
    await Promise.all(sessions.map((s) => s.end().catch(() => undefined)));
    await db?.drop();
  };
  process.once('SIGINT', () => {
    void cleanup().finally(() => process.exit(130));
  });

  try {
    const t0 = performance.now();
    db = await createTestDatabase('mb_bench_triage');
    await buildSchema(db.url);
    for (let s = 0; s < IDLE_SESSIONS; s++) {
      const c = await connect(db.url);
      sessions.push(c);
      await c.query('BEGIN');
      const locked = Array.from({ length: TABLES_LOCKED_PER_SESSION }, (_, k) =>
        pg.escapeIdentifier(table(((s * TABLES_LOCKED_PER_SESSION + k) % TABLES) + 1)),
      );
      await c.query(`LOCK TABLE ${locked.join(', ')} IN ROW EXCLUSIVE MODE`);
      if (s === 0) await c.query(`LOCK TABLE ${pg.escapeIdentifier(table(TABLES))} IN ACCESS EXCLUSIVE MODE`);
    }
    for (let w = 0; w < WAITERS; w++) {
      const c = await connect(db.url);
      sessions.push(c);
      waiting.push(c.query(`SELECT count(*) FROM ${pg.escapeIdentifier(table(TABLES))}`).catch(() => undefined));
    }
    await new Promise((r) => setTimeout(r, 1200)); // past long_transaction_seconds = 1
    console.log(
      `setup: ${TABLES} tables, ${IDLE_SESSIONS} idle-in-transaction sessions (${IDLE_SESSIONS * TABLES_LOCKED_PER_SESSION} relation locks), ${WAITERS} blocked sessions, in ${Math.round(performance.now() - t0)} ms`,
    );

    const service = {
      name: 'bench',
      migrations: { tool: 'knex' as const, directory: '/nonexistent', table: 'knex_migrations', schema: 'public' },
      triage: {
        database_url: db.url,
        long_transaction_seconds: 1,
        exact_count_max_rows: 1_000_000,
        max_connections: 4,
        statement_timeout: { text: '5s', ms: 5000 },
        lock_timeout: { text: '1s', ms: 1000 },
      },
    };
    const offending = {
      name: '030_migration.ts',
      sql: [
        `DROP TABLE IF EXISTS ${Array.from({ length: TABLES }, (_, i) => pg.escapeIdentifier(table(i + 1))).join(', ')}`,
      ],
    };
    const reports: TriageReport[] = [];
    for (let run = 0; run < RUNS; run++) reports.push(await runTriage(service, { offending }));
    console.log(
      `${RUNS} full triage runs (8 checks on ${DEFAULT_TRIAGE_CONCURRENCY} connections, one transaction per check):\n`,
    );
    printTable(reports);
  } finally {
    await cleanup();
  }
}

await main();
