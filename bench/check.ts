/**
 * `npm run bench:check`: the cost of testing downs and of computing a plan from the schemas.
 *
 * 1. `migrate-bot check` per migration (up, down, compare, up again on a scratch database) for each
 *    tool's fixture (the drill's knex service, the node-pg-migrate, plain SQL and drizzle events
 *    services): median of 3 runs, ms per migration.
 * 2. The plan's schema check on a 500-table schema (plain SQL: 001 creates 500 tables with a
 *    primary key, three columns and an index; 002 adds a column and an index to 50 of them), for
 *    `/migrate rollback 002`: the whole check (target build, round trip of the downs, migra diff,
 *    schema-only copy) and migra's diff alone. Target: the diff adds under 1 s to the plan card.
 * Uses TEST_PG_URL or postgres://postgres@127.0.0.1:5432/postgres; drops what it made.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMigrationTool } from '../src/adapters/migrations/migration-tool-registry.js';
import { checkDowns } from '../src/adapters/schema/down-check.js';
import { checkPlanSchema } from '../src/adapters/schema/plan-schema-check.js';
import { computeSchemaDiff } from '../src/adapters/schema/schema-diff.js';
import { trackingRelations } from '../src/adapters/postgres/schema-lines.js';
import { withScratchDatabase } from '../src/adapters/postgres/scratch-database.js';
import { loadServices, type ServiceConfig } from '../src/config/services.js';
import { migrationsToRevert, versionOf } from '../src/domain/rollback/plan.js';
import { silentLogger } from '../src/shared/logger.js';
import { checkFixture, writeServicesFile, type CheckFixture } from '../test/support/check-fixtures.js';
import { ADMIN_URL } from '../test/support/postgres.js';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function print(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('');
}

const toolFor = (svc: ServiceConfig, url: string) => createMigrationTool({ ...svc, database_url: url }, silentLogger);

async function serviceOf(fixture: CheckFixture, url: string): Promise<ServiceConfig> {
  const file = await writeServicesFile(fixture, 'events', 'BENCH_CHECK_URL');
  return (await loadServices(file, { BENCH_CHECK_URL: url })).services.get('events')!;
}

async function checkPerMigration(): Promise<string[][]> {
  const rows: string[][] = [];
  for (const tool of ['knex', 'node-pg-migrate', 'sql', 'drizzle'] as const) {
    const fixture = await checkFixture(tool, false);
    const service = await serviceOf(fixture, ADMIN_URL);
    const runs: number[] = [];
    let migrations = 0;
    for (let i = 0; i < 3; i++) {
      const report = await checkDowns(service, {
        toolFor,
        scratchServerUrl: ADMIN_URL,
        lockTimeout: service.lock_timeout,
        now: () => new Date(),
      });
      migrations = report.rows.length;
      runs.push(report.ms);
    }
    rows.push([tool, String(migrations), `${median(runs)}`, `${Math.round(median(runs) / migrations)}`]);
  }
  return rows;
}

/** A plain-SQL service of `tables` tables (001) and a column and index on a tenth of them (002). */
async function wideService(tables: number, url: string): Promise<{ service: ServiceConfig; fixture: CheckFixture }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mb-bench-wide-'));
  const create = Array.from(
    { length: tables },
    (_, i) =>
      `CREATE TABLE t${i} (id bigserial PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), n integer);\nCREATE INDEX t${i}_name_idx ON t${i} (name);`,
  );
  await writeFile(path.join(dir, '001_wide.up.sql'), create.join('\n'));
  await writeFile(
    path.join(dir, '001_wide.down.sql'),
    Array.from({ length: tables }, (_, i) => `DROP TABLE t${i};`).join('\n'),
  );
  const some = Array.from({ length: tables / 10 }, (_, i) => i * 10);
  await writeFile(
    path.join(dir, '002_flags.up.sql'),
    some
      .map((i) => `ALTER TABLE t${i} ADD COLUMN flag boolean;\nCREATE INDEX t${i}_flag_idx ON t${i} (flag);`)
      .join('\n'),
  );
  await writeFile(
    path.join(dir, '002_flags.down.sql'),
    some.map((i) => `ALTER TABLE t${i} DROP COLUMN flag;`).join('\n'),
  );
  const fixture: CheckFixture = {
    tool: 'sql',
    directory: dir,
    migrations: { tool: 'sql', directory: dir },
    names: ['001_wide', '002_flags'],
    typo: null,
    irreversible: [],
  };
  return { service: await serviceOf(fixture, url), fixture };
}

async function planOnWideSchema(tables: number): Promise<string[][]> {
  return withScratchDatabase(ADMIN_URL, { purpose: 'check', now: () => new Date() }, async (liveUrl) => {
    const { service } = await wideService(tables, liveUrl);
    const live = toolFor(service, liveUrl);
    try {
      const files = await live.listFiles();
      await live.migrateUp!(files.map((name) => ({ name, order: Number(versionOf(name)), appliedAt: null })));
      const applied = await live.listApplied();
      const plan = await live.describeDown(migrationsToRevert(applied, applied.at(-1)!));
      const totals: number[] = [];
      const diffs: number[] = [];
      let statements = 0;
      let downs = '';
      for (let i = 0; i < 3; i++) {
        const check = (await checkPlanSchema(service, live, plan, { toolFor, now: () => new Date() }))!;
        if (check.error) throw new Error(check.error);
        totals.push(check.ms);
        diffs.push(check.computed.diffMs);
        statements = check.computed.step?.sql.length ?? 0;
        downs = check.downs.state;
      }
      // migra alone, between the live database and a second copy of it at the target.
      const alone = await withScratchDatabase(
        ADMIN_URL,
        { purpose: 'check', now: () => new Date() },
        async (targetUrl) => {
          const t = toolFor(service, targetUrl);
          try {
            await t.migrateUp!([applied[0]!]);
          } finally {
            await t.close();
          }
          const ms: number[] = [];
          for (let i = 0; i < 3; i++)
            ms.push((await computeSchemaDiff(liveUrl, targetUrl, trackingRelations(live))).ms);
          return median(ms);
        },
      );
      return [
        [
          `${tables} tables: whole schema check`,
          `${median(totals)}`,
          `downs ${downs}, ${statements} computed statement(s)`,
        ],
        [`${tables} tables: migra diff inside it`, `${median(diffs)}`, 'live → target build'],
        [`${tables} tables: migra diff alone`, `${alone}`, 'two databases, nothing else'],
      ];
    } finally {
      await live.close();
    }
  });
}

const perMigration = await checkPerMigration();
console.log('migrate-bot check: up, down, compare, up again per migration (median of 3 runs)\n');
print(['tool', 'migrations', 'total ms', 'ms per migration'], perMigration);
console.log('The plan checked against the schemas, /migrate rollback 002 (median of 3 runs)\n');
print(['what', 'ms', 'notes'], await planOnWideSchema(Number(process.env.BENCH_TABLES ?? 500)));
