import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { z } from 'zod';
import type { Duration } from '../../config/duration.js';
import type {
  ProbeFindings,
  TrackingDescription,
  TrackingProbe,
  StepControl,
} from '../../domain/rollback/migration-tool.js';
import {
  type AppliedMigration,
  archiveStatements,
  type ComputedRevert,
  type PlanStep,
} from '../../domain/rollback/plan.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { redactSecrets } from '../../shared/redact.js';
import { toNumber } from '../../domain/triage/safe-value.js';
import { captureSql, captureWithin } from './capture-sql.js';
import { loadMigration } from './load-migration.js';
import { defineMigrationTool, fileChecksum, Identifier, newestFirstSql, type MigrationsBase } from './plugin.js';
import { PostgresMigrationTool } from './postgres-migration-tool.js';
import { assertAllTracked, assertTracked, type ToolLock } from './postgres-rollback.js';
import { readServiceDb, serviceDbError, tableColumns, trackingLayoutError, type ServiceDb } from './service-db.js';
import { describeRow, dirtyVersionsProbe } from './tracking-probes.js';

const MIGRATION_FILE = /\.(c|m)?(j|t)s$/i;

/** `migrations:` for knex (knex docs "Migrations"; runbooks 000 and 004 "Knex Migration Rollback"). */
const KnexOptions = z
  .object({
    tool: z.literal('knex'),
    /** Directory of migration files (`.js`/`.ts`; TypeScript loads with Node's type stripping or tsx), relative to services.yaml. */
    directory: z.string().min(1),
    /** Tracking table; knex's default when absent. Its lock table is `<table>_lock`. */
    table: Identifier.default('knex_migrations'),
    schema: Identifier.default('public'),
  })
  .strict();

type KnexOptions = z.infer<typeof KnexOptions> & MigrationsBase;

/** Routes knex's own console logging to our logger, redacted. */
export function knexLog(logger: Logger): Knex.Config['log'] {
  const text = (m: unknown): string => redactSecrets(m instanceof Error ? m.message : String(m));
  return {
    warn: (m: unknown) => logger.warn(text(m)),
    error: (m: unknown) => logger.error(text(m)),
    deprecate: (m: unknown) => logger.debug(text(m)),
    debug: (m: unknown) => logger.debug(text(m)),
  };
}

const lockTableOf = (o: Pick<KnexOptions, 'table'>): string => `${o.table}_lock`;

/**
 * knex's lock table (knex "Migrations": `<table>_lock`, one row, `is_locked = 1` while a
 * migrate runs and left at 1 after a crash). Source: runbook 004 "Troubleshooting →
 * Migration Lock": `SELECT * FROM knex_migrations_lock;`. Attention when the row is at 1,
 * when there is more than one row, or none (knex's lock update then matches nothing and it
 * reports "already locked"). Pure evaluation.
 */
export function knexLockProbe(o: Pick<KnexOptions, 'schema' | 'table'>): TrackingProbe {
  return {
    relation: { schema: o.schema, name: lockTableOf(o) },
    sql: (quoted) => `SELECT * FROM ${quoted} LIMIT 100`,
    whenAbsent: `no lock table ${o.schema}.${lockTableOf(o)}`,
    evaluate(rows, table): ProbeFindings {
      const locked = rows.filter((r) => toNumber(r.is_locked) === 1);
      const out: ProbeFindings = {
        problems: [],
        notes: [],
        rows: rows.map((r) => ({
          table,
          row: describeRow(r),
          finding: toNumber(r.is_locked) === 1 ? 'stuck at is_locked = 1' : 'free',
        })),
      };
      if (locked.length > 0) {
        out.problems.push(`${table} is locked (is_locked = 1): knex migrate refuses to run`);
        out.lockHeld = true;
      }
      if (rows.length > 1) out.problems.push(`${table} has ${rows.length} rows (knex expects exactly one)`);
      if (rows.length === 0) {
        out.problems.push(`${table} has no row: knex cannot take its lock`);
        out.lockHeld = true; // the rollback cannot take it either
        out.rows.push({ table, row: '(no rows)', finding: 'knex expects exactly one row' });
      }
      if (locked.length === 0 && rows.length === 1) out.notes.push(`lock table ${table} is free (is_locked = 0)`);
      return out;
    },
  };
}

/** What triage shows for a knex service: the history as runbook 004 queries it, batches, the lock row, and a neighbouring golang-migrate table's dirty rows. */
export function knexTracking(o: Pick<KnexOptions, 'schema' | 'table'>): TrackingDescription {
  return {
    tool: 'knex',
    table: { schema: o.schema, name: o.table },
    // Runbook 004 "Check migration history": SELECT * FROM knex_migrations ORDER BY id DESC LIMIT 10;
    historySql: (quoted, limit) => newestFirstSql(quoted, limit, 'id'),
    group: { column: 'batch', word: 'batch', command: 'knex migrate:rollback' },
    probes: [knexLockProbe(o), dirtyVersionsProbe({ schema: o.schema, name: 'schema_migrations' })],
  };
}

/**
 * Takes knex's own lock row so `knex migrate:*` cannot run meanwhile (knex "Migrations":
 * `<table>_lock.is_locked`). Absent lock table: nothing to take. A row already set is
 * taken over only when `ownStale` (this incident set it before a crash; we hold the
 * advisory lock, so no live bot rollback does); otherwise refused, left as found. A lock table
 * with no row is refused too: knex cannot lock it either.
 */
function knexLock(o: Pick<KnexOptions, 'schema' | 'table'>): ToolLock {
  const name = `${o.schema}.${lockTableOf(o)}`;
  const quoted = `${pg.escapeIdentifier(o.schema)}.${pg.escapeIdentifier(lockTableOf(o))}`;
  return {
    take: async (client, ownStale) => {
      const exists = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [quoted]);
      if (!exists.rows[0]?.t) return { tookOverStaleLock: false, toolLock: null };
      const toolLock = `\`${name}\` is_locked = 1`;
      const res = await client.query(`UPDATE ${quoted} SET is_locked = 1 WHERE is_locked = 0`);
      if ((res.rowCount ?? 0) > 0) return { tookOverStaleLock: false, toolLock };
      const rows = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoted}`)).rows[0]?.n ?? 0);
      if (rows === 0) {
        throw new AppError({
          code: 'rollback_tool_locked',
          message: `${name} has no row`,
          details: { table: name },
          userMessage:
            `The knex lock table \`${name}\` has no row, so neither knex nor the bot can take its lock. Nothing was changed. ` +
            `Put back the row knex creates (\`INSERT INTO ${name} (is_locked) VALUES (0);\`, runbook 004 "Migration Lock"), then \`/migrate retry\`.`,
        });
      }
      if (ownStale) return { tookOverStaleLock: true, toolLock };
      throw new AppError({
        code: 'rollback_tool_locked',
        message: `${name} is_locked = 1`,
        details: { table: name },
        userMessage:
          `The knex migration lock is held: \`${name}\` has \`is_locked = 1\`. A migration may be running, or a crashed one left it set. ` +
          `Nothing was changed and the lock was left as found. Check with \`/migrate triage\`; if no migration is running, clear it as runbook 004 "Migration Lock" says ` +
          `(\`UPDATE ${name} SET is_locked = 0;\`), then \`/migrate retry\`.`,
      });
    },
    release: async (client) => {
      await client.query(`UPDATE ${quoted} SET is_locked = 0`);
    },
  };
}

const EXPECTED = '`id`, `name`, `batch`, `migration_time` (knex)';

/**
 * MigrationTool for knex migrations (knex docs "Migrations"; runbooks 000 and 004
 * "Knex Migration Rollback"). Reads `<schema>.<table>` (`id, name, batch,
 * migration_time`), loads migration files from the configured directory and runs
 * their `down(knex)`, holding knex's lock row so `knex migrate:*` cannot run meanwhile.
 */
export class KnexMigrationTool extends PostgresMigrationTool {
  readonly tracking: TrackingDescription;
  private readonly knex: Knex;
  private readonly table: string;

  constructor(
    private readonly options: KnexOptions,
    db: ServiceDb,
  ) {
    super(db, options.directory, knexLock(options));
    this.tracking = knexTracking(options);
    this.table = `${options.schema}.${options.table}`;
    this.knex = knexFactory({
      client: 'pg',
      connection: {
        connectionString: db.url,
        application_name: 'migrate-bot',
        connectionTimeoutMillis: db.connectTimeoutMs ?? 5000,
      } as Knex.PgConnectionConfig,
      // One connection: session-level SETs of non-transactional downs apply to the statements that follow.
      pool: { min: 0, max: 1 },
      acquireConnectionTimeout: (db.connectTimeoutMs ?? 5000) + 1000,
      log: knexLog(db.logger),
    });
  }

  async listApplied(): Promise<AppliedMigration[]> {
    return readServiceDb(
      this.db,
      'read the tracking table',
      async (client) => {
        const table = { schema: this.options.schema, name: this.options.table };
        const columns = await tableColumns(client, table);
        if (columns === null || !['id', 'name', 'batch'].every((c) => columns.includes(c))) {
          throw trackingLayoutError(this.db.service, 'knex', table, columns, EXPECTED);
        }
        const { rows } = await client.query<{ id: number; name: string; batch: number; migration_time: Date | null }>(
          `SELECT id, name, batch, migration_time FROM ${this.quoted()} ORDER BY id`,
        );
        return rows.map((r) => ({
          name: r.name,
          order: Number(r.id),
          group: `batch ${Number(r.batch)}`,
          appliedAt: r.migration_time ? new Date(r.migration_time).toISOString() : null,
        }));
      },
      this.session,
    );
  }

  async listFiles(): Promise<string[]> {
    const entries = await this.directoryEntries();
    return entries.filter((f) => MIGRATION_FILE.test(f) && !f.endsWith('.d.ts')).sort();
  }

  async describeDown(migrations: AppliedMigration[]): Promise<PlanStep[]> {
    const steps: PlanStep[] = [];
    for (const m of migrations) {
      const mod = await loadMigration(this.options.directory, m.name);
      const base = {
        migration: m.name,
        order: m.order,
        group: m.group,
        transactional: mod.config?.transaction !== false,
        checksum: await fileChecksum([path.join(this.options.directory, m.name)]),
      };
      const upSql = typeof mod.up === 'function' ? await this.capture(mod.up, m.name, 'up') : null;
      const withUp = upSql?.sql.length ? { upSql: upSql.sql } : {};
      if (typeof mod.down !== 'function') {
        steps.push({
          ...base,
          sql: [],
          ...withUp,
          irreversible: `\`${m.name}\` has no down migration, so it cannot be rolled back automatically`,
        });
        continue;
      }
      const down = await this.capture(mod.down, m.name, 'down');
      steps.push({
        ...base,
        sql: down.sql,
        ...withUp,
        // knex runs the down with a live connection; one that throws on the recording connection throws there too.
        ...(down.error
          ? { irreversible: `the dry run of the down of \`${m.name}\` failed: ${redactSecrets(down.error)}` }
          : {}),
      });
    }
    return steps;
  }

  /** The SQL a migration function issues, recorded without a connection; `error` when it threw. */
  private async capture(
    fn: (knex: unknown) => Promise<unknown>,
    migration: string,
    direction: 'up' | 'down',
  ): Promise<{ sql: string[]; error?: string }> {
    try {
      return {
        sql: await captureWithin(
          captureSql((k) => fn(k)),
          this.db.captureTimeoutMs,
        ),
      };
    } catch (err) {
      this.db.logger.warn({ err, migration, direction }, 'could not capture migration SQL for the plan');
      return { sql: [], error: (err as Error).message ?? String(err) };
    }
  }

  private quoted(): string {
    return `${pg.escapeIdentifier(this.options.schema)}.${pg.escapeIdentifier(this.options.table)}`;
  }

  async runDown(step: PlanStep, lockTimeout: Duration, control?: StepControl): Promise<{ durationMs: number }> {
    const mod = await loadMigration(this.options.directory, step.migration);
    const down = mod.down;
    if (typeof down !== 'function') {
      throw new AppError({ code: 'rollback_irreversible', message: `${step.migration} has no down migration` });
    }
    const started = performance.now();
    const removeRow = async (db: Knex | Knex.Transaction): Promise<void> => {
      const deleted = await db.raw('DELETE FROM ?? WHERE id = ? AND name = ?', [
        this.table,
        step.order,
        step.migration,
      ]);
      assertTracked(deleted.rowCount, step.migration);
    };
    const pidOf = async (db: Knex | Knex.Transaction): Promise<number> => {
      const { rows } = (await db.raw('SELECT pg_backend_pid() AS pid')) as { rows: Array<{ pid: number }> };
      return rows[0]!.pid;
    };
    let stepFailure: unknown;
    try {
      if (step.transactional) {
        await this.knex.transaction(async (trx) => {
          await trx.raw("SELECT set_config('lock_timeout', ?, true)", [lockTimeout.text]);
          if (control) await trx.raw("SELECT set_config('statement_timeout', ?, true)", [control.stepTimeout.text]);
          await this.session
            .watchStep(
              step,
              lockTimeout,
              await pidOf(trx),
              async () => {
                // Archive before destroy, in the down's transaction.
                for (const sql of archiveStatements(step)) await trx.raw(sql);
                await down(trx);
                await removeRow(trx);
              },
              control,
            )
            .catch((err: unknown) => {
              stepFailure = err;
              throw err;
            });
        });
      } else {
        // A knex pool session: its pid is the one the stop signals (the pool holds one connection).
        await this.knex.raw("SELECT set_config('lock_timeout', ?, false)", [lockTimeout.text]);
        if (control)
          await this.knex.raw("SELECT set_config('statement_timeout', ?, false)", [control.stepTimeout.text]);
        try {
          await this.session.watchStep(
            step,
            lockTimeout,
            await pidOf(this.knex),
            async () => {
              for (const sql of archiveStatements(step)) await this.knex.raw(sql);
              await down(this.knex);
              await removeRow(this.knex);
            },
            control,
          );
        } finally {
          await this.knex.raw('RESET lock_timeout; RESET statement_timeout').catch(() => undefined);
        }
      }
    } catch (err) {
      // The step's own failure wins over the ROLLBACK that fails after it (a terminated session).
      if (stepFailure instanceof AppError) throw stepFailure;
      // watchStep already mapped errors raised inside the step; this maps connection and COMMIT failures.
      if (err instanceof AppError) throw err;
      throw serviceDbError(err, this.db.service, `run down ${step.migration}`);
    }
    return { durationMs: Math.round(performance.now() - started) };
  }

  /** knex's own migrator (`migrate.latest`) over a migration source limited to `migrations`, into the configured tracking table. */
  async migrateUp(migrations: AppliedMigration[]): Promise<void> {
    const names = migrations.map((m) => m.name);
    await this.knex.migrate.latest({
      migrationSource: {
        getMigrations: async () => names,
        getMigrationName: (n: string) => n,
        getMigration: async (n: string) => (await loadMigration(this.options.directory, n)) as Knex.Migration,
      },
      tableName: this.options.table,
      schemaName: this.options.schema === 'public' ? undefined : this.options.schema,
    });
  }

  protected async untrack(client: pg.ClientBase, revert: ComputedRevert): Promise<void> {
    const names = revert.reverts.map((r) => r.name);
    const { rowCount } = await client.query(`DELETE FROM ${this.quoted()} WHERE name = ANY($1::text[])`, [names]);
    assertAllTracked(rowCount, names);
  }

  override async close(): Promise<void> {
    await this.knex.destroy();
  }
}

/** The knex plugin: `tool: knex`. */
export const knexTool = defineMigrationTool({
  tool: 'knex',
  options: KnexOptions,
  summary:
    'knex — `.js`/`.ts` files with `up`/`down`, tracking table `knex_migrations(id, name, batch, migration_time)` and its lock row',
  tracking: knexTracking,
  create: (options, db) => new KnexMigrationTool(options, db),
});
