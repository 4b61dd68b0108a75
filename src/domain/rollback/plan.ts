import { AppError } from '../../shared/errors.js';

/**
 * A row of a tracking table, in words every migration tool shares (DESIGN.md "Plugins come
 * from registries"). Each adapter maps its own table onto it: knex `knex_migrations(id, name,
 * batch, migration_time)`, node-pg-migrate `pgmigrations(id, name, run_on)`, plain SQL
 * `schema_migrations(version, dirty[, applied_at, checksum])`, drizzle
 * `__drizzle_migrations(id, hash, created_at)` matched to its journal.
 */
export interface AppliedMigration {
  /** The migration as the tool names it, e.g. `007_add_security_tables.ts`, `0004_add_idempotency_tables`. */
  name: string;
  /** Apply order, ascending and unique within a service (a row id, a version, a journal timestamp in ms). */
  order: number;
  /** ISO-8601 UTC, or null when the tracking table does not record it (golang-migrate). */
  appliedAt: string | null;
  /** The tool's own grouping, for people: knex `batch 3`. Absent when the tool has none. */
  group?: string;
  /** Recorded as partially applied (golang-migrate / runbook 001 `dirty = true`). */
  dirty?: boolean;
  /** The file differs from what was applied (a checksum or hash that no longer matches). */
  modified?: boolean;
}

/**
 * What a computed step reverts: the migrations whose tracking rows it removes (or, for
 * golang-migrate, the version it sets), newest first, and the migration that stays newest.
 * A plan step carrying it runs its SQL with `lock_timeout` and moves the tracking table to
 * `target` the way the tool expects, in the same transaction when its statements allow one.
 */
export interface ComputedRevert {
  reverts: Array<{ name: string; order: number }>;
  target: { name: string; order: number } | null;
}

/** One archive table a plan step fills before its down runs. */
export interface ArchiveCopy {
  /** The archive schema (`archive.schema`). */
  schema: string;
  /** The archive table: `<incident short id>_<step>_<object>`, at most 63 bytes. */
  table: string;
  /** What it keeps, in words: `column public.events.search_vector`, `table public.ticket_scans`. */
  object: string;
  /** Index into the step's down SQL of the statement that destroys it. */
  statement: number;
  /** The statements that make the copy (schema, table, comment); run before the down, in its transaction when it has one. */
  sql: string[];
  estimatedBytes: number;
  estimatedRows: number;
}

/**
 * What to do with archived rows whose key now exists with other values: `refuse` (the default:
 * the plan is not made, the count is shown), `skip` (keep the values there now), `overwrite`
 * (write the archived values over them; a destructive plan, with its approvals).
 */
export type OnConflict = 'refuse' | 'skip' | 'overwrite';

/** One archive table going back: the plan step's `unarchive`, covered by the digest. */
export interface UnarchiveStep {
  archive: { schema: string; table: string };
  kind: 'table' | 'column';
  target: { schema: string; table: string; column?: string };
  /** The columns written (a table: every archive column; a column: the key and the column). */
  columns: string[];
  key: string[];
  onConflict: OnConflict;
  /** Rows in the archive when the plan was made. */
  rows: number;
  /** Conflicts counted when the plan was made. */
  conflicts: number;
  /** The key column that owns a sequence, moved past the largest key after the write; else null. */
  serialKey: string | null;
}

/** One down migration of a plan. */
export interface PlanStep {
  /** The migration as the tool names it ({@link AppliedMigration.name}). */
  migration: string;
  /** {@link AppliedMigration.order} of its tracking row. */
  order: number;
  /** The tool's grouping, as {@link AppliedMigration.group}. */
  group?: string;
  /**
   * False when the down runs outside a transaction: knex `config.transaction === false`,
   * node-pg-migrate `pgm.noTransaction()`, or a SQL file with statements PostgreSQL refuses
   * inside a transaction block (`CREATE INDEX CONCURRENTLY`, `VACUUM`; runbook 000 §2).
   */
  transactional: boolean;
  /** SQL the down migration will issue, captured without running it (best effort; empty when unknown). */
  sql: string[];
  /** Partially applied: its down may meet objects the up never created (runbook 001 "Dirty Migration Recovery"). */
  dirty?: boolean;
  /** The migration file changed since it was applied (checksum/hash mismatch). */
  modified?: boolean;
  /**
   * Why the down cannot run, in words for the plan card: no down, `down = false`, no rollback
   * file, or a down that threw while its SQL was captured. The bot offers a restore instead
   * and never runs or approves such a step (runbook 003, Option B).
   */
  irreversible?: string;
  /** SQL the reverted up issued, captured the same way (to see what it destroyed); absent when unknown. */
  upSql?: string[];
  /** sha256 (hex) of the file(s) that define the down, read when the plan was made: part of the plan digest. */
  checksum?: string;
  /**
   * Set on the one step of a computed plan (SQL from the live schema to the target, not from the
   * files): what it reverts and where it leaves the tracking table. Part of the plan digest.
   */
  computed?: ComputedRevert;
  /** Copies of what this step's down destroys, made before it (archive before destroy). Part of the plan digest. */
  archive?: ArchiveCopy[];
  /** Set on the steps of an unarchive incident: the archive table this step writes back, and how. Part of the plan digest. */
  unarchive?: UnarchiveStep;
}

/** Strips a migration file extension: `007_add_security_tables.ts` → `007_add_security_tables`; `007_x.up.sql` → `007_x`. */
export function baseName(name: string): string {
  return name.replace(/(\.(up|down))?\.((c|m)?(j|t)s|sql)$/i, '');
}

/** Leading version digits: `007_add_security_tables.ts` → `007`; `20240101120000_x.js` → `20240101120000`. */
export function versionOf(name: string): string | null {
  return /^(\d+)/.exec(name)?.[1] ?? null;
}

/**
 * What the user may type for a migration: a version (`007`) or a file name with or
 * without extension. Anything else (spaces, `;`, `/`, `..`) is refused before lookup.
 */
export const MIGRATION_INPUT = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$/;

/** True when `input` may name a migration: {@link MIGRATION_INPUT} and no `..`. */
export function isMigrationInput(input: string): boolean {
  return MIGRATION_INPUT.test(input) && !input.includes('..');
}

/**
 * Refuses text that cannot name a migration, before any lookup or record.
 * @throws AppError `command_invalid_migration`
 */
export function assertMigrationInput(input: string): void {
  if (!isMigrationInput(input)) {
    throw new AppError({
      code: 'command_invalid_migration',
      message: `invalid migration argument ${JSON.stringify(input)}`,
      userMessage:
        'A migration is a version like `007` or a file name like `007_add_security_tables.ts` (letters, digits, `_`, `-`, `.`).',
    });
  }
}

/**
 * Finds the applied migration the user meant (runbook 003 "Initial triage": the migration as people name it): by version
 * prefix (`007` matches `007_…`, also `7` matches `007_…`), or by full name with or
 * without extension.
 *
 * @param applied tracking-table rows, any order
 * @param input what the user typed
 * @param files migration file names in the service's directory, to tell "not applied" from "unknown"
 * @throws AppError `command_invalid_migration` (bad characters), `command_ambiguous_migration`,
 *   `command_migration_not_applied`, `command_unknown_migration` — each with a userMessage
 *   listing the applied migrations the user could have meant.
 */
export function resolveMigration(applied: AppliedMigration[], input: string, files: string[] = []): AppliedMigration {
  assertMigrationInput(input);
  const wanted = baseName(input);
  const exact = applied.filter((m) => m.name === input || baseName(m.name) === wanted);
  const byVersion = /^\d+$/.test(input)
    ? applied.filter((m) => versionOf(m.name) !== null && BigInt(versionOf(m.name)!) === BigInt(input))
    : [];
  const matches = exact.length > 0 ? exact : byVersion;

  const list = (ms: AppliedMigration[]): string =>
    ms
      .slice()
      .sort((a, b) => b.order - a.order)
      .slice(0, 10)
      .map((m) => `• \`${m.name}\`${m.group ? ` (${m.group})` : ''}`)
      .join('\n');

  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new AppError({
      code: 'command_ambiguous_migration',
      message: `${input} matches ${matches.length} applied migrations`,
      userMessage: `\`${input}\` matches more than one applied migration. Use the full name:\n${list(matches)}`,
    });
  }
  const file = files.find(
    (f) =>
      f === input ||
      baseName(f) === wanted ||
      (/^\d+$/.test(input) && versionOf(f) !== null && BigInt(versionOf(f)!) === BigInt(input)),
  );
  if (file) {
    throw new AppError({
      code: 'command_migration_not_applied',
      message: `${file} exists but is not in the tracking table`,
      userMessage: `\`${file}\` is not applied, so there is nothing to roll back. Applied migrations, newest first:\n${list(applied) || '(none)'}`,
    });
  }
  const similar = applied.filter((m) => m.name.toLowerCase().includes(wanted.toLowerCase().slice(0, 3)));
  throw new AppError({
    code: 'command_unknown_migration',
    message: `no applied migration matches ${input}`,
    userMessage: `No applied migration matches \`${input}\`. ${similar.length ? 'Did you mean one of these?' : 'Applied migrations, newest first:'}\n${list(similar.length ? similar : applied) || '(none)'}`,
  });
}

/**
 * The migrations a rollback of `target` reverts: every migration applied after it,
 * then the target itself, newest first (by {@link AppliedMigration.order}, the tool's apply
 * order). Steps are returned without SQL; the migrations adapter fills it in.
 */
export function migrationsToRevert(applied: AppliedMigration[], target: AppliedMigration): AppliedMigration[] {
  return applied.filter((m) => m.order >= target.order).sort((a, b) => b.order - a.order);
}

/** The migrations a plan reverts, newest first: each step's, or what a computed step reverts. */
export function revertedMigrations(plan: readonly PlanStep[]): string[] {
  return plan.flatMap((s) => (s.computed ? s.computed.reverts.map((r) => r.name) : [s.migration]));
}

/** True when `step` has already run: none of the migrations it reverts is in `stillApplied` (tracking-table names). */
export function stepHasRun(step: PlanStep, stillApplied: ReadonlySet<string>): boolean {
  return !revertedMigrations([step]).some((name) => stillApplied.has(name));
}

/** The statements that archive what a step's down destroys, in order (empty when it archives nothing). */
export function archiveStatements(step: Pick<PlanStep, 'archive'>): string[] {
  return step.archive?.flatMap((a) => a.sql) ?? [];
}
