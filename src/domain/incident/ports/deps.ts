import type { ServiceConfig, ServicesConfig } from '../../../config/services.js';
import type { MigrationTool } from '../../rollback/migration-tool.js';
import type { Clock } from '../../../shared/clock.js';
import type { Logger } from '../../../shared/logger.js';
import type { SnapshotProvider } from '../../snapshots/snapshot-provider.js';
import type { Restorer } from '../../snapshots/restorer.js';
import type { TriageReport } from '../../triage/triage-report.js';
import type { IncidentRepository } from './incident-repository.js';
import type { IncidentJobs } from './job-queue.js';
import type { Notifier } from './notifier.js';
import type { ApproverDirectory } from './approvers.js';
import type { PlanRisk } from '../../rollback/risk.js';
import type { PlanStep } from '../../rollback/plan.js';
import type { PlanSchemaCheck } from '../../rollback/plan-schema-check.js';
import type { VerificationCheck } from '../../verify/verification.js';
import type { ProcessRepository } from './process-repository.js';
import type { Integrations } from './integrations.js';
import type { ArchiveCatalog } from './archive-catalog.js';
import type { WriteSamples } from './write-samples.js';

/** Runs the triage checks for a service; `offending` is the migration under suspicion and its down SQL. */
export type TriageFn = (
  service: ServiceConfig,
  options: { offending?: { name: string; sql: string[] } },
) => Promise<TriageReport>;

/**
 * Everything the incident use cases need, as ports. Built once in `main.ts` (the
 * composition root) and by tests with the real adapters.
 */
export interface IncidentDeps {
  services: ServicesConfig;
  repo: IncidentRepository;
  notifier: Notifier;
  jobs: IncidentJobs;
  /** Severity, roles, lifecycle times, the ticket and follow-ups of incidents. */
  process: ProcessRepository;
  /** Pages and tickets, through their outbox. */
  integrations: Integrations;
  /** A fresh MigrationTool for the service; callers close it. */
  migrationTool(service: ServiceConfig): MigrationTool;
  snapshotProvider(service: ServiceConfig): SnapshotProvider;
  /** @throws AppError `restore_unsupported` for a service whose snapshots are waived */
  restorer(service: ServiceConfig): Restorer;
  triage: TriageFn;
  /** Fills in the figures of a plan's risk from the service database (read-only, triage limits); never throws for database trouble. */
  measureRisk(service: ServiceConfig, risk: PlanRisk): Promise<PlanRisk>;
  /**
   * The database and HTTP checks of a verification (objects, integrity, smoke queries, health
   * URLs) for the steps that ran; read-only; a check that cannot run comes back `failed`.
   */
  verify(service: ServiceConfig, plan: readonly PlanStep[]): Promise<VerificationCheck[]>;
  /**
   * Builds and keeps the schema the service database must have once `plan` (newest first) is
   * reverted: a fresh migrate up, with the service's tool on a scratch database, through the
   * migrations that stay applied — the schema fingerprint's reference (runbook 001 postflight),
   * built before approval so verification after the downs only reads the live catalogs.
   * Reads the service's tracking table; writes only to the scratch database, always dropped.
   * @returns how many schema objects and how long it took (ms), or null when the tool cannot migrate a scratch database
   * @throws AppError `scratch_create_failed` / `scratch_migrate_failed`, `service_db_unreachable`
   */
  expectSchema(
    service: ServiceConfig,
    plan: readonly PlanStep[],
  ): Promise<{ objects: number; builtMs: number; cached: boolean } | null>;
  /**
   * Checks `plan` against the schemas before approval ({@link PlanSchemaCheck}): the target built
   * with the service's tool on a scratch database, the files' downs run on a fresh build, the live
   * schema compared with both, and migra's SQL from the live schema to the target proved on a
   * schema-only copy. Scratch databases have the bot's own names and are always dropped;
   * `onScratch` is told of each creation and drop. The service database is only read.
   * @returns null when the tool cannot migrate a scratch database up to a point; a check whose `error` says why it could not run
   */
  checkPlanSchema(
    service: ServiceConfig,
    plan: readonly PlanStep[],
    options?: { onScratch?(event: 'scratch_created' | 'scratch_dropped', database: string): Promise<void> },
  ): Promise<PlanSchemaCheck | null>;
  /** The service database's catalogs for archive before destroy (read-only). */
  archive: ArchiveCatalog;
  /** Write counters sampled at each snapshot and the service's restore times: the plan card's comparison of options. */
  samples: WriteSamples;
  /** Members of approver user groups (Slack `usergroups.users.list`). */
  directory: ApproverDirectory;
  clock: Clock;
  logger: Logger;
  /**
   * Aborted when the process is shutting down (SIGTERM): a running rollback stops after the
   * step in progress — never inside one — and its job is handed back to the queue.
   */
  shutdown?: AbortSignal;
  /** How often a running step looks for `/migrate close --force`, ms. Default 1000. */
  stopPollMs?: number;
  /** A forced stop's grace between cancel, terminate and giving the step up, ms. Default 5000. */
  stepStopGraceMs?: number;
}
