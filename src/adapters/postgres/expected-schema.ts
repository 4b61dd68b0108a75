import type { Logger } from '../../shared/logger.js';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { ServiceConfig } from '../../config/services.js';
import type { MigrationTool } from '../../domain/rollback/migration-tool.js';
import type { AppliedMigration } from '../../domain/rollback/plan.js';
import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import { withScratchDatabase } from './scratch-database.js';
import { FINGERPRINT_SQL, schemaLines, trackingRelations } from './schema-lines.js';

/**
 * The schema a fresh `migrate up` through some migrations gives: what the service database must
 * look like once the rollback is done (runbook 001 postflight "schema checksum").
 */
export interface ExpectedSchema {
  /** Normalised schema lines (see `schema-lines.ts`), sorted. */
  lines: string[];
  /** Names migrated up, apply order. */
  through: string[];
  /** How long building it took (scratch database, migrate up, catalog read, drop), ms. */
  builtMs: number;
  /** ISO-8601 UTC time it was built. */
  builtAt: string;
  /** True when it came from the store rather than being built now. */
  cached: boolean;
}

/**
 * Where built expected schemas are kept between processes (the prepare job builds one before
 * approval; the rollback job, often in another worker, reads it). Keyed by
 * {@link expectedSchemaKey}, which changes whenever anything that shapes the result does.
 */
export interface ExpectedSchemaStore {
  get(key: string): Promise<Omit<ExpectedSchema, 'cached'> | null>;
  put(key: string, service: string, schema: Omit<ExpectedSchema, 'cached'>): Promise<void>;
}

/** What building an expected schema needs from the composition root. */
export interface ExpectedSchemaDeps {
  /** A MigrationTool for the service pointed at another database (the scratch one). */
  toolFor(service: ServiceConfig, databaseUrl: string): MigrationTool;
  now(): Date;
  /** Where built references are kept (the state database in the bot). */
  store: ExpectedSchemaStore;
  /** Where a scratch database that could not be dropped is reported, by name. */
  logger?: Pick<Logger, 'error'>;
}

/** The tool's `*directory` options (the migrations folder, drizzle's rollback folder), sorted. */
export function migrationDirectories(service: Pick<ServiceConfig, 'migrations'>): string[] {
  return Object.entries(service.migrations)
    .filter(([k, v]) => k.endsWith('directory') && typeof v === 'string')
    .map(([, v]) => v as string)
    .sort();
}

/** sha256 of every file under the tool's `*directory` options (relative path and bytes), or null when it names none. */
async function migrationFilesDigest(service: ServiceConfig): Promise<string | null> {
  const dirs = migrationDirectories(service);
  if (!dirs.length) return null;
  const hash = createHash('sha256');
  for (const dir of dirs) {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    // Dirent.parentPath is Node ≥ 20.12; before it, the same folder was `path`.
    const files = entries
      .filter((e) => e.isFile())
      .map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name))
      .sort();
    for (const file of files)
      hash
        .update(`${path.relative(dir, file)}\0`)
        .update(await readFile(file))
        .update('\0');
  }
  return hash.digest('hex');
}

/**
 * Key of the expected schema of migrating `service` up through `through`: the tool, the names,
 * the bytes of the migration files, the scratch server and the catalog query. Null when the
 * tool's files cannot be read from a directory (then nothing is cached).
 */
export async function expectedSchemaKey(
  service: ServiceConfig,
  through: readonly AppliedMigration[],
): Promise<string | null> {
  const files = await migrationFilesDigest(service);
  if (!files) return null;
  const server = new URL(service.verify.scratch_database_url || service.database_url);
  return createHash('sha256')
    .update(
      JSON.stringify([
        service.migrations.tool,
        through.map((m) => m.name),
        files,
        `${server.host}${server.pathname}`,
        FINGERPRINT_SQL,
      ]),
    )
    .digest('hex');
}

/**
 * Builds the expected schema: a scratch database (see `scratch-database.ts`) on the service's
 * server (or `verify.scratch_database_url_env`'s), migrated up through `through` with the
 * service's own tool, its normalised schema read, and the scratch database dropped whatever happens.
 * @throws AppError `scratch_create_failed` / `scratch_migrate_failed` (`details.problems`)
 */
export async function buildExpectedSchema(
  service: ServiceConfig,
  serviceTool: MigrationTool,
  through: readonly AppliedMigration[],
  deps: ExpectedSchemaDeps,
): Promise<Omit<ExpectedSchema, 'cached'>> {
  const t0 = performance.now();
  const server = service.verify.scratch_database_url || service.database_url;
  return withScratchDatabase(server, { purpose: 'verify', now: deps.now, logger: deps.logger }, async (scratchUrl) => {
    const tool = deps.toolFor(service, scratchUrl);
    try {
      await tool.migrateUp!([...through]);
      const lines = await schemaLines(scratchUrl, trackingRelations(serviceTool));
      return {
        lines,
        through: through.map((m) => m.name),
        builtMs: Math.round(performance.now() - t0),
        builtAt: deps.now().toISOString(),
      };
    } catch (err) {
      throw scratchMigrateError(err);
    } finally {
      await tool.close().catch(() => undefined);
    }
  });
}

/**
 * The AppError of an up that failed on a scratch database, with the tool's message (redacted).
 * @returns AppError `scratch_migrate_failed` (`details.problems`: the message)
 */
export function scratchMigrateError(err: unknown, what = 'the scratch migrate up'): AppError {
  const message = redactSecrets((err as Error).message);
  return new AppError({
    code: 'scratch_migrate_failed',
    message: `${what} failed: ${message}`,
    cause: err,
    details: { problems: [message] },
  });
}

/**
 * The expected schema through `through`: from the store when one was built for the same key
 * (the same files, names, server and query), else built now and kept.
 * @throws AppError as {@link buildExpectedSchema}
 */
export async function expectedSchema(
  service: ServiceConfig,
  serviceTool: MigrationTool,
  through: readonly AppliedMigration[],
  deps: ExpectedSchemaDeps,
): Promise<ExpectedSchema> {
  const key = await expectedSchemaKey(service, through);
  const kept = key ? await deps.store.get(key) : null;
  if (kept) return { ...kept, cached: true };
  const built = await buildExpectedSchema(service, serviceTool, through, deps);
  if (key) await deps.store.put(key, service.name, built);
  return { ...built, cached: false };
}

/**
 * The state database's `expected_schemas` table as an {@link ExpectedSchemaStore}. Rows older
 * than `keepDays` (default 14) are deleted as new ones are written.
 */
export class PostgresExpectedSchemaStore implements ExpectedSchemaStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly keepDays = 14,
  ) {}

  async get(key: string): Promise<Omit<ExpectedSchema, 'cached'> | null> {
    const { rows } = await this.pool.query<{ lines: string[]; through: string[]; built_ms: number; built_at: Date }>(
      'SELECT lines, through, built_ms, built_at FROM expected_schemas WHERE key = $1',
      [key],
    );
    const row = rows[0];
    return row
      ? { lines: row.lines, through: row.through, builtMs: row.built_ms, builtAt: row.built_at.toISOString() }
      : null;
  }

  async put(key: string, service: string, schema: Omit<ExpectedSchema, 'cached'>): Promise<void> {
    await this.pool.query(
      `WITH gone AS (DELETE FROM expected_schemas WHERE built_at < now() - make_interval(days => $6))
       INSERT INTO expected_schemas (key, service, through, lines, built_ms, built_at) VALUES ($1, $2, $3, $4, $5, $7)
       ON CONFLICT (key) DO NOTHING`,
      [key, service, schema.through, schema.lines, schema.builtMs, this.keepDays, schema.builtAt],
    );
  }
}
