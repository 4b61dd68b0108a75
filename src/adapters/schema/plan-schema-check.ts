import type { ServiceConfig } from '../../config/services.js';
import type { MigrationTool } from '../../domain/rollback/migration-tool.js';
import { type AppliedMigration, type PlanStep, revertedMigrations } from '../../domain/rollback/plan.js';
import { computedStepName, type PlanSchemaCheck, unrunSchemaCheck } from '../../domain/rollback/plan-schema-check.js';
import { type DownCheckRecords, stepTestedness } from '../../domain/rollback/down-check-record.js';
import { isSameSchema, schemaDifference } from '../../domain/rollback/schema-difference.js';
import type { Logger } from '../../shared/logger.js';
import { parseSqlFile } from '../migrations/sql-statements.js';
import { pgClientInvocation } from '../pgdump/pg-client-env.js';
import { streamPgDump } from '../pgdump/pg-dump-stream.js';
import { pgRestoreInto } from '../pgdump/pg-restore.js';
import { connectClient } from '../postgres/connect.js';
import { expectedSchemaKey, type ExpectedSchemaStore } from '../postgres/expected-schema.js';
import { schemaLines, trackingRelations } from '../postgres/schema-lines.js';
import { scratchErrorText, withScratchDatabase } from '../postgres/scratch-database.js';
import { computeSchemaDiff } from './schema-diff.js';

/** What {@link checkPlanSchema} needs from the composition root. */
export interface PlanSchemaCheckDeps {
  /** A MigrationTool for the service pointed at another database (a scratch one). */
  toolFor(service: ServiceConfig, databaseUrl: string): MigrationTool;
  now(): Date;
  logger?: Pick<Logger, 'error'>;
  /** Where the target build's lines are kept as the fingerprint's reference (so verification need not build it again). */
  expected?: ExpectedSchemaStore;
  /** `migrate-bot check --record` results, to say whether each down was tested. */
  records?: DownCheckRecords;
  /** Told after each scratch database is created and after it is dropped (the incident's event log). */
  onScratch?(event: 'scratch_created' | 'scratch_dropped', database: string): Promise<void> | void;
}

/**
 * Checks a plan against the schemas themselves, before approval, on scratch databases of the
 * bot's own naming (always dropped):
 * 1. the target schema: a migrate up with the service's own tool through the migrations that stay;
 * 2. the computed plan: migra's SQL from the live schema to the target, applied to a schema-only
 *    copy of the live database (pg_dump --schema-only, pg_restore) to prove it reaches the target;
 *    objects it cannot bring there are named and the computed plan is not offered;
 * 3. the files' downs: a migrate up through every applied migration, then the plan's downs as the
 *    bot runs them, compared with the target;
 * 4. the live schema against both builds (for a dirty version: which one it matches).
 * Reads the service database only (catalogs, pg_dump of the schema).
 * @returns null when the tool cannot migrate a scratch database up to a point; otherwise a check whose `error` says why it could not run
 */
export async function checkPlanSchema(
  service: ServiceConfig,
  liveTool: MigrationTool,
  plan: readonly PlanStep[],
  deps: PlanSchemaCheckDeps,
): Promise<PlanSchemaCheck | null> {
  if (!liveTool.migrateUp) return null;
  const t0 = performance.now();
  const applied = await liveTool.listApplied();
  const reverted = new Set(revertedMigrations(plan));
  const keep = applied.filter((m) => !reverted.has(m.name));
  const reverts = applied.filter((m) => reverted.has(m.name)).sort((a, b) => b.order - a.order);
  const tested = deps.records
    ? stepTestedness(plan, await deps.records.latest(service.name, [...reverted]).catch(() => []))
    : plan.map((s) => ({ migration: s.migration, state: 'untested' as const, checkedAt: null }));
  const base = {
    checkedAt: deps.now().toISOString(),
    target: keep.at(-1)?.name ?? null,
    tested,
  };
  const server = service.verify.scratch_database_url || service.database_url;
  const scratch = { purpose: 'plan' as const, now: deps.now, logger: deps.logger, onLifecycle: deps.onScratch };
  try {
    const check = await withScratchDatabase(server, scratch, async (scratchUrl) => {
      const tool = deps.toolFor(service, scratchUrl);
      try {
        return await checkOnScratch({ service, liveTool, tool, scratchUrl, plan, applied, keep, reverts, deps });
      } finally {
        await tool.close().catch(() => undefined);
      }
    });
    return { ...base, ...check, ms: Math.round(performance.now() - t0), error: null };
  } catch (err) {
    return unrunSchemaCheck({ ...base, ms: Math.round(performance.now() - t0) }, scratchErrorText(err));
  }
}

interface OnScratch {
  service: ServiceConfig;
  liveTool: MigrationTool;
  tool: MigrationTool;
  scratchUrl: string;
  plan: readonly PlanStep[];
  applied: AppliedMigration[];
  keep: AppliedMigration[];
  reverts: AppliedMigration[];
  deps: PlanSchemaCheckDeps;
}

async function checkOnScratch(
  o: OnScratch,
): Promise<Omit<PlanSchemaCheck, 'checkedAt' | 'target' | 'tested' | 'ms' | 'error'>> {
  const exclude = trackingRelations(o.liveTool);
  const liveUrl = o.service.database_url;
  const built = performance.now();
  try {
    await o.tool.migrateUp!(o.keep);
  } catch (err) {
    throw new Error(`the target build failed: ${scratchErrorText(err)}`, { cause: err });
  }
  const [target, live] = await Promise.all([schemaLines(o.scratchUrl, exclude), schemaLines(liveUrl, exclude)]);
  await keepAsReference(o, target, Math.round(performance.now() - built));
  // migra reads the target build now; its proof on a copy of the live schema runs beside the round trip.
  const computing = computedPlan(o, liveUrl, target, exclude);
  await computing.diffed;

  let downs: PlanSchemaCheck['downs'] = { state: 'not_run', difference: null, error: null };
  let full: string[] | null = null;
  try {
    await o.tool.migrateUp!(o.applied);
    full = await schemaLines(o.scratchUrl, exclude);
  } catch (err) {
    downs = {
      state: 'not_run',
      difference: null,
      error: `a fresh migrate up through every applied migration fails: ${scratchErrorText(err)}`,
    };
  }
  if (full && !o.plan.some((s) => s.irreversible || s.computed)) downs = await roundTrip(o, target, exclude);
  const computed = await computing.proved;
  const fromApplied = full ? schemaDifference(full, live) : null;
  const fromTarget = schemaDifference(target, live);
  const matches =
    fromApplied && isSameSchema(fromApplied) ? 'applied' : isSameSchema(fromTarget) ? 'target' : 'neither';
  return { downs, live: { matches, fromApplied, fromTarget }, computed };
}

/** The files' downs of the plan, run on the full build the way the bot runs them, compared with the target. */
async function roundTrip(o: OnScratch, target: string[], exclude: string[]): Promise<PlanSchemaCheck['downs']> {
  const names = new Set(o.reverts.map((m) => m.name));
  // The scratch database's own tracking rows: ids and orders differ from the live ones.
  const rows = (await o.tool.listApplied()).filter((m) => names.has(m.name)).sort((a, b) => b.order - a.order);
  const steps = await o.tool.describeDown(rows);
  try {
    await o.tool.withRollbackLock(async () => {
      for (const step of steps) await o.tool.runDown(step, o.service.lock_timeout);
    });
  } catch (err) {
    return { state: 'failed', difference: null, error: scratchErrorText(err) };
  }
  const difference = schemaDifference(target, await schemaLines(o.scratchUrl, exclude));
  return { state: isSameSchema(difference) ? 'restore_target' : 'differ', difference, error: null };
}

/** The target build's lines become the schema fingerprint's reference for this plan (see `expected-schema.ts`). */
async function keepAsReference(o: OnScratch, lines: string[], builtMs: number): Promise<void> {
  if (!o.deps.expected) return;
  const key = await expectedSchemaKey(o.service, o.keep).catch(() => null);
  if (!key) return;
  await o.deps.expected
    .put(key, o.service.name, {
      lines,
      through: o.keep.map((m) => m.name),
      builtMs,
      builtAt: o.deps.now().toISOString(),
    })
    .catch(() => undefined);
}

/**
 * migra's SQL from the live schema to the target, proved on a schema-only copy of the live
 * database: `diffed` settles once both catalogs are read (the scratch database may then change),
 * `proved` once the copy says whether the SQL reaches the target.
 */
function computedPlan(
  o: OnScratch,
  liveUrl: string,
  target: string[],
  exclude: string[],
): { diffed: Promise<void>; proved: Promise<PlanSchemaCheck['computed']> } {
  // The tool's own schema (drizzle's) and the bot's archive never take part in a diff.
  const own = o.liveTool.tracking.table.schema;
  const archive = o.service.archive === 'off' ? 'migrate_bot_archive' : o.service.archive.schema;
  const skip = [...new Set([...(own === 'public' ? [] : [own]), archive, 'migrate_bot_archive'])];
  const diff = computeSchemaDiff(liveUrl, o.scratchUrl, exclude, skip);
  const proved = (async (): Promise<PlanSchemaCheck['computed']> => {
    let statements: string[];
    let diffMs: number;
    try {
      ({ statements, ms: diffMs } = await diff);
    } catch (err) {
      return { step: null, diffMs: 0, unexpressed: [], error: scratchErrorText(err) };
    }
    let parsed: { statements: string[]; outsideTransaction: string[] };
    let unexpressed: string[];
    try {
      // An empty diff (the live schema already is the target) is a tracking-table change only.
      parsed = statements.length
        ? await parseSqlFile(statements.join('\n'), 'computed plan')
        : { statements: [], outsideTransaction: [] };
      unexpressed = await unexpressedOnCopy(o, liveUrl, parsed.statements, target, exclude);
    } catch (err) {
      return {
        step: null,
        diffMs,
        unexpressed: [],
        error: `the computed SQL fails on a schema-only copy: ${scratchErrorText(err)}`,
      };
    }
    if (unexpressed.length) return { step: null, diffMs, unexpressed, error: null };
    const newest = o.keep.at(-1);
    const targetRow = newest ? { name: newest.name, order: newest.order } : null;
    const step: PlanStep = {
      migration: computedStepName(targetRow),
      order: newest?.order ?? 0,
      transactional: parsed.outsideTransaction.length === 0,
      sql: parsed.statements,
      computed: { reverts: o.reverts.map((m) => ({ name: m.name, order: m.order })), target: targetRow },
    };
    return { step, diffMs, unexpressed: [], error: null };
  })();
  proved.catch(() => undefined); // settled by the caller; never an unhandled rejection meanwhile
  return {
    diffed: diff.then(
      () => undefined,
      () => undefined,
    ),
    proved,
  };
}

/** Applies `statements` to a schema-only copy of the live database; returns the objects that still differ from the target. */
async function unexpressedOnCopy(
  o: OnScratch,
  liveUrl: string,
  statements: string[],
  target: string[],
  exclude: string[],
): Promise<string[]> {
  const server = o.service.verify.scratch_database_url || o.service.database_url;
  return withScratchDatabase(
    server,
    { purpose: 'plan', now: o.deps.now, logger: o.deps.logger },
    async (copyUrl, copy) => {
      const { url, env } = pgClientInvocation(liveUrl, { PGAPPNAME: 'migrate-bot-schema-copy' });
      await streamPgDump(
        {
          bin: 'pg_dump',
          args: ['--format=custom', '--schema-only', '--no-password', '--lock-wait-timeout=5s', `--dbname=${url}`],
          env,
          timeoutMs: 120_000,
        },
        (archive) => pgRestoreInto(server, archive, copy),
      );
      const client = await connectClient({ connectionString: copyUrl, application_name: 'migrate-bot-schema-copy' });
      try {
        for (const sql of statements) await client.query(sql);
      } finally {
        await client.end().catch(() => undefined);
      }
      const d = schemaDifference(target, await schemaLines(copyUrl, exclude));
      return [...d.remaining, ...d.missing, ...d.changed];
    },
  );
}
