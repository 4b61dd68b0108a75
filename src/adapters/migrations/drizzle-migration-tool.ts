import { readFileSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { z } from 'zod';
import type { Duration } from '../../config/duration.js';
import type { TrackingDescription, StepControl } from '../../domain/rollback/migration-tool.js';
import type { AppliedMigration, ComputedRevert, PlanStep } from '../../domain/rollback/plan.js';
import { AppError } from '../../shared/errors.js';
import {
  defineMigrationTool,
  fileChecksum,
  Identifier,
  nameCaseSql,
  newestFirstSql,
  type MigrationsBase,
} from './plugin.js';
import { PostgresMigrationTool } from './postgres-migration-tool.js';
import { assertAllTracked, assertTracked, runSqlDown } from './postgres-rollback.js';
import { readServiceDb, tableColumns, trackingLayoutError, type ServiceDb } from './service-db.js';
import { parseSqlFile } from './sql-statements.js';

/** `migrations:` for drizzle (runbook 002 "Using Drizzle"; drizzle-kit's output folder and drizzle-orm's migrator). */
const DrizzleOptions = z
  .object({
    tool: z.literal('drizzle'),
    /** drizzle-kit's `out` folder, holding `NNNN_tag.sql` and `meta/_journal.json`; relative to services.yaml. */
    directory: z.string().min(1),
    /** Hand-written downs `NNNN_rollback_*.sql` (runbook 002 "Rollback Scripts"); default `<directory>/rollback`. */
    rollback_directory: z.string().min(1).optional(),
    /** drizzle-orm's `migrationsTable`. */
    table: Identifier.default('__drizzle_migrations'),
    /** drizzle-orm's `migrationsSchema`. */
    schema: Identifier.default('drizzle'),
  })
  .strict();

type DrizzleOptions = z.infer<typeof DrizzleOptions> & MigrationsBase;

const EXPECTED = '`id`, `hash`, `created_at` (drizzle)';

/** One entry of drizzle-kit's `meta/_journal.json` with the sha256 drizzle-orm records for its file. */
interface JournalMigration {
  tag: string;
  /** The entry's `when`, ms: what drizzle-orm writes to `created_at`. */
  when: number;
  hash: string;
}

/**
 * The journal's entries with drizzle-orm's own hashes (`readMigrationFiles`: sha256 of the
 * whole `.sql` file), in journal order.
 * @throws AppError `rollback_missing_file` when the journal or a file it lists is missing
 */
function readJournal(directory: string): JournalMigration[] {
  try {
    const journal = JSON.parse(readFileSync(path.join(directory, 'meta', '_journal.json'), 'utf8')) as {
      entries: Array<{ tag: string; when: number }>;
    };
    const files = readMigrationFiles({ migrationsFolder: directory });
    return journal.entries.map((e, i) => ({ tag: e.tag, when: Number(e.when), hash: files[i]!.hash }));
  } catch (cause) {
    throw new AppError({
      code: 'rollback_missing_file',
      message: `cannot read the drizzle journal in ${directory}: ${(cause as Error).message}`,
      cause,
      userMessage: `The drizzle migrations folder could not be read (${(cause as Error).message}). Check \`migrations.directory\` in services.yaml: it is drizzle-kit's \`out\` folder with \`meta/_journal.json\`.`,
    });
  }
}

/** What triage shows for a drizzle service: `__drizzle_migrations` newest first, rows named by their journal tag. Drizzle's migrator takes no lock. */
export function drizzleTracking(o: Pick<DrizzleOptions, 'schema' | 'table' | 'directory'>): TrackingDescription {
  let names = new Map<string, string>();
  try {
    names = new Map(readJournal(o.directory).map((j) => [String(j.when), j.tag]));
  } catch {
    // Named at start-up and on the plan; triage then shows created_at values.
  }
  return {
    tool: 'drizzle',
    table: { schema: o.schema, name: o.table },
    historySql: (quoted, limit) =>
      newestFirstSql(quoted, limit, 'created_at', `${nameCaseSql('created_at', names)} AS name, *`),
    probes: [],
  };
}

/**
 * MigrationTool for drizzle (runbook 002 "Platform Playbook"). Maps `__drizzle_migrations(id,
 * hash, created_at)` to drizzle-kit's journal (`created_at` = the entry's `when`; a `hash` that
 * differs from the file's sha256 is flagged as modified), and reverts `NNNN_tag` with the
 * hand-written `rollback/NNNN_rollback_*.sql`, split by PostgreSQL's parser. The down and the
 * deletion of its tracking row commit together — runbook 002's manual script forgets the row,
 * and drizzle would then skip re-applying the migration.
 */
export class DrizzleMigrationTool extends PostgresMigrationTool {
  readonly tracking: TrackingDescription;
  private readonly rollbackDirectory: string;

  constructor(
    private readonly options: DrizzleOptions,
    db: ServiceDb,
  ) {
    super(db, options.directory);
    this.tracking = drizzleTracking(options);
    this.rollbackDirectory = options.rollback_directory ?? path.join(options.directory, 'rollback');
  }

  private quoted(): string {
    return `${pg.escapeIdentifier(this.options.schema)}.${pg.escapeIdentifier(this.options.table)}`;
  }

  async listApplied(): Promise<AppliedMigration[]> {
    const journal = readJournal(this.options.directory);
    return readServiceDb(
      this.db,
      'read the tracking table',
      async (client) => {
        const table = { schema: this.options.schema, name: this.options.table };
        const columns = await tableColumns(client, table);
        if (columns === null || !['id', 'hash', 'created_at'].every((c) => columns.includes(c)))
          throw trackingLayoutError(this.db.service, 'drizzle', table, columns, EXPECTED);
        const { rows } = await client.query<{ hash: string; created_at: string | null }>(
          `SELECT hash, created_at::text AS created_at FROM ${this.quoted()} ORDER BY created_at, id`,
        );
        return rows.map((r) => {
          const when = Number(r.created_at);
          const entry = journal.find((j) => j.when === when);
          const m: AppliedMigration = {
            name: entry?.tag ?? String(r.created_at),
            order: when,
            appliedAt: Number.isFinite(when) ? new Date(when).toISOString() : null,
          };
          if (entry && entry.hash !== r.hash) m.modified = true;
          return m;
        });
      },
      this.session,
    );
  }

  async listFiles(): Promise<string[]> {
    return readJournal(this.options.directory).map((j) => j.tag);
  }

  /** `rollback/NNNN_rollback_*.sql` for tag `NNNN_…` (runbook 002 "Rollback Scripts"), or null. */
  private async rollbackFile(tag: string): Promise<string | null> {
    const prefix = /^(\d+)_/.exec(tag)?.[1];
    if (!prefix) return null;
    const entries = await readdir(this.rollbackDirectory).catch(() => [] as string[]);
    const found = entries.filter((f) => f.startsWith(`${prefix}_rollback`) && f.endsWith('.sql')).sort();
    return found[0] ? path.join(this.rollbackDirectory, found[0]) : null;
  }

  /** Why a migration without a rollback script cannot be rolled back, in words. */
  private noRollbackFile(tag: string): string {
    return `\`${tag}\` has no rollback script (\`${path.basename(this.rollbackDirectory)}/${/^(\d+)_/.exec(tag)?.[1] ?? tag}_rollback_*.sql\`), so it cannot be rolled back automatically`;
  }

  private async downOf(
    m: Pick<AppliedMigration, 'name'>,
  ): Promise<{ file: string; statements: string[]; outsideTransaction: string[] }> {
    const file = await this.rollbackFile(m.name);
    if (!file) {
      throw new AppError({
        code: 'rollback_irreversible',
        message: `${m.name} has no rollback file in ${this.rollbackDirectory}`,
        userMessage: `${this.noRollbackFile(m.name)}. Consider restoring from the snapshot instead (runbook 003, Option B).`,
      });
    }
    const parsed = await parseSqlFile(await readFile(file, 'utf8'), path.basename(file));
    return { file, statements: parsed.statements, outsideTransaction: parsed.outsideTransaction };
  }

  async describeDown(migrations: AppliedMigration[]): Promise<PlanStep[]> {
    const steps: PlanStep[] = [];
    for (const m of migrations) {
      const upFile = path.join(this.options.directory, `${m.name}.sql`);
      const upSql = await readFile(upFile, 'utf8')
        .then((text) => parseSqlFile(text, `${m.name}.sql`))
        .then(
          (p) => p.statements,
          () => null,
        );
      const rollback = await this.rollbackFile(m.name);
      const base = {
        migration: m.name,
        order: m.order,
        checksum: await fileChecksum(rollback ? [upFile, rollback] : [upFile]),
        ...(upSql?.length ? { upSql } : {}),
        ...(m.modified ? { modified: true } : {}),
      };
      if (!rollback) {
        steps.push({ ...base, transactional: true, sql: [], irreversible: this.noRollbackFile(m.name) });
        continue;
      }
      const down = await this.downOf(m);
      steps.push({ ...base, transactional: down.outsideTransaction.length === 0, sql: down.statements });
    }
    return steps;
  }

  /**
   * drizzle-orm's own `migrate()` (node-postgres) on a copy of the journal cut after the last of
   * `migrations`: drizzle applies every journal entry newer than the newest `created_at` in its
   * table, so a shorter journal is how it stops at a migration.
   */
  async migrateUp(migrations: AppliedMigration[]): Promise<void> {
    if (!migrations.length) return;
    const journal = JSON.parse(await readFile(path.join(this.options.directory, 'meta', '_journal.json'), 'utf8')) as {
      entries: Array<{ tag: string }>;
    };
    const last = migrations[migrations.length - 1]!.name;
    const cut = journal.entries.findIndex((e) => e.tag === last);
    if (cut < 0)
      throw new AppError({ code: 'rollback_missing_file', message: `${last} is not in the drizzle journal` });
    const entries = journal.entries.slice(0, cut + 1);
    const folder = await mkdtemp(path.join(tmpdir(), 'migrate-bot-drizzle-'));
    try {
      await mkdir(path.join(folder, 'meta'));
      await writeFile(path.join(folder, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
      for (const e of entries)
        await copyFile(path.join(this.options.directory, `${e.tag}.sql`), path.join(folder, `${e.tag}.sql`));
      const client = new pg.Client({ connectionString: this.db.url, application_name: 'migrate-bot-scratch' });
      await client.connect();
      try {
        await migrate(drizzle({ client }), {
          migrationsFolder: folder,
          migrationsTable: this.options.table,
          migrationsSchema: this.options.schema,
        });
      } finally {
        await client.end();
      }
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  }

  protected async untrack(client: pg.ClientBase, revert: ComputedRevert): Promise<void> {
    const orders = revert.reverts.map((r) => String(r.order));
    const { rowCount } = await client.query(`DELETE FROM ${this.quoted()} WHERE created_at = ANY($1::bigint[])`, [
      orders,
    ]);
    assertAllTracked(
      rowCount,
      revert.reverts.map((r) => r.name),
    );
  }

  async runDown(step: PlanStep, lockTimeout: Duration, control?: StepControl): Promise<{ durationMs: number }> {
    const { statements } = await this.downOf({ name: step.migration });
    return runSqlDown(this.session, {
      step,
      statements,
      lockTimeout,
      control,
      track: async (client) => {
        assertTracked(
          (await client.query(`DELETE FROM ${this.quoted()} WHERE created_at = $1`, [String(step.order)])).rowCount,
          step.migration,
        );
      },
    });
  }
}

/** The drizzle plugin: `tool: drizzle`. */
export const drizzleTool = defineMigrationTool({
  tool: 'drizzle',
  options: DrizzleOptions,
  summary:
    'drizzle — drizzle-kit `NNNN_tag.sql` + `meta/_journal.json`, hand-written `rollback/NNNN_rollback_*.sql`, tracking table `drizzle.__drizzle_migrations(id, hash, created_at)`',
  tracking: drizzleTracking,
  create: (options, db) => new DrizzleMigrationTool(options, db),
});
