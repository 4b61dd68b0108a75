import { AppError } from '../shared/errors.js';

/** A row of the tracking table (knex: `knex_migrations(id, name, batch, migration_time)`). */
export interface AppliedMigration {
  id: number;
  /** File name as recorded, e.g. `007_add_security_tables.ts`. */
  name: string;
  batch: number;
  /** ISO-8601 UTC. */
  appliedAt: string;
}

/** One down migration of a plan. */
export interface PlanStep {
  /** File name as recorded in the tracking table. */
  migration: string;
  /** Tracking-table row id. */
  trackingId: number;
  batch: number;
  /** False when the migration's `config.transaction === false` (e.g. CREATE INDEX CONCURRENTLY; runbook 000 §2). */
  transactional: boolean;
  /** SQL the down migration will issue, captured without running it (best effort; empty when unknown). */
  sql: string[];
}

/** Strips the extension: `007_add_security_tables.ts` → `007_add_security_tables`. */
export function baseName(name: string): string {
  return name.replace(/\.(c|m)?(j|t)s$/i, '');
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
      userMessage: 'A migration is a version like `007` or a file name like `007_add_security_tables.ts` (letters, digits, `_`, `-`, `.`).',
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
      .sort((a, b) => b.id - a.id)
      .slice(0, 10)
      .map((m) => `• \`${m.name}\` (batch ${m.batch})`)
      .join('\n');

  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new AppError({
      code: 'command_ambiguous_migration',
      message: `${input} matches ${matches.length} applied migrations`,
      userMessage: `\`${input}\` matches more than one applied migration. Use the full name:\n${list(matches)}`,
    });
  }
  const file = files.find((f) => f === input || baseName(f) === wanted || (/^\d+$/.test(input) && versionOf(f) !== null && BigInt(versionOf(f)!) === BigInt(input)));
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
 * then the target itself, newest first (by tracking-table id, which knex assigns in
 * apply order). Steps are returned without SQL; the migrations adapter fills it in.
 */
export function migrationsToRevert(applied: AppliedMigration[], target: AppliedMigration): AppliedMigration[] {
  return applied.filter((m) => m.id >= target.id).sort((a, b) => b.id - a.id);
}
