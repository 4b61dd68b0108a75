import { code, strong, words } from '../../shared/words.js';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import type { Duration } from '../../config/duration.js';
import type { TrackingDescription, StepControl } from '../../domain/rollback/migration-tool.js';
import type { AppliedMigration, ComputedRevert, PlanStep } from '../../domain/rollback/plan.js';
import { AppError } from '../../shared/errors.js';
import { defineMigrationTool, fileChecksum, Identifier, type MigrationsBase } from './plugin.js';
import { advisoryToolLock, PostgresMigrationTool } from './postgres-migration-tool.js';
import { assertTracked, runSqlDown } from './postgres-rollback.js';
import { readServiceDb, serviceDbError, tableColumns, trackingLayoutError, type ServiceDb } from './service-db.js';
import { parseSqlFile } from './sql-statements.js';
import {
  databaseOf,
  readMigrationFiles,
  type SqlMigrationFile,
  type SqlTrackingLayout,
  golangMigrateLockKey,
  sqlTracking,
  sqlTrackingLayout,
} from './sql-tracking.js';

/** `migrations:` for plain SQL files (runbook 001's harness; golang-migrate's file and table protocol). */
const SqlOptions = z
  .object({
    tool: z.literal('sql'),
    /** Directory of `NNN_name.up.sql` / `NNN_name.down.sql`, relative to services.yaml. */
    directory: z.string().min(1),
    table: Identifier.default('schema_migrations'),
    schema: Identifier.default('public'),
  })
  .strict();

type SqlOptions = z.infer<typeof SqlOptions> & MigrationsBase;

const EXPECTED = '`version`, `dirty` (golang-migrate) or `version`, `dirty`, `applied_at`[, `checksum`] (runbook 001)';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/**
 * MigrationTool for plain SQL migration files `NNN_name.up.sql` / `NNN_name.down.sql`
 * (runbook 001 "Migration Safety Harness"), tracked the way golang-migrate does it. Reverting
 * follows golang-migrate's dirty protocol: the version is marked dirty (committed) before
 * its down runs; the down, moving the version back and clearing dirty then commit together.
 * A crash mid-down leaves a visible dirty flag on the version being reverted, never a silent
 * half-state; a transactional down that fails clears the mark again (nothing changed).
 */
export class SqlMigrationTool extends PostgresMigrationTool {
  readonly tracking: TrackingDescription;
  private readonly table: { schema: string; name: string };

  constructor(
    private readonly options: SqlOptions,
    db: ServiceDb,
  ) {
    // golang-migrate's own advisory lock (taken without waiting here): a `migrate up` meanwhile waits for the bot.
    super(
      db,
      options.directory,
      advisoryToolLock(db.service, "golang-migrate's advisory lock", async (client) => {
        const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
        return golangMigrateLockKey(rows[0]!.db, options.schema, options.table);
      }),
    );
    this.table = { schema: options.schema, name: options.table };
    this.tracking = sqlTracking(options, databaseOf(db.url));
  }

  private quoted(): string {
    return `${pg.escapeIdentifier(this.table.schema)}.${pg.escapeIdentifier(this.table.name)}`;
  }

  private async files(): Promise<Map<bigint, SqlMigrationFile>> {
    return readMigrationFiles(await this.directoryEntries());
  }

  private async layout(client: pg.ClientBase): Promise<SqlTrackingLayout> {
    const columns = await tableColumns(client, this.table);
    const layout = columns === null ? null : sqlTrackingLayout(columns);
    if (!layout) throw trackingLayoutError(this.db.service, 'sql', this.table, columns, EXPECTED);
    return layout;
  }

  async listApplied(): Promise<AppliedMigration[]> {
    const files = await this.files();
    return readServiceDb(
      this.db,
      'read the tracking table',
      async (client) => {
        const layout = await this.layout(client);
        if (layout.kind === 'single') {
          const { rows } = await client.query<{ version: string; dirty: boolean }>(
            `SELECT version::text AS version, dirty FROM ${this.quoted()}`,
          );
          if (rows.length > 1) {
            throw new AppError({
              code: 'tracking_table_unexpected',
              message: `${this.db.service}: ${this.table.schema}.${this.table.name} has ${rows.length} rows, golang-migrate keeps one`,
              userMessage: words`The tracking table ${code(`${this.table.schema}.${this.table.name}`)} of ${strong(this.db.service)} has ${rows.length} rows; golang-migrate keeps exactly one (the current version). Nothing was changed.`,
            });
          }
          const head = rows[0];
          if (!head || BigInt(head.version) < 0n) return [];
          const current = BigInt(head.version);
          // golang-migrate records only the current version: every file up to it is applied.
          const applied = [...files.values()]
            .filter((f) => f.version <= current)
            .sort((a, b) => (a.version < b.version ? -1 : 1));
          if (!files.has(current)) applied.push({ version: current, name: head.version });
          return applied.map((f) => ({
            name: f.name,
            order: Number(f.version),
            appliedAt: null,
            ...(f.version === current && head.dirty ? { dirty: true } : {}),
          }));
        }
        const { rows } = await client.query<{
          version: string;
          dirty: boolean;
          applied_at: Date | null;
          checksum: string | null;
        }>(
          `SELECT version::text AS version, dirty, applied_at, ${layout.checksum ? 'checksum::text' : 'NULL::text'} AS checksum FROM ${this.quoted()} ORDER BY version`,
        );
        const out: AppliedMigration[] = [];
        for (const r of rows) {
          const file = files.get(BigInt(r.version));
          const m: AppliedMigration = {
            name: file?.name ?? r.version,
            order: Number(r.version),
            appliedAt: r.applied_at ? new Date(r.applied_at).toISOString() : null,
          };
          if (r.dirty) m.dirty = true;
          if (r.checksum && file?.up) {
            const now = sha256(await readFile(path.join(this.options.directory, file.up), 'utf8'));
            if (now !== r.checksum.trim().toLowerCase()) m.modified = true;
          }
          out.push(m);
        }
        return out.sort((a, b) => a.order - b.order);
      },
      this.session,
    );
  }

  async listFiles(): Promise<string[]> {
    return [...(await this.files()).values()].map((f) => f.name).sort();
  }

  async describeDown(migrations: AppliedMigration[]): Promise<PlanStep[]> {
    const files = await this.files();
    const steps: PlanStep[] = [];
    for (const m of migrations) {
      const file = files.get(BigInt(m.order));
      if (!file) {
        throw new AppError({
          code: 'rollback_missing_file',
          message: `${m.name}: no migration files for version ${m.order} in ${this.options.directory}`,
          userMessage: words`Version ${m.order} is applied but its files are not in the migrations directory of ${strong(this.db.service)}, so its down is unknown. Nothing was changed.`,
        });
      }
      const up = file.up ? await readFile(path.join(this.options.directory, file.up), 'utf8') : null;
      const upSql = up
        ? await parseSqlFile(up, file.up!).then(
            (p) => p.statements,
            () => null,
          )
        : null;
      const base = {
        migration: m.name,
        order: m.order,
        checksum: await fileChecksum(
          [file.up, file.down].filter((f): f is string => Boolean(f)).map((f) => path.join(this.options.directory, f)),
        ),
        ...(upSql?.length ? { upSql } : {}),
        ...(m.dirty ? { dirty: true } : {}),
        ...(m.modified ? { modified: true } : {}),
      };
      if (!file.down) {
        steps.push({
          ...base,
          transactional: true,
          sql: [],
          irreversible: `\`${m.name}\` has no \`${m.name}.down.sql\`, so it cannot be rolled back automatically`,
        });
        continue;
      }
      const parsed = await parseSqlFile(
        await readFile(path.join(this.options.directory, file.down), 'utf8'),
        file.down,
      );
      steps.push({ ...base, transactional: parsed.outsideTransaction.length === 0, sql: parsed.statements });
    }
    return steps;
  }

  /** Each migration's `.up.sql`, in order, in one transaction per file, recording its version as golang-migrate does (not dirty). */
  async migrateUp(migrations: AppliedMigration[]): Promise<void> {
    const files = await this.files();
    await this.session.work(async (client) => {
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.quoted()} (version bigint PRIMARY KEY, dirty boolean NOT NULL)`,
      );
      const { rows } = await client.query<{ version: string }>(`SELECT version::text FROM ${this.quoted()}`);
      const current = rows[0] ? BigInt(rows[0].version) : null;
      // golang-migrate's `up`: only versions above the current one.
      for (const m of migrations.filter((x) => current === null || BigInt(x.order) > current)) {
        const file = files.get(BigInt(m.order));
        if (!file?.up)
          throw new AppError({ code: 'rollback_missing_file', message: `no .up.sql for version ${m.order}` });
        const { statements, outsideTransaction } = await parseSqlFile(
          await readFile(path.join(this.options.directory, file.up), 'utf8'),
          file.up,
        );
        // golang-migrate's protocol: the version is set dirty before its file runs and clean after,
        // so an up that fails leaves it dirty (runbook 001 "Dirty Migration Recovery").
        await client.query(`DELETE FROM ${this.quoted()}`);
        await client.query(`INSERT INTO ${this.quoted()} (version, dirty) VALUES ($1, true)`, [String(file.version)]);
        const inTransaction = outsideTransaction.length === 0;
        if (inTransaction) await client.query('BEGIN');
        try {
          for (const st of statements) await client.query(st);
          await client.query(`UPDATE ${this.quoted()} SET dirty = false`);
          if (inTransaction) await client.query('COMMIT');
        } catch (err) {
          if (inTransaction) await client.query('ROLLBACK');
          throw err;
        }
      }
    });
  }

  async runDown(step: PlanStep, lockTimeout: Duration, control?: StepControl): Promise<{ durationMs: number }> {
    const files = await this.files();
    const file = files.get(BigInt(step.order));
    if (!file?.down)
      throw new AppError({ code: 'rollback_irreversible', message: `${step.migration} has no .down.sql` });
    const { statements } = await parseSqlFile(
      await readFile(path.join(this.options.directory, file.down), 'utf8'),
      file.down,
    );
    const version = String(file.version);
    const previous = [...files.keys()].filter((v) => v < file.version).sort((a, b) => (a < b ? 1 : -1))[0];

    let layout: SqlTrackingLayout;
    let wasDirty: boolean;
    try {
      ({ layout, wasDirty } = await this.session.work(async (client) => {
        const found = await this.layout(client);
        // 1. Mark the version dirty and commit, before anything of the down runs (golang-migrate's protocol).
        const marked = await client.query<{ was: boolean }>(
          `UPDATE ${this.quoted()} t SET dirty = true FROM (SELECT version, dirty AS was FROM ${this.quoted()} WHERE version::text::numeric = $1::numeric FOR UPDATE) old
            WHERE t.version = old.version RETURNING old.was`,
          [version],
        );
        assertTracked(marked.rowCount, step.migration);
        return { layout: found, wasDirty: marked.rows[0]!.was };
      }));
    } catch (err) {
      throw serviceDbError(err, this.db.service, `mark ${step.migration} dirty`);
    }

    // 2. The down, the version moved back and dirty cleared, in one transaction when the file allows it.
    const track = async (client: pg.ClientBase): Promise<void> => {
      if (layout.kind === 'per_version') {
        assertTracked(
          (await client.query(`DELETE FROM ${this.quoted()} WHERE version::text::numeric = $1::numeric`, [version]))
            .rowCount,
          step.migration,
        );
      } else if (previous === undefined) {
        assertTracked(
          (await client.query(`DELETE FROM ${this.quoted()} WHERE version::text::numeric = $1::numeric`, [version]))
            .rowCount,
          step.migration,
        );
      } else {
        const moved = await client.query(
          `UPDATE ${this.quoted()} SET version = $2, dirty = false WHERE version::text::numeric = $1::numeric`,
          [version, previous.toString()],
        );
        assertTracked(moved.rowCount, step.migration);
      }
    };
    try {
      return await runSqlDown(this.session, { step, statements, lockTimeout, control, track });
    } catch (err) {
      // A transactional down that failed changed nothing: put the dirty flag back as it was.
      if (step.transactional && !wasDirty)
        await this.clearDirty(version).catch((e) => this.db.logger.error({ err: e }, 'could not clear the dirty mark'));
      throw err;
    }
  }

  /** golang-migrate's `force`: the version set to the target's (or the table emptied) and dirty cleared. */
  protected async untrack(client: pg.ClientBase, revert: ComputedRevert): Promise<void> {
    const layout = await this.layout(client);
    const versions = revert.reverts.map((r) => String(r.order));
    const moved =
      layout.kind === 'per_version' || !revert.target
        ? await client.query(`DELETE FROM ${this.quoted()} WHERE version::text::numeric = ANY($1::numeric[])`, [
            versions,
          ])
        : await client.query(`UPDATE ${this.quoted()} SET version = $1, dirty = false`, [String(revert.target.order)]);
    // One row (the single-row layout) or one per reverted version.
    if (!moved.rowCount) assertTracked(0, revert.reverts.map((r) => r.name).join(', '));
  }

  private async clearDirty(version: string): Promise<void> {
    await this.session.work((client) =>
      client.query(`UPDATE ${this.quoted()} SET dirty = false WHERE version::text::numeric = $1::numeric`, [version]),
    );
  }
}

/** The plain-SQL plugin: `tool: sql`. */
export const sqlTool = defineMigrationTool({
  tool: 'sql',
  options: SqlOptions,
  summary:
    'plain SQL — `NNN_name.up.sql` / `NNN_name.down.sql`, tracking table `schema_migrations` with a dirty flag (golang-migrate or runbook 001 layout)',
  tracking: (o, url) => sqlTracking(o, url ? databaseOf(url) : undefined),
  create: (options, db) => new SqlMigrationTool(options, db),
});
