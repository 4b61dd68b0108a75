/**
 * Rollback benchmark: `npm run bench:rollback` (BENCH_RUNS, default 5).
 *
 * For each migration tool the bot supports (the fixture services of `test/support/tool-fixtures.ts`,
 * each migrated up by its own tool), reverts the same migrations three ways on identical fresh
 * databases and prints the median of BENCH_RUNS runs, ms:
 *
 * - **bot**: the whole bot (Bolt over HTTP, the Slack stand-in, BullMQ on the local Redis, a pg_dump
 *   snapshot verified before the rollback), from the approval that completes the set to the incident
 *   resolved — the `approval_given` and `rollback_succeeded` events' `clock_timestamp()`;
 * - **job**: of that, the rollback job alone (`rollback_started` → `rollback_succeeded`: rollback
 *   lock, each down with lock_timeout, the tracking update, verification);
 * - **schema fingerprint**: of the job, the verification's fingerprint check (`rollback_succeeded`'s checks);
 * - **tool CLI**: what on-call runs by hand: `knex migrate:rollback`, `node-pg-migrate down 2`, and —
 *   where the tool has no down command (plain SQL, drizzle) — `psql` running the down files and the
 *   tracking update as runbooks 001 and 002 describe;
 * - **tool API**: the tool's own programmatic down in this process (knex `migrate.rollback()`,
 *   node-pg-migrate `runner`), or the same statements over one `pg` session where there is none.
 *
 * Ratios are bot ÷ CLI and job ÷ API. Uses the local PostgreSQL (TEST_PG_URL) and Redis; every
 * database it creates is dropped.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import knexFactory from 'knex';
import { runner } from 'node-pg-migrate';
import pg from 'pg';
import { loadMigration } from '../src/adapters/migrations/load-migration.js';
import { APPROVERS, startHarness } from '../test/support/bot-harness.js';
import { planCard, posted, reachesState } from '../test/support/bot-waits.js';
import {
  DRIZZLE_DIR,
  NODE_PG_MIGRATE_DIR,
  SQL_DIR,
  TOOL_FIXTURES,
  type ToolFixture,
} from '../test/support/tool-fixtures.js';
import { TICKET_MIGRATIONS_DIR } from '../test/support/ticket-service.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const run = promisify(execFile);
const BIN = path.resolve('node_modules/.bin');

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** The bot, approval → resolved, the job alone, and of that the schema fingerprint check, ms (from the event log). */
async function botRun(fixture: ToolFixture): Promise<{ total: number; job: number; fingerprint: number }> {
  const h = await startHarness({}, { fixture });
  try {
    await h.command(`rollback ${fixture.target}`);
    const { incidentId } = await planCard(h);
    await posted(h, 'Snapshot saved');
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await posted(h, '(1 of 2)');
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await reachesState(h, incidentId, 'resolved', 60_000);
    const c = new pg.Client({ connectionString: h.stateDb.url });
    await c.connect();
    try {
      const { rows } = await c.query<{
        type: string;
        ms: number;
        checks: Array<{ name: string; durationMs: number }> | null;
      }>(
        `SELECT type, extract(epoch FROM at) * 1000 AS ms, data->'checks' AS checks FROM incident_events WHERE incident_id = $1 AND type IN ('approval_given', 'rollback_started', 'rollback_succeeded') ORDER BY id`,
        [incidentId],
      );
      const at = (type: string, last = false): number =>
        Number((last ? rows.filter((r) => r.type === type).at(-1) : rows.find((r) => r.type === type))!.ms);
      const fingerprint =
        rows.find((r) => r.type === 'rollback_succeeded')?.checks?.find((k) => k.name === 'schema_fingerprint')
          ?.durationMs ?? 0;
      return {
        total: at('rollback_succeeded') - at('approval_given', true),
        job: at('rollback_succeeded') - at('rollback_started'),
        fingerprint,
      };
    } finally {
      await c.end();
    }
  } finally {
    await h.close();
  }
}

/** Down files of the plain-SQL fixture for the reverted versions, newest first. */
async function sqlDowns(fixture: ToolFixture): Promise<Array<{ version: number; file: string }>> {
  const files = (await readdir(SQL_DIR)).filter((f) => f.endsWith('.down.sql'));
  return fixture.reverted.map((name) => ({
    version: Number(/^(\d+)/.exec(name)![1]),
    file: path.join(SQL_DIR, files.find((f) => f.startsWith(name))!),
  }));
}

const DRIZZLE_WHEN: Record<string, number> = {
  '0001_add_event_reminders': 1731000100000,
  '0002_add_users_profile_columns': 1731000200000,
};
const drizzleDown = async (name: string): Promise<string> => {
  const dir = path.join(DRIZZLE_DIR, 'rollback');
  const file = (await readdir(dir)).find((f) => f.startsWith(`${name.slice(0, 4)}_rollback`))!;
  return path.join(dir, file);
};

/** The tool's own CLI reverting the same migrations, ms. */
async function cliRun(fixture: ToolFixture, url: string, scratch: string): Promise<number> {
  const env = { ...process.env, PGCONNECT_TIMEOUT: '5' };
  switch (fixture.label) {
    case 'knex': {
      const knexfile = path.join(scratch, 'knexfile.cjs');
      await writeFile(
        knexfile,
        `module.exports = { client: 'pg', connection: ${JSON.stringify(url)}, migrations: { directory: ${JSON.stringify(TICKET_MIGRATIONS_DIR)}, loadExtensions: ['.ts'] } };\n`,
      );
      // knex's CLI with its TypeScript migrations loaded through tsx, as a service would run it.
      return timed(() =>
        run(path.join(BIN, 'knex'), ['migrate:rollback', '--knexfile', knexfile], {
          env: { ...env, NODE_OPTIONS: '--import tsx' },
        }),
      );
    }
    case 'node-pg-migrate':
      return timed(() =>
        run(path.join(BIN, 'node-pg-migrate'), ['down', '2', '-m', NODE_PG_MIGRATE_DIR], {
          env: { ...env, DATABASE_URL: url },
        }),
      );
    case 'drizzle':
      return timed(async () => {
        for (const name of fixture.reverted) {
          await run(
            'psql',
            [
              url,
              '-q',
              '-v',
              'ON_ERROR_STOP=1',
              '-1',
              '-f',
              await drizzleDown(name),
              '-c',
              `DELETE FROM drizzle.__drizzle_migrations WHERE created_at = ${DRIZZLE_WHEN[name]}`,
            ],
            { env },
          );
        }
      });
    default: {
      // Plain SQL: golang-migrate's protocol by hand (runbook 001 "Dirty Migration Recovery").
      const perVersion = fixture.label.includes('001');
      const downs = await sqlDowns(fixture);
      return timed(async () => {
        for (const d of downs) {
          const where = perVersion ? `version::numeric = ${d.version}` : 'true';
          await run(
            'psql',
            [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `UPDATE schema_migrations SET dirty = true WHERE ${where}`],
            { env },
          );
          await run('psql', [url, '-q', '-v', 'ON_ERROR_STOP=1', '-f', d.file], { env });
          await run(
            'psql',
            [
              url,
              '-q',
              '-v',
              'ON_ERROR_STOP=1',
              '-c',
              perVersion
                ? `DELETE FROM schema_migrations WHERE ${where}`
                : `UPDATE schema_migrations SET version = ${d.version - 1}, dirty = false`,
            ],
            { env },
          );
        }
      });
    }
  }
}

/** The tool's own API (or one pg session running the same statements), in this process, ms. */
async function apiRun(fixture: ToolFixture, url: string): Promise<number> {
  switch (fixture.label) {
    case 'knex': {
      const files = (await readdir(TICKET_MIGRATIONS_DIR)).filter((f) => f.endsWith('.ts')).sort();
      const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 1 } });
      try {
        const source = {
          getMigrations: async () => files,
          getMigrationName: (f: string) => f,
          getMigration: async (f: string) => (await loadMigration(TICKET_MIGRATIONS_DIR, f)) as never,
        };
        return await timed(() => knex.migrate.rollback({ migrationSource: source }));
      } finally {
        await knex.destroy();
      }
    }
    case 'node-pg-migrate':
      return timed(() =>
        runner({
          databaseUrl: url,
          dir: NODE_PG_MIGRATE_DIR,
          direction: 'down',
          count: 2,
          migrationsTable: 'pgmigrations',
          log: () => undefined,
        }),
      );
    default: {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        if (fixture.label === 'drizzle') {
          return await timed(async () => {
            for (const name of fixture.reverted) {
              await c.query('BEGIN');
              for (const stmt of (await readFile(await drizzleDown(name), 'utf8')).split('--> statement-breakpoint'))
                await c.query(stmt);
              await c.query('DELETE FROM drizzle.__drizzle_migrations WHERE created_at = $1', [DRIZZLE_WHEN[name]]);
              await c.query('COMMIT');
            }
          });
        }
        const perVersion = fixture.label.includes('001');
        const downs = await sqlDowns(fixture);
        return await timed(async () => {
          for (const d of downs) {
            const where = perVersion ? `version::numeric = ${d.version}` : 'true';
            await c.query(`UPDATE schema_migrations SET dirty = true WHERE ${where}`);
            for (const stmt of (await readFile(d.file, 'utf8'))
              .split(';')
              .map((s) => s.trim())
              .filter(Boolean))
              await c.query(stmt);
            await c.query(
              perVersion
                ? `DELETE FROM schema_migrations WHERE ${where}`
                : `UPDATE schema_migrations SET version = ${d.version - 1}, dirty = false`,
            );
          }
        });
      } finally {
        await c.end();
      }
    }
  }
}

async function main(): Promise<void> {
  // Inside node_modules so knex's CLI finds the local knex from the knexfile's folder.
  const scratch = await mkdtemp(path.join(path.resolve('node_modules/.cache'), 'bench-rollback-'));
  const rows: string[][] = [];
  try {
    for (const fixture of TOOL_FIXTURES) {
      const bot: number[] = [];
      const job: number[] = [];
      const fingerprint: number[] = [];
      const cli: number[] = [];
      const api: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const b = await botRun(fixture);
        bot.push(b.total);
        job.push(b.job);
        fingerprint.push(b.fingerprint);
        for (const [into, fn] of [
          [cli, (url: string) => cliRun(fixture, url, scratch)],
          [api, (url: string) => apiRun(fixture, url)],
        ] as const) {
          const db = await fixture.createDb();
          try {
            into.push(await fn(db.url));
            const left = await fixture.trackedNames(db.url);
            const want = fixture.applied.filter((n) => !fixture.reverted.includes(n));
            if (JSON.stringify(left) !== JSON.stringify(want))
              throw new Error(`${fixture.label}: the baseline left ${left.join(', ')}, expected ${want.join(', ')}`);
          } finally {
            await db.drop();
          }
        }
        process.stderr.write('.');
      }
      rows.push([
        fixture.label,
        String(fixture.reverted.length),
        ...[bot, job, fingerprint, cli, api].map((x) => median(x).toFixed(0)),
        (median(bot) / median(cli)).toFixed(2),
        (median(job) / median(api)).toFixed(2),
      ]);
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  process.stderr.write('\n');
  const head = [
    'tool',
    'steps',
    'bot ms',
    'job ms',
    'of which schema fingerprint ms',
    'tool CLI ms',
    'tool API ms',
    'bot ÷ CLI',
    'job ÷ API',
  ];
  console.log(`Median of ${RUNS} runs (approval → resolved for the bot).\n`);
  console.log(`| ${head.join(' | ')} |`);
  console.log(`| ${head.map((_, i) => (i < 1 ? '---' : '--:')).join(' | ')} |`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
