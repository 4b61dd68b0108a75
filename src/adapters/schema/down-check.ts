import type { ServiceConfig } from '../../config/services.js';
import type { Duration } from '../../config/duration.js';
import type { MigrationTool } from '../../domain/rollback/migration-tool.js';
import { type AppliedMigration, versionOf } from '../../domain/rollback/plan.js';
import type { RiskClass } from '../../domain/rollback/risk-model.js';
import { classifyStep } from '../../domain/rollback/risk.js';
import { isSameSchema, schemaDifference, type SchemaDifference } from '../../domain/rollback/schema-difference.js';
import type { Logger } from '../../shared/logger.js';
import { schemaLines, trackingRelations } from '../postgres/schema-lines.js';
import { scratchErrorText, withScratchDatabase } from '../postgres/scratch-database.js';

/** One migration's result in `migrate-bot check`. */
export interface DownCheckRow {
  /** The migration as the tool names it. */
  migration: string;
  /** `ok`, `failed` (its up threw on the scratch database), `not run` (an earlier step left the scratch database unusable). */
  up: 'ok' | 'failed' | 'not run';
  /** `ok`, `failed` (the down threw), `irreversible` (no down: the tool's words in `error`), `not run`. */
  down: 'ok' | 'failed' | 'irreversible' | 'not run';
  /** The schema after the down equals the schema before the up (fingerprint lines); null when the down did not run. */
  restored: boolean | null;
  /** What the down left behind or failed to bring back; null when it did not run. */
  difference: SchemaDifference | null;
  /** The up applied again after the down (what a redeploy does): `ok`, `failed`, `not run`. */
  reapplied: 'ok' | 'failed' | 'not run';
  /** Risk classes of the down's SQL, from the same classifier as the plan card (data_loss, security, blocking, …). */
  risk: RiskClass[];
  /** sha256 (hex) of the files that define the down (the plan step's checksum), when known. */
  checksum: string | null;
  /** The first error, redacted, when something failed. */
  error: string | null;
  /** Up, down and up again, ms. */
  ms: number;
  /** False when `--since` left the migration out: its up ran, nothing was tested. */
  tested: boolean;
}

/** What {@link checkDowns} found for one service. */
export interface DownCheckReport {
  service: string;
  tool: string;
  rows: DownCheckRow[];
  /** Total, ms. */
  ms: number;
}

/** What {@link checkDowns} needs. */
export interface DownCheckOptions {
  /** A MigrationTool for the service pointed at another database (the scratch one). */
  toolFor(service: ServiceConfig, databaseUrl: string): MigrationTool;
  /** Server on which the scratch database is created. */
  scratchServerUrl: string;
  /** Only these migrations are tested (the others are only applied); all when absent. */
  only?: ReadonlySet<string>;
  lockTimeout: Duration;
  now(): Date;
  logger?: Pick<Logger, 'error'>;
  /** Told after each migration, for progress output. */
  onRow?(row: DownCheckRow): void;
}

/** True when the row shows a down that fails or does not restore the schema (exit code 1). */
export function isFailedRow(row: DownCheckRow): boolean {
  return (
    row.tested && (row.up === 'failed' || row.down === 'failed' || row.restored === false || row.reapplied === 'failed')
  );
}

/**
 * `migrate-bot check` (Liquibase's update-testing-rollback, for every tool of the registry): on
 * one scratch database, for each migration in apply order, read the schema, apply its up with the
 * service's own tool, run its down the way the bot runs it in an incident (`runDown` under the
 * rollback lock, with `lock_timeout`), read the schema again and compare object by object, then
 * apply the up again. A migration whose up fails is reported and the rest are `not run` (the
 * scratch database no longer matches any deploy). The scratch database is always dropped.
 * @throws AppError `scratch_create_failed` (setup: nothing was tested); the tool's errors reading its files
 */
export async function checkDowns(service: ServiceConfig, options: DownCheckOptions): Promise<DownCheckReport> {
  const t0 = performance.now();
  const rows = await withScratchDatabase(
    options.scratchServerUrl,
    { purpose: 'check', now: options.now, logger: options.logger },
    async (scratchUrl) => {
      const tool = options.toolFor(service, scratchUrl);
      try {
        return await checkEach(tool, scratchUrl, options);
      } finally {
        await tool.close().catch(() => undefined);
      }
    },
  );
  return { service: service.name, tool: service.migrations.tool, rows, ms: Math.round(performance.now() - t0) };
}

async function checkEach(tool: MigrationTool, scratchUrl: string, options: DownCheckOptions): Promise<DownCheckRow[]> {
  if (!tool.migrateUp) throw new Error(`${tool.tracking.tool} cannot apply migrations up to a point`);
  const files = await tool.listFiles();
  const pending: AppliedMigration[] = files.map((name, i) => ({
    name,
    order: versionOf(name) ? Number(versionOf(name)) : i + 1,
    appliedAt: null,
  }));
  const exclude = trackingRelations(tool);
  const rows: DownCheckRow[] = [];
  let broken: string | null = null;
  for (let i = 0; i < pending.length; i++) {
    const m = pending[i]!;
    const prefix = pending.slice(0, i + 1);
    const tested = !options.only || options.only.has(m.name);
    const row: DownCheckRow = {
      migration: m.name,
      up: 'not run',
      down: 'not run',
      restored: null,
      difference: null,
      reapplied: 'not run',
      risk: [],
      checksum: null,
      error: broken,
      ms: 0,
      tested,
    };
    const started = performance.now();
    if (broken === null) broken = await checkOne(tool, scratchUrl, prefix, exclude, row, options);
    row.ms = Math.round(performance.now() - started);
    if (tested) {
      rows.push(row);
      options.onRow?.(row);
    }
  }
  return rows;
}

/**
 * Up, down, compare, up again for the last migration of `prefix`, filling `row`.
 * @returns null when the scratch database is still a faithful deploy through `prefix`, else why not
 */
async function checkOne(
  tool: MigrationTool,
  scratchUrl: string,
  prefix: AppliedMigration[],
  exclude: string[],
  row: DownCheckRow,
  options: DownCheckOptions,
): Promise<string | null> {
  const before = row.tested ? await schemaLines(scratchUrl, exclude) : [];
  try {
    await tool.migrateUp!(prefix);
    row.up = 'ok';
  } catch (err) {
    row.up = 'failed';
    row.error = `up: ${scratchErrorText(err)}`;
    return `not run: the up of \`${row.migration}\` failed`;
  }
  if (!row.tested) return null;
  const applied = (await tool.listApplied()).find((a) => a.name === row.migration);
  if (!applied) {
    row.down = 'failed';
    row.error = `after its up, \`${row.migration}\` is not in the tracking table`;
    return row.error;
  }
  const [step] = await tool.describeDown([applied]);
  row.checksum = step!.checksum ?? null;
  row.risk = [...new Set((await classifyStep(step!)).findings.map((f) => f.class))];
  if (step!.irreversible) {
    row.down = 'irreversible';
    row.error = step!.irreversible;
    return null;
  }
  try {
    await tool.withRollbackLock(() => tool.runDown(step!, options.lockTimeout));
    row.down = 'ok';
  } catch (err) {
    row.down = 'failed';
    row.error = `down: ${scratchErrorText(err)}`;
  }
  row.difference = schemaDifference(before, await schemaLines(scratchUrl, exclude));
  row.restored = isSameSchema(row.difference);
  if (row.down === 'failed') return null;
  try {
    await tool.migrateUp!(prefix);
    row.reapplied = 'ok';
    return null;
  } catch (err) {
    row.reapplied = 'failed';
    row.error ??= `up again: ${scratchErrorText(err)}`;
    return `not run: the up of \`${row.migration}\` could not be applied again after its down`;
  }
}
