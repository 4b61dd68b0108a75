import { isAppError } from '../../shared/errors.js';

/**
 * Exit codes of the CLI, the same as runbook 001's `migrate-safe.sh` ("Exit Codes"), so scripts
 * written for that harness keep working.
 */
export const EXIT = {
  /** Success. */
  ok: 0,
  /** Preflight failed: a triage check needs attention or could not run. */
  preflight: 1,
  /** The operation itself failed: a snapshot or a plan could not be made. */
  migration: 2,
  /** Postflight failed: verification found a problem (the rollback itself ran). */
  postflight: 3,
  /** The rollback failed (or was rejected, cancelled or stopped) and the database needs people. */
  rollback: 4,
  /** Configuration error or refused input: nothing was done. */
  config: 5,
} as const;

/** One of {@link EXIT}'s codes. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The exit code for an error thrown before the operation ran: configuration, environment,
 * unreachable dependencies and refused input are all 5 (nothing was done); an unexpected
 * error during the work is 2.
 */
export function exitCodeOf(err: unknown): ExitCode {
  if (!isAppError(err)) return EXIT.migration;
  if (
    /^(config_|command_|access_|postgres_|redis_|slack_|incident_|break_glass|cli_)/.test(err.code) ||
    err.code.endsWith('_unreachable')
  )
    return EXIT.config;
  return EXIT.migration;
}
