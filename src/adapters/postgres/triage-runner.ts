import type { ServiceConfig } from '../../config/services.js';
import { trackingOf } from '../migrations/migration-tool-registry.js';
import { systemClock, type Clock } from '../../shared/clock.js';
import { isAppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { CheckContext, OffendingMigration, TriageCheck } from '../../domain/triage/check.js';
import { triageChecks } from '../../domain/triage/checks/index.js';
import { extractTouchedRelations, type TouchedRelationsResult } from '../../domain/triage/touched-relations.js';
import type { CheckResult, TriageReport } from '../../domain/triage/triage-report.js';
import pLimit, { type LimitFunction } from 'p-limit';
import type { PlanRisk } from '../../domain/rollback/risk.js';
import { measureRisk } from '../../domain/rollback/risk-figures.js';
import { describeTriageError } from './triage-error.js';
import { connectTriage, DEFAULT_CONNECT_TIMEOUT_MS, type TriageConnection } from './postgres-triage-session.js';
import type { TriageSession } from '../../domain/triage/triage-session.js';

/**
 * Connections one triage run uses, each running its share of the checks one after another
 * (one transaction per check): a sick database gets two connections from a triage, not eight.
 */
export const DEFAULT_TRIAGE_CONCURRENCY = 2;

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
  /** Connections this run uses (each runs checks one after another); default {@link DEFAULT_TRIAGE_CONCURRENCY}. */
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
 * The checks run on `concurrency` connections (default 2), each running its share one after
 * another, every check in its own `BEGIN READ ONLY` transaction with the service's
 * `statement_timeout` and `lock_timeout` (see `connectTriage`); a connection whose socket
 * failed is replaced for the next check. Across every concurrent run in the process one
 * database gets at most `triage.max_connections` triage connections. A check that times out or errors is reported
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
  const timeouts = {
    statement_timeout: service.triage.statement_timeout,
    lock_timeout: service.triage.lock_timeout,
    connectTimeoutMs,
  };

  let touched: TouchedRelationsResult | undefined;
  if (options.offending) {
    try {
      touched = await extractTouchedRelations(options.offending.sql);
    } catch (err) {
      touched = { relations: [], problems: [`down SQL not analysed: ${describeTriageError(err, timeouts)}`] };
    }
  }
  const context: CheckContext = {
    service,
    tracking: trackingOf(service.migrations, service.triage.database_url),
    offending: options.offending,
    touched,
  };

  let unreachable: string | undefined;
  const sessionOptions = {
    url: service.triage.database_url,
    statement_timeout: service.triage.statement_timeout,
    lock_timeout: service.triage.lock_timeout,
    connectTimeoutMs,
  };
  const list = options.checks ?? triageChecks;
  const results = new Array<CheckResult>(list.length);
  let next = 0;

  /** One connection running checks one after another, each in its own transaction; a broken connection is replaced. */
  const lane = async (): Promise<void> => {
    let connection: TriageConnection | null = null;
    try {
      while (next < list.length) {
        const index = next++;
        const check = list[index]!;
        const t0 = performance.now();
        const base = { name: check.name, title: check.title, source: check.source };
        const failed = (error: string): CheckResult => ({
          ...base,
          verdict: 'failed',
          summary: `Check failed: ${error}`,
          durationMs: elapsed(t0),
          columns: [],
          rows: [],
          error,
        });
        if (unreachable) {
          results[index] = failed(unreachable);
          continue;
        }
        let session: Awaited<ReturnType<TriageConnection['begin']>> | undefined;
        try {
          if (connection?.broken) {
            await connection.close();
            connection = null;
          }
          connection ??= await connectTriage(sessionOptions);
          session = await connection.begin();
        } catch (err) {
          const reason = describeTriageError(isAppError(err, 'triage_connect_failed') ? err.cause : err, timeouts);
          if (!connection) unreachable ??= reason;
          log?.warn({ check: check.name, reason }, 'triage connection failed');
          results[index] = failed(reason);
          continue;
        }
        try {
          const outcome = await check.run(session, context);
          results[index] = { ...base, ...outcome, durationMs: elapsed(t0) };
        } catch (err) {
          const reason = describeTriageError(err, timeouts);
          log?.warn({ check: check.name, reason }, 'triage check failed');
          results[index] = failed(reason);
        } finally {
          await session.close();
        }
      }
    } finally {
      await connection?.close();
    }
  };

  // Each lane holds one of the database's shared connection slots for as long as it runs.
  const lanes = Math.min(Math.max(1, Math.floor(options.concurrency ?? DEFAULT_TRIAGE_CONCURRENCY)), list.length);
  const shared = databaseLimit(service.triage.database_url, service.triage.max_connections);
  await Promise.all(Array.from({ length: lanes }, () => shared(lane)));
  const checks = results;
  const report: TriageReport = { service: service.name, startedAt, durationMs: elapsed(started), checks };
  log?.info(
    { durationMs: report.durationMs, verdicts: Object.fromEntries(checks.map((c) => [c.name, c.verdict])) },
    'triage finished',
  );
  return report;
}

/**
 * Runs `fn` with read-only sessions on one triage connection to the service database — the
 * service's triage `statement_timeout` and `lock_timeout`, counted against
 * `triage.max_connections` — and closes it. `begin` opens one transaction (a broken connection
 * is replaced); after a failed connect every later `begin` fails at once with the same error, so
 * an unreachable database costs one connect timeout. `describeError` words any error plainly.
 */
export async function withTriageSessions<T>(
  service: TriageServiceConfig,
  fn: (
    begin: () => Promise<TriageSession & { close(): Promise<void> }>,
    describeError: (err: unknown) => string,
  ) => Promise<T>,
  options: { connectTimeoutMs?: number } = {},
): Promise<T> {
  const timeouts = {
    statement_timeout: service.triage.statement_timeout,
    lock_timeout: service.triage.lock_timeout,
    connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
  };
  const describeError = (err: unknown): string =>
    describeTriageError(isAppError(err, 'triage_connect_failed') ? err.cause : err, timeouts);
  return databaseLimit(
    service.triage.database_url,
    service.triage.max_connections,
  )(async () => {
    let connection: TriageConnection | null = null;
    let unreachable: unknown = null;
    const begin = async () => {
      if (unreachable) throw unreachable;
      if (connection?.broken) {
        await connection.close();
        connection = null;
      }
      try {
        connection ??= await connectTriage({ url: service.triage.database_url, ...timeouts });
      } catch (err) {
        unreachable = err;
        throw err;
      }
      return connection.begin();
    };
    try {
      return await fn(begin, describeError);
    } finally {
      await (connection as TriageConnection | null)?.close();
    }
  });
}

/**
 * Takes the plan's risk figures (`rollback/risk-figures.ts`) through {@link withTriageSessions}.
 * A database that cannot be reached leaves every figure with the reason in `figure.error`.
 */
export async function measurePlanRisk(
  service: TriageServiceConfig,
  risk: PlanRisk,
  options: { connectTimeoutMs?: number } = {},
): Promise<PlanRisk> {
  if (!risk.steps.some((s) => s.findings.some((f) => f.target))) return risk;
  return withTriageSessions(
    service,
    (begin, describeError) =>
      measureRisk(risk, begin, { exactCountMaxRows: service.triage.exact_count_max_rows, describeError }),
    options,
  );
}
