/**
 * Risk benchmark ("speed targets live in benchmarks, not in timed tests"): `npm run bench:risk`.
 *
 * 1. Classification: the runbooks' downs (004's 007/006/004/003 downs, 000's constraint
 *    re-adds, 002's rollback script) repeated to 1,000 statements, classified with libpg-query
 *    20 times; median and p95 ms.
 * 2. Figures: a throw-away database (TEST_PG_URL or postgres://postgres@127.0.0.1:5432/postgres)
 *    with an `events` table of 2,000,000 rows (half the promo codes NULL, 1% violating a CHECK)
 *    and an `event_audit` table of 1,000 rows; the plan drops the audit table and the column and
 *    re-adds the CHECK. Measured exact (exact_count_max_rows 10,000,000) and estimated (1,000,000:
 *    reltuples, pg_stats, TABLESAMPLE) 5 times each; median ms and the figures.
 * Drops the database when done, on error, and on Ctrl-C.
 */
import pg from 'pg';
import { measurePlanRisk } from '../src/adapters/postgres/triage-runner.js';
import { classifyPlan, classifySql } from '../src/domain/rollback/risk.js';
import { createTestDatabase, type TestDatabase } from '../test/support/postgres.js';

const RUNBOOK_DOWNS = [
  'DROP TABLE IF EXISTS failed_login_attempts',
  'DROP TABLE IF EXISTS user_spending_limits',
  'ALTER TABLE tickets DROP COLUMN IF EXISTS blockchain_sync_status',
  'DROP TYPE IF EXISTS ticket_state',
  'DROP POLICY IF EXISTS tickets_tenant_isolation ON tickets',
  'ALTER TABLE events ADD CONSTRAINT events_age_check CHECK (age_restriction >= 0 AND age_restriction <= 21)',
  'ALTER TABLE events ALTER COLUMN venue_id SET NOT NULL',
  'ALTER TABLE users DROP COLUMN old_field',
  'ALTER TABLE users ALTER COLUMN new_field DROP NOT NULL',
  'CREATE INDEX events_name_idx ON events (name)',
];
const STATEMENTS = 1000;
const ROWS = 2_000_000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const p95 = (xs: number[]): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(0.95 * xs.length) - 1)]!;

function print(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? `-${'-'.repeat(w)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  const sql = Array.from({ length: STATEMENTS }, (_, i) => RUNBOOK_DOWNS[i % RUNBOOK_DOWNS.length]!);
  const classify: number[] = [];
  let findings = 0;
  for (let run = 0; run < 20; run++) {
    const t0 = performance.now();
    findings = (await classifySql(sql, 'down')).length;
    classify.push(performance.now() - t0);
  }

  let db: TestDatabase | undefined;
  process.once('SIGINT', () => void (db?.drop() ?? Promise.resolve()).finally(() => process.exit(130)));
  try {
    db = await createTestDatabase('mb_bench_risk');
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query(`CREATE TABLE events (id int PRIMARY KEY, promo_code text, age_restriction int);
      INSERT INTO events SELECT i, CASE WHEN i % 2 = 0 THEN 'P' || i END, CASE WHEN i % 100 = 0 THEN -1 ELSE 18 END FROM generate_series(1, ${ROWS}) i;
      CREATE TABLE event_audit (id int); INSERT INTO event_audit SELECT generate_series(1, 1000); ANALYZE`);
    await c.end();
    const plan = await classifyPlan([
      {
        migration: '008_drop_promo.ts',
        order: 8,
        transactional: true,
        sql: [
          'DROP TABLE event_audit',
          'ALTER TABLE events DROP COLUMN promo_code',
          'ALTER TABLE events ADD CONSTRAINT events_age_check CHECK (age_restriction >= 0)',
        ],
      },
    ]);
    const rows: string[][] = [
      [
        `classify ${STATEMENTS} runbook down statements (${findings} findings)`,
        median(classify).toFixed(1),
        p95(classify).toFixed(1),
        '',
      ],
    ];
    for (const [label, exact] of [
      ['figures, exact (count(*), count(col), full scan for the CHECK)', 10_000_000],
      ['figures, estimated above 1,000,000 rows (reltuples, pg_stats, TABLESAMPLE)', 1_000_000],
    ] as const) {
      const times: number[] = [];
      let figures = '';
      for (let run = 0; run < 5; run++) {
        const service = {
          name: 'bench',
          migrations: { tool: 'knex' as const, directory: '/nonexistent', table: 'knex_migrations', schema: 'public' },
          triage: {
            database_url: db.url,
            long_transaction_seconds: 30,
            exact_count_max_rows: exact,
            max_connections: 4,
            statement_timeout: { text: '30s', ms: 30_000 },
            lock_timeout: { text: '1s', ms: 1000 },
          },
        };
        const t0 = performance.now();
        const measured = await measurePlanRisk(service, plan);
        times.push(performance.now() - t0);
        figures = measured.steps[0]!.findings.filter((f) => f.figure)
          .map((f) => `${f.figure!.estimated ? '~' : ''}${f.figure!.count}`)
          .join(' / ');
      }
      rows.push([label, median(times).toFixed(0), p95(times).toFixed(0), figures]);
    }
    console.log(
      `\nrisk of a plan; events has ${ROWS.toLocaleString('en-US')} rows (promo_code 50% NULL, 1% rows violate the CHECK)\n`,
    );
    print(['step', 'median ms', 'p95 ms', 'figures (audit rows / promo values / violating rows / events rows)'], rows);
  } finally {
    await db?.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
