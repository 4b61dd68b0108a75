/**
 * `npm run bench:archive`: what archive before destroy costs on a 1,000,000-row table
 * (`events(id bigserial primary key, name text, search_vector text)`, 90% of search_vector set).
 *
 * For a down that drops `events.search_vector`, median of 5 runs each:
 * - **plain CTAS**: `CREATE TABLE … AS SELECT id, search_vector … WHERE search_vector IS NOT NULL`;
 * - **archive copy**: the statements the plan runs before the down (schema, drop-if-exists, the
 *   copy, the comment), planned from the catalogs as the prepare job plans them;
 * - the estimate the card shows against the copy's real size, and the copy rate (MB/s) that the
 *   card's time estimate rounds down.
 * Target: the archive costs under 2× the plain CTAS of the same data.
 *
 * Then `/migrate unarchive` of that column after a fix-forward re-added it (median of 3 runs):
 * - **plain UPDATE … FROM** the archive, by hand;
 * - **unarchive write**: the plan made from the catalogs (`inspectUnarchive`, conflicts counted)
 *   and the catalog's `writeBack` in one transaction with lock_timeout;
 * - **unarchive check**: the row-by-row comparison with checksums that verifies it.
 * Uses TEST_PG_URL or postgres://postgres@127.0.0.1:5432/postgres; drops its database when done.
 */
import pg from 'pg';
import { postgresArchiveCatalog } from '../src/adapters/postgres/archive-catalog.js';
import type { ServiceConfig } from '../src/config/services.js';
import { archivePlan, archiveTargets } from '../src/domain/rollback/archive.js';
import type { PlanStep } from '../src/domain/rollback/plan.js';
import { classifyPlan } from '../src/domain/rollback/risk.js';
import { formatBytes } from '../src/domain/triage/safe-value.js';
import { unarchivePlanStep } from '../src/domain/rollback/unarchive.js';
import { DurationSchema } from '../src/config/duration.js';
import { createTestDatabase } from '../test/support/postgres.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const RUNS = 5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const db = await createTestDatabase('mb_bench_archive');
const client = new pg.Client({ connectionString: db.url });
await client.connect();
try {
  await client.query(`CREATE TABLE events (id bigserial PRIMARY KEY, name text NOT NULL, search_vector text);
    INSERT INTO events (name, search_vector)
      SELECT 'event ' || g, CASE WHEN g % 10 = 0 THEN NULL ELSE md5(g::text) || ' ' || md5((g * 7)::text) END
        FROM generate_series(1, ${ROWS}) g;
    ANALYZE events;`);
  const plan: PlanStep[] = [
    {
      migration: '007_add_search.ts',
      order: 7,
      transactional: true,
      sql: ['ALTER TABLE events DROP COLUMN search_vector'],
    },
  ];
  const risk = await classifyPlan(plan);
  const targets = archiveTargets(plan, risk);
  const service = { name: 'bench', database_url: db.url } as unknown as ServiceConfig;
  const { resolved, privilegeProblem } = await postgresArchiveCatalog.resolve(service, targets, 'migrate_bot_archive');
  const archive = archivePlan(
    '00000000-0000-4000-8000-000000000000',
    'bench000',
    plan,
    targets,
    resolved,
    { schema: 'migrate_bot_archive', max_bytes: 1024 ** 4 },
    privilegeProblem,
  );
  const copy = archive.copies[0]!;

  const timed = async (sql: string[]) => {
    const t0 = performance.now();
    await client.query('BEGIN');
    for (const s of sql) await client.query(s);
    await client.query('COMMIT');
    return performance.now() - t0;
  };
  const plain: number[] = [];
  const archived: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await client.query('DROP TABLE IF EXISTS plain_copy');
    plain.push(
      await timed(['CREATE TABLE plain_copy AS SELECT id, search_vector FROM events WHERE search_vector IS NOT NULL']),
    );
    archived.push(await timed(copy.sql));
  }
  const back: number[] = [];
  const planned: number[] = [];
  const written: number[] = [];
  const checked: number[] = [];
  const readd =
    'ALTER TABLE events DROP COLUMN IF EXISTS search_vector; ALTER TABLE events ADD COLUMN search_vector text';
  const limits = { lockTimeout: DurationSchema.parse('5s'), stepTimeout: DurationSchema.parse('10min') };
  for (let i = 0; i < 3; i++) {
    await client.query(readd);
    back.push(
      await timed([
        `UPDATE events e SET search_vector = a.search_vector FROM migrate_bot_archive."${copy.table}" a WHERE a.id = e.id`,
      ]),
    );
    await client.query(readd);
    await client.query('VACUUM events');
    let t0 = performance.now();
    const [x] = await postgresArchiveCatalog.inspectUnarchive(service, 'migrate_bot_archive', [copy.table]);
    const step = unarchivePlanStep(x!.source, x!.target, 'refuse', 1);
    planned.push(performance.now() - t0);
    t0 = performance.now();
    await postgresArchiveCatalog.writeBack(service, [step], limits);
    written.push(performance.now() - t0);
    t0 = performance.now();
    const [c] = await postgresArchiveCatalog.compareWriteBack(service, [step.unarchive!]);
    checked.push(performance.now() - t0);
    if (c!.equal !== c!.rows) throw new Error(`unarchive bench: ${c!.equal} of ${c!.rows} rows equal`);
  }
  const { rows } = await client.query<{ bytes: string; n: string }>(
    `SELECT pg_total_relation_size('migrate_bot_archive."${copy.table}"')::text AS bytes, (SELECT count(*) FROM migrate_bot_archive."${copy.table}")::text AS n`,
  );
  const bytes = Number(rows[0]!.bytes);
  const ms = (x: number) => `${Math.round(x).toLocaleString('en-US')}`;
  const lines = [
    ['plain CTAS of the key and the column', ms(median(plain)), '1.00', ''],
    [
      'archive copy (schema, drop, copy, comment)',
      ms(median(archived)),
      (median(archived) / median(plain)).toFixed(2),
      `${Number(rows[0]!.n).toLocaleString('en-US')} rows`,
    ],
    [
      'estimate on the card',
      '',
      '',
      `${formatBytes(copy.estimatedBytes)} for ${copy.estimatedRows.toLocaleString('en-US')} rows`,
    ],
    [
      'actual size of the copy',
      '',
      '',
      `${formatBytes(bytes)} (${(bytes / 1024 / 1024 / (median(archived) / 1000)).toFixed(0)} MB/s)`,
    ],
  ];
  lines.push(
    ['plain UPDATE … FROM the archive (after re-adding the column)', ms(median(back)), '1.00', ''],
    ['unarchive plan (catalogs, conflicts counted)', ms(median(planned)), '', ''],
    [
      'unarchive write (one transaction, lock_timeout)',
      ms(median(written)),
      (median(written) / median(back)).toFixed(2),
      '',
    ],
    ['unarchive check (row by row, checksums)', ms(median(checked)), '', 'every archived value equal'],
  );
  const header = ['what', 'median ms', '× plain', 'figures'];
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const row = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(`Archive before destroy: DROP COLUMN on ${ROWS.toLocaleString('en-US')} rows, ${RUNS} runs\n`);
  console.log(row(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(row(l));
} finally {
  await client.end();
  await db.drop();
}
