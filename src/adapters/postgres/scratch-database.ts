import { randomBytes } from 'node:crypto';
import type { Logger } from '../../shared/logger.js';
import { utcSecondStamp } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import { createDatabase, dropDatabase, withDatabaseName } from '../pgdump/pg-restore.js';

/**
 * Why a scratch database is made: `verify` (the schema fingerprint's reference), `plan` (the
 * computed plan and the round trip of the plan's downs before approval), `check` (`migrate-bot
 * check`, every down tested before any incident). Part of the database's name.
 */
export type ScratchPurpose = 'verify' | 'plan' | 'check';

/** What {@link withScratchDatabase} reports and needs. */
export interface ScratchOptions {
  purpose: ScratchPurpose;
  now(): Date;
  /** Where a scratch database that could not be dropped is reported, by name. */
  logger?: Pick<Logger, 'error'>;
  /** Told after the database is created and after it is dropped (the incident's event log, when tied to one). */
  onLifecycle?(event: 'scratch_created' | 'scratch_dropped', database: string): Promise<void> | void;
}

/** Every scratch database's name starts with this: the bot drops only names it made. */
export const SCRATCH_PREFIX = 'migrate_bot_';

/**
 * A scratch database name in the bot's own lowercase pattern, whatever the service database is
 * called: `migrate_bot_<purpose>_<yyyymmdd_hhmmss>_<6 hex>` (at most 43 characters, under
 * PostgreSQL's 63-byte identifier limit).
 */
export function scratchName(purpose: ScratchPurpose, now: Date): string {
  return `${SCRATCH_PREFIX}${purpose}_${utcSecondStamp(now).replace('-', '_')}_${randomBytes(3).toString('hex')}`;
}

/**
 * The refusal of a server that will not create the scratch database, naming the privilege:
 * SQLSTATE 42501 (insufficient_privilege) means the role lacks CREATEDB (PostgreSQL docs,
 * CREATE DATABASE: "must be a superuser or have the special CREATEDB privilege").
 */
function createRefusal(serverUrl: string, database: string, err: unknown): AppError {
  const code = (err as { code?: string }).code;
  const role = decodeURIComponent(new URL(serverUrl).username || 'the connecting role');
  const problem =
    code === '42501'
      ? `the role \`${role}\` lacks the CREATEDB privilege: run \`ALTER ROLE ${role} CREATEDB\` on that server, or point the scratch URL at a server where it has it`
      : `${redactSecrets((err as Error).message)}: point the scratch URL (\`verify.scratch_database_url_env\`, \`check --scratch-url\`) at a server where the bot may CREATE DATABASE`;
  return new AppError({
    code: 'scratch_create_failed',
    message: `could not create the scratch database \`${database}\`: ${redactSecrets((err as Error).message)}`,
    cause: err,
    details: { problems: [problem], database },
    userMessage: `The scratch database could not be created: ${problem}.`,
  });
}

/**
 * The one lifecycle of a scratch database: created on `serverUrl`'s server with a
 * {@link scratchName}, handed to `fn` as a connection string, and dropped (`WITH (FORCE)`)
 * whatever `fn` does. A drop that fails is logged with the name to drop by hand; it never hides
 * `fn`'s own result or error. Used by the schema fingerprint's reference, the computed plan and
 * `migrate-bot check`.
 * @throws AppError `scratch_create_failed` (`details.problems` says which privilege is missing); whatever `fn` throws
 */
export async function withScratchDatabase<T>(
  serverUrl: string,
  options: ScratchOptions,
  fn: (databaseUrl: string, database: string) => Promise<T>,
): Promise<T> {
  const database = scratchName(options.purpose, options.now());
  try {
    await createDatabase(serverUrl, database);
  } catch (err) {
    throw createRefusal(serverUrl, database, err);
  }
  try {
    await options.onLifecycle?.('scratch_created', database);
    return await fn(withDatabaseName(serverUrl, database), database);
  } finally {
    try {
      await dropDatabase(serverUrl, database);
      await options.onLifecycle?.('scratch_dropped', database);
    } catch (err) {
      options.logger?.error(
        { err, scratch: database },
        `the scratch database ${database} could not be dropped: drop it by hand`,
      );
    }
  }
}

/**
 * What went wrong on a scratch database, in one line for people (redacted): a missing extension
 * is named with what to do (SQLSTATE 0A000 "extension … is not available", or pg_restore's "could
 * not open extension control file"); a refused CREATE DATABASE gives its privilege; otherwise the
 * error's first line and its cause's (drizzle wraps the pg error in "Failed query: …").
 */
export function scratchErrorText(err: unknown): string {
  const first = (e: unknown) =>
    String((e as Error)?.message ?? e)
      .split('\n')[0]!
      .trim();
  const all = `${String((err as Error)?.message ?? err)} ${String((err as { cause?: Error }).cause?.message ?? '')}`;
  const extension =
    /extension "([^"]+)" is not available/.exec(all)?.[1] ??
    /extension control file "[^"]*\/([^/"]+)\.control"/.exec(all)?.[1];
  if (extension)
    return `extension \`${extension}\` is missing on the scratch server: install it there, or point the scratch URL at a server that has it`;
  const problems = (err as { details?: { problems?: unknown } }).details?.problems;
  if (Array.isArray(problems) && typeof problems[0] === 'string') return redactSecrets(problems[0]);
  const cause = (err as { cause?: unknown }).cause;
  return redactSecrets(cause && first(cause) !== first(err) ? `${first(err)} — ${first(cause)}` : first(err));
}
