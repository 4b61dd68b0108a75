import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { loadServices } from '../config/services.js';
import { createMigrationTool, scratchToolFor } from '../adapters/migrations/migration-tool-registry.js';
import { PostgresDownCheckStore } from '../adapters/postgres/down-check-store.js';
import { migrationDirectories } from '../adapters/postgres/expected-schema.js';
import { migrateStateDb } from '../adapters/postgres/state-schema.js';
import { migrationsChangedSince } from '../adapters/schema/changed-migrations.js';
import { checkDowns, isFailedRow } from '../adapters/schema/down-check.js';
import { resolveService } from '../domain/incident/use-cases/resolve-service.js';
import type { CheckEngine, StartCheck } from '../surfaces/cli/check-command.js';
import { AppError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';

const run = promisify(execFile);

/**
 * The environment services.yaml is read with: the caller's, where a `*URL` variable that is not
 * set reads as `--scratch-url` when one is given. A CI job that checks downs has no production
 * connection string, and needs none: the service database is only where scratch databases would
 * be created by default.
 */
function checkEnv(env: Record<string, string | undefined>, scratchUrl: string | undefined) {
  if (!scratchUrl) return env;
  return new Proxy(env, { get: (t, k: string) => t[k] ?? (k.endsWith('URL') ? scratchUrl : undefined) });
}

/** The commit the migrations directory is at, or null outside a git work tree. */
async function headCommit(directory: string): Promise<string | null> {
  return run('git', ['-C', directory, 'rev-parse', 'HEAD']).then(
    (r) => r.stdout.trim() || null,
    () => null,
  );
}

/**
 * `migrate-bot check`'s engine: services.yaml (`SERVICES_FILE`, default `./services.yaml`), the
 * registry's migration tools pointed at scratch databases, and with `record` the state database
 * (`DATABASE_URL`, its schema brought up to date). Needs no Slack, Redis or AWS.
 * @throws AppError `config_services_invalid`, `check_record_needs_database` (record without DATABASE_URL)
 */
export const startCheck: StartCheck = async ({ env, scratchUrl, record }) => {
  const logger = createLogger(env.LOG_LEVEL ?? 'warn', 2);
  if (scratchUrl !== undefined && !/^postgres(ql)?:\/\//.test(scratchUrl))
    throw new AppError({
      code: 'config_scratch_url_invalid',
      message: '--scratch-url is not a postgres:// URL',
      userMessage:
        '`--scratch-url` must be a postgres:// connection string to a server where the bot may CREATE DATABASE.',
    });
  const services = await loadServices(env.SERVICES_FILE ?? './services.yaml', checkEnv(env, scratchUrl));
  let pool: pg.Pool | null = null;
  if (record) {
    if (!env.DATABASE_URL)
      throw new AppError({
        code: 'check_record_needs_database',
        message: 'DATABASE_URL is not set',
        userMessage:
          "`--record` keeps results in the bot's state database: set `DATABASE_URL` to it (the same as the bot's).",
      });
    await migrateStateDb(env.DATABASE_URL, logger);
    pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 2, application_name: 'migrate-bot-check' });
  }
  const store = pool ? new PostgresDownCheckStore(pool) : null;
  const engine: CheckEngine = {
    services: [...services.services.keys()],
    check: (name, options) => {
      const service = resolveService(services, name);
      return checkDowns(service, {
        ...options,
        toolFor: scratchToolFor(logger),
        scratchServerUrl: scratchUrl ?? (service.verify.scratch_database_url || service.database_url),
        lockTimeout: service.lock_timeout,
        now: () => new Date(),
        logger,
      });
    },
    changedSince: async (name, ref) => {
      const service = resolveService(services, name);
      const tool = createMigrationTool(service, logger);
      try {
        return await migrationsChangedSince(await tool.listFiles(), migrationDirectories(service), ref);
      } finally {
        await tool.close().catch(() => undefined);
      }
    },
    close: async () => {
      await pool?.end();
    },
  };
  if (store)
    engine.record = async (report) => {
      const commit = await headCommit(migrationDirectories(resolveService(services, report.service))[0] ?? '.');
      const rows = report.rows.filter((r) => r.checksum && (r.down === 'ok' || r.down === 'failed'));
      for (const r of rows)
        await store.record({
          service: report.service,
          migration: r.migration,
          checksum: r.checksum!,
          tool: report.tool,
          passed: !isFailedRow(r),
          detail: {
            error: r.error,
            remaining: r.difference?.remaining ?? [],
            missing: r.difference?.missing ?? [],
            ms: r.ms,
            commit,
          },
          checkedAt: new Date().toISOString(),
        });
      return rows.length;
    };
  return engine;
};
