import { code, strong, words } from '../../shared/words.js';
import path from 'node:path';
import { MigrationBuilder } from 'node-pg-migrate/migrationBuilder';
import { loadMigrations, PG_MIGRATE_LOCK_ID, runner } from 'node-pg-migrate/runner';
import pg from 'pg';
import { z } from 'zod';
import type { Duration } from '../../config/duration.js';
import type { TrackingDescription, StepControl } from '../../domain/rollback/migration-tool.js';
import {
  type AppliedMigration,
  archiveStatements,
  type ComputedRevert,
  type PlanStep,
} from '../../domain/rollback/plan.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { redactSecrets } from '../../shared/redact.js';
import { defineMigrationTool, fileChecksum, Identifier, newestFirstSql, type MigrationsBase } from './plugin.js';
import { advisoryToolLock, PostgresMigrationTool } from './postgres-migration-tool.js';
import { assertAllTracked, assertTracked, backendPid, setStepTimeouts } from './postgres-rollback.js';
import { captureWithin } from './capture-sql.js';
import { readServiceDb, tableColumns, trackingLayoutError, type ServiceDb } from './service-db.js';
import { advisoryLockProbe } from './tracking-probes.js';

/** `migrations:` for node-pg-migrate (runbook 003 "npm run migrate:down"; node-pg-migrate docs "CLI" options `--migrations-dir`, `--migrations-table`, `--migrations-schema`). */
const NodePgMigrateOptions = z
  .object({
    tool: z.literal('node-pg-migrate'),
    /** Migrations directory (`.js`, `.ts`, `.sql`), relative to services.yaml. */
    directory: z.string().min(1),
    /** node-pg-migrate's `migrationsTable`. */
    table: Identifier.default('pgmigrations'),
    /** node-pg-migrate's `migrationsSchema` (and `schema`, the search_path its migrations run with). */
    schema: Identifier.default('public'),
  })
  .strict();

type NodePgMigrateOptions = z.infer<typeof NodePgMigrateOptions> & MigrationsBase;

const EXPECTED = '`id`, `name`, `run_on` (node-pg-migrate)';

/** node-pg-migrate's advisory-lock key (`PG_MIGRATE_LOCK_ID`, node-pg-migrate runner: `pg_try_advisory_lock(7241865325823964)`). */
export const NODE_PG_MIGRATE_LOCK_KEY = BigInt(PG_MIGRATE_LOCK_ID);

/** What triage shows for a node-pg-migrate service: `pgmigrations` newest first and its advisory lock. */
export function nodePgMigrateTracking(o: Pick<NodePgMigrateOptions, 'schema' | 'table'>): TrackingDescription {
  return {
    tool: 'node-pg-migrate',
    table: { schema: o.schema, name: o.table },
    // node-pg-migrate reads its history ORDER BY run_on, id.
    historySql: (quoted, limit) => newestFirstSql(quoted, limit, 'run_on DESC, id'),
    probes: [advisoryLockProbe(NODE_PG_MIGRATE_LOCK_KEY, "node-pg-migrate's advisory lock")],
  };
}

/** node-pg-migrate's logger interface, routed to ours (its `info` lines are debug here), redacted. */
function toolLogger(logger: Logger): {
  debug: (m: string) => void;
  info: (m: string) => void;
  warn: (m: string) => void;
  error: (m: string) => void;
} {
  return {
    debug: (m) => logger.debug(redactSecrets(String(m))),
    info: (m) => logger.debug(redactSecrets(String(m))),
    warn: (m) => logger.warn(redactSecrets(String(m))),
    error: (m) => logger.error(redactSecrets(String(m))),
  };
}

/** A stand-in for `pgm.db` while capturing SQL: every query answers no rows, nothing is sent. */
const CAPTURE_DB = {
  query: async () => ({ rows: [], rowCount: 0, command: 'SELECT', fields: [] }),
  select: async () => [],
  column: async () => [],
};

/** A loaded node-pg-migrate migration, as its `Migration` class holds it. */
/** A migration function: `(pgm)` or the callback form `(pgm, run)`. */
type Action = (pgm: MigrationBuilder, run?: () => void) => unknown;

interface LoadedMigration {
  name: string;
  /** Absolute path of the migration file (node-pg-migrate's Migration#path). */
  path: string;
  up: Action | false | undefined;
  down: Action | false | undefined;
  typeShorthands?: Record<string, unknown>;
}

/**
 * MigrationTool for node-pg-migrate (node-pg-migrate docs "Defining Migrations"; runbook 003).
 * Reads `pgmigrations(id, name, run_on)`, loads migrations with node-pg-migrate's own loader
 * (`.js`/`.ts` through jiti, `.sql` with its `-- Down Migration` marker), captures each down's
 * SQL with its MigrationBuilder (no connection), and reverts each step with node-pg-migrate's
 * `runner` (`direction: 'down'`, `file`, `count: 1`) on a session the bot owns, so the down
 * runs exactly as `node-pg-migrate down` would: its own transaction unless
 * `pgm.noTransaction()`, and the `pgmigrations` row deleted inside it. The bot holds
 * node-pg-migrate's advisory lock for the whole rollback, so a concurrent `node-pg-migrate up`
 * fails with "Another migration is already running" instead of interleaving.
 */
export class NodePgMigrateTool extends PostgresMigrationTool {
  readonly tracking: TrackingDescription;

  constructor(
    private readonly options: NodePgMigrateOptions,
    db: ServiceDb,
  ) {
    super(
      db,
      options.directory,
      advisoryToolLock(db.service, "node-pg-migrate's advisory lock", async () => NODE_PG_MIGRATE_LOCK_KEY),
    );
    this.tracking = nodePgMigrateTracking(options);
  }

  private quoted(): string {
    return `${pg.escapeIdentifier(this.options.schema)}.${pg.escapeIdentifier(this.options.table)}`;
  }

  private runnerOptions(): {
    dir: string;
    migrationsTable: string;
    migrationsSchema: string;
    schema: string;
    logger: ReturnType<typeof toolLogger>;
  } {
    return {
      dir: this.options.directory,
      migrationsTable: this.options.table,
      migrationsSchema: this.options.schema,
      schema: this.options.schema,
      logger: toolLogger(this.db.logger),
    };
  }

  async listApplied(): Promise<AppliedMigration[]> {
    return readServiceDb(
      this.db,
      'read the tracking table',
      async (client) => {
        const table = { schema: this.options.schema, name: this.options.table };
        const columns = await tableColumns(client, table);
        if (columns === null || !['id', 'name', 'run_on'].every((c) => columns.includes(c)))
          throw trackingLayoutError(this.db.service, 'node-pg-migrate', table, columns, EXPECTED);
        // node-pg-migrate's own order (runner getRunMigrations): ORDER BY run_on, id.
        const { rows } = await client.query<{ name: string; run_on: Date | null }>(
          `SELECT name, run_on FROM ${this.quoted()} ORDER BY run_on, id`,
        );
        return rows.map((r, i) => ({
          name: r.name,
          order: i + 1,
          appliedAt: r.run_on ? new Date(r.run_on).toISOString() : null,
        }));
      },
      this.session,
    );
  }

  async listFiles(): Promise<string[]> {
    const entries = await this.directoryEntries();
    // node-pg-migrate names a migration by its file name without extension (Migration: basename(path, extname(path))).
    return entries
      .filter((f) => !f.startsWith('.'))
      .map((f) => path.basename(f, path.extname(f)))
      .sort();
  }

  private async load(): Promise<LoadedMigration[]> {
    try {
      return (await loadMigrations(
        CAPTURE_DB as never,
        { ...this.runnerOptions(), direction: 'down' } as never,
        toolLogger(this.db.logger),
      )) as unknown as LoadedMigration[];
    } catch (cause) {
      throw new AppError({
        code: 'rollback_missing_file',
        message: `cannot load node-pg-migrate migrations from ${this.options.directory}: ${(cause as Error).message}`,
        cause,
        userMessage: words`The migrations of ${strong(this.db.service)} could not be loaded (${redactSecrets((cause as Error).message)}). Nothing was changed.`,
      });
    }
  }

  async describeDown(migrations: AppliedMigration[]): Promise<PlanStep[]> {
    const loaded = await this.load();
    const steps: PlanStep[] = [];
    for (const m of migrations) {
      const mig = loaded.find((l) => l.name === m.name);
      if (!mig) {
        throw new AppError({
          code: 'rollback_missing_file',
          message: `${m.name} is applied but has no file in ${this.options.directory}`,
          userMessage: words`${code(m.name)} is applied but its file is not in the migrations directory of ${strong(this.db.service)} (node-pg-migrate: "Definitions of migrations … have been deleted"). Nothing was changed.`,
        });
      }
      const base = { migration: m.name, order: m.order, checksum: await fileChecksum([mig.path]) };
      const irreversible = (why: string): PlanStep => ({
        ...base,
        transactional: true,
        sql: [],
        irreversible: `\`${m.name}\` is irreversible: ${why}`,
      });
      const upSql = typeof mig.up === 'function' ? await this.capture(mig, mig.up, false) : null;
      const withUp = upSql && !('error' in upSql) && upSql.sql.length ? { upSql: upSql.sql } : {};
      if (mig.down === false) {
        steps.push({ ...irreversible('it exports `down = false`'), ...withUp });
        continue;
      }
      // node-pg-migrate: an undefined down reverses the up (Migration._getAction / enableReverseMode).
      if (mig.down === undefined && typeof mig.up !== 'function') {
        steps.push(irreversible('it has neither `up` nor `down`'));
        continue;
      }
      const down =
        mig.down === undefined
          ? await this.capture(mig, mig.up as Action, true)
          : await this.capture(mig, mig.down, false);
      if ('error' in down) {
        steps.push({ ...irreversible(`its down cannot be built (${redactSecrets(down.error)})`), ...withUp });
        continue;
      }
      steps.push({ ...base, transactional: down.transactional, sql: down.sql, ...withUp });
    }
    return steps;
  }

  /** Runs `action` on a MigrationBuilder that records SQL (no connection): the SQL, or the error it threw. */
  private async capture(
    mig: LoadedMigration,
    action: Action,
    reverse: boolean,
  ): Promise<{ sql: string[]; transactional: boolean } | { error: string }> {
    const pgm = new MigrationBuilder(
      CAPTURE_DB as never,
      mig.typeShorthands as never,
      false,
      toolLogger(this.db.logger) as never,
    );
    if (reverse) pgm.enableReverseMode();
    try {
      const run = action.length === 2 ? new Promise<void>((resolve) => void action(pgm, resolve)) : action(pgm);
      await captureWithin(Promise.resolve(run), this.db.captureTimeoutMs);
    } catch (err) {
      return { error: (err as Error).message ?? String(err) };
    }
    return { sql: pgm.getSqlSteps().map((s) => s.trim().replace(/;$/, '')), transactional: pgm.isUsingTransaction() };
  }

  /** node-pg-migrate's own runner, `direction: 'up'`, as many migrations as given (it applies them in file order). */
  async migrateUp(migrations: AppliedMigration[]): Promise<void> {
    // node-pg-migrate runs the next `count` files not yet in its table, in file order.
    const done = new Set((await this.listApplied().catch(() => [])).map((m) => m.name));
    const count = migrations.filter((m) => !done.has(m.name)).length;
    if (!count) return;
    await this.session.work(async (client) => {
      await runner({
        ...this.runnerOptions(),
        dbClient: client,
        direction: 'up',
        count,
        noLock: true,
      });
    });
  }

  protected async untrack(client: pg.ClientBase, revert: ComputedRevert): Promise<void> {
    const names = revert.reverts.map((r) => r.name);
    const { rowCount } = await client.query(`DELETE FROM ${this.quoted()} WHERE name = ANY($1::text[])`, [names]);
    assertAllTracked(rowCount, names);
  }

  async runDown(step: PlanStep, lockTimeout: Duration, control?: StepControl): Promise<{ durationMs: number }> {
    const started = performance.now();
    await this.session.work(async (client) => {
      const pid = await backendPid(client);
      await this.session.watchStep(
        step,
        lockTimeout,
        pid,
        async () => {
          // Session-level: node-pg-migrate's BEGIN inside the runner inherits them; a migration's own SET wins after it.
          await setStepTimeouts(client, lockTimeout, control, false);
          // Archive before destroy. For a transactional down, in a transaction the runner's own BEGIN
          // joins (PostgreSQL warns and goes on) and its COMMIT or ROLLBACK ends, so the copy and the
          // down commit together; before a noTransaction down, each copy commits on its own first.
          const archive = archiveStatements(step);
          if (archive.length && step.transactional) await client.query('BEGIN');
          for (const sql of archive) await client.query(sql);
          // The runner does not roll back a failed migration's transaction itself: work() does.
          const reverted = await runner({
            ...this.runnerOptions(),
            dbClient: client,
            direction: 'down',
            file: step.migration,
            count: 1,
            noLock: true,
          });
          await client.query('RESET lock_timeout; RESET statement_timeout');
          // The runner finds the migration by name in pgmigrations; none reverted means the row was gone.
          assertTracked(reverted.filter((r) => r.name === step.migration).length, step.migration);
        },
        control,
      );
    });
    return { durationMs: Math.round(performance.now() - started) };
  }
}

/** The node-pg-migrate plugin: `tool: node-pg-migrate`. */
export const nodePgMigrateTool = defineMigrationTool({
  tool: 'node-pg-migrate',
  options: NodePgMigrateOptions,
  summary:
    'node-pg-migrate — `.js`/`.ts`/`.sql` migrations, tracking table `pgmigrations(id, name, run_on)`, its advisory lock',
  tracking: nodePgMigrateTracking,
  create: (options, db) => new NodePgMigrateTool(options, db),
});
