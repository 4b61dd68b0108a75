import type { ServiceConfig } from '../../config/services.js';
import { trackingOf } from '../migrations/registry.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { isAppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { CheckContext, OffendingMigration, TriageCheck } from '../../triage/check.js';
import { triageChecks } from '../../triage/checks/index.js';
import { extractTouchedRelations, type TouchedRelationsResult } from '../../triage/touched-relations.js';
import type { CheckResult, TriageReport } from '../../triage/triage-report.js';
import pLimit, { type LimitFunction } from 'p-limit';
import { describeTriageError } from './triage-error.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, openTriageSession } from './triage-session.js';

/** Most triage connections one run opens at once: a sick database must not get a burst of new connections. */
export const DEFAULT_TRIAGE_CONCURRENCY = 4;

/**
 * Triage connections to one database across every run in this process (`triage.max_connections`
 * in services.yaml, default 4): fifty people typing `/migrate triage` at once queue for four
 * connections instead of opening two hundred on a database that is already in trouble.
 */
const perDatabase = new Map<string, LimitFunction>();

function databaseLimit(url: string, max: number): LimitFunction {
  const key = `${max}:${url}`;
  let limit = perDatabase.get(key);
  if (!limit) {
    limit = pLimit(max);
    perDatabase.set(key, limit);
  }
  return limit;
}

/** The slice of a service's config triage reads; a full {@link ServiceConfig} fits. */
export type TriageServiceConfig = Pick<ServiceConfig, 'name' | 'migrations' | 'triage'>;

/** Options of {@link runTriage}. */
export interface RunTriageOptions {
  /** The offending migration and the SQL of its down migration (from the migrations adapter). */
  offending?: OffendingMigration;
  logger?: Logger;
  /** Source of `startedAt`; durations use the monotonic timer. */
  clock?: Clock;
  /** Most connections at once; default {@link DEFAULT_TRIAGE_CONCURRENCY}. */
  concurrency?: number;
  /** Connect timeout per connection, ms; default 3,000. */
  connectTimeoutMs?: number;
  /** Checks to run, in display order; default every check in `triage/checks/index.ts`. */
  checks?: readonly TriageCheck[];
}

const elapsed = (since: number): number => Math.round(performance.now() - since);

/**
 * Runs every triage check against `service.triage.database_url` (runbook
 * 003 "Initial triage (first 10 minutes)") and returns the report, checks in
 * display order.
 *
 * Each check gets its own connection and a `BEGIN READ ONLY` transaction with the
 * service's `statement_timeout` and `lock_timeout` (see `openTriageSession`); at
 * most `concurrency` run at once. A check that times out or errors is reported
 * with verdict `failed` and a plain, secret-free `error`; the others still run.
 * The first connection failure (unreachable host, refused login, too many
 * connections) stops further connection attempts: the remaining checks fail at
 * once with the same reason, so an unreachable database costs one connect timeout
 * per concurrent slot, not per check.
 *
 * Never throws for database trouble; only programming errors escape.
 */
export async function runTriage(service: TriageServiceConfig, options: RunTriageOptions = {}): Promise<TriageReport> {
  const started = performance.now();
  const startedAt = (options.clock ?? systemClock).now().toISOString();
  const log = options.logger?.child({ service: service.name });
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const timeouts = { statement_timeout: service.triage.statement_timeout, lock_timeout: service.triage.lock_timeout, connectTimeoutMs };

  let touched: TouchedRelationsResult | undefined;
  if (options.offending) {
    try {
      touched = await extractTouchedRelations(options.offending.sql);
    } catch (err) {
      touched = { relations: [], problems: [`down SQL not analysed: ${describeTriageError(err, timeouts)}`] };
    }
  }
  const context: CheckContext = { service, tracking: trackingOf(service.migrations, service.triage.database_url), offending: options.offending, touched };

  let unreachable: string | undefined;
  const runOne = async (check: TriageCheck): Promise<CheckResult> => {
    const t0 = performance.now();
    const base = { name: check.name, title: check.title, source: check.source };
    const failed = (error: string): CheckResult => ({ ...base, verdict: 'failed', summary: `Check failed: ${error}`, durationMs: elapsed(t0), columns: [], rows: [], error });
    if (unreachable) return failed(unreachable);

    let session;
    try {
      session = await openTriageSession({ url: service.triage.database_url, statement_timeout: service.triage.statement_timeout, lock_timeout: service.triage.lock_timeout, connectTimeoutMs });
    } catch (err) {
      const reason = describeTriageError(isAppError(err, 'triage_connect_failed') ? err.cause : err, timeouts);
      unreachable ??= reason;
      log?.warn({ check: check.name, reason }, 'triage connection failed');
      return failed(reason);
    }
    try {
      const outcome = await check.run(session, context);
      return { ...base, ...outcome, durationMs: elapsed(t0) };
    } catch (err) {
      const reason = describeTriageError(err, timeouts);
      log?.warn({ check: check.name, reason }, 'triage check failed');
      return failed(reason);
    } finally {
      await session.close();
    }
  };

  const local = pLimit(Math.max(1, Math.floor(options.concurrency ?? DEFAULT_TRIAGE_CONCURRENCY)));
  const shared = databaseLimit(service.triage.database_url, service.triage.max_connections);
  const checks = await Promise.all((options.checks ?? triageChecks).map((check) => local(() => shared(() => runOne(check)))));
  const report: TriageReport = { service: service.name, startedAt, durationMs: elapsed(started), checks };
  log?.info({ durationMs: report.durationMs, verdicts: Object.fromEntries(checks.map((c) => [c.name, c.verdict])) }, 'triage finished');
  return report;
}
