import type { ServiceConfig } from '../../src/config/services.js';
import { DurationSchema } from '../../src/config/duration.js';
import { DEFAULT_SEVERITIES } from '../../src/config/process-config.js';

/** The incident process as services.yaml gives it without `paging:`, `followups:` or severities of its own. */
export const TEST_PROCESS: ServiceConfig['process'] = {
  severities: DEFAULT_SEVERITIES,
  defaultSeverity: 'SEV3',
  paging: null,
  followups: null,
  pageAfterMinutes: 10,
};

/**
 * A service as `loadServices` would give it, on `url`: pg_dump snapshots, two approvers, anyone may ask, nobody may break glass, no
 * smoke queries or health URLs, lock_timeout 1s and the triage defaults. `name` also names the
 * environment variable (`EVENTS_SERVICE` → `EVENTS_SERVICE_DATABASE_URL`).
 */
export function serviceConfigFor(url: string, name: string, migrations: Record<string, unknown>): ServiceConfig {
  return {
    name,
    database_url_env: `${name
      .toUpperCase()
      .replace(/-/g, '_')
      .replace(/_SERVICE$/, '')}_DATABASE_URL`,
    database_url: url,
    migrations: migrations as unknown as ServiceConfig['migrations'],
    snapshot: {
      provider: 'pg_dump',
      lock_wait_timeout: DurationSchema.parse('1min'),
      storage: 'local',
      force_path_style: false,
    },
    approvals: { required: 2, destructive: 2, approvers: ['U0SRE001', 'U0OWN001'] },
    access: {
      requesters: 'anyone',
      readers: 'anyone',
      break_glass: [],
      private: false,
      rate_limits: { incidents_per_hour: 10, commands_per_minute: 30 },
    },
    invite: [],
    archive: { schema: 'migrate_bot_archive', max_bytes: 1024 ** 3, keep_days: 14 },
    rehearsal: { allow_cloud_restore: false, database_url: url },
    verify: { smoke_queries: [], health_urls: [], health_timeout: DurationSchema.parse('5s') },
    status_update_minutes: 15,
    process: TEST_PROCESS,
    lock_timeout: DurationSchema.parse('1s'),
    step_timeout: DurationSchema.parse('30min'),
    triage: {
      database_url: url,
      long_transaction_seconds: 30,
      exact_count_max_rows: 1_000_000,
      max_connections: 4,
      statement_timeout: DurationSchema.parse('5s'),
      lock_timeout: DurationSchema.parse('1s'),
    },
  };
}
