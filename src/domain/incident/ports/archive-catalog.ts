import type { ServiceConfig } from '../../../config/services.js';
import type { ArchiveTarget, ResolvedTarget } from '../../rollback/archive.js';
import type { ArchiveCopy, PlanStep } from '../../rollback/plan.js';
import type { Duration } from '../../../config/duration.js';
import type { ArchiveSource, UnarchiveComparison, UnarchiveStep, UnarchiveTarget } from '../../rollback/unarchive.js';
import type { PlanUsage, UsageTarget } from '../../rollback/usage.js';

/** An archive table as it is after its step ran: rows and bytes. */
export interface ArchivedTable {
  /** `schema.table`. */
  table: string;
  /** What it keeps, in words (`column public.events.search_vector`). */
  object: string;
  rows: number;
  /** pg_total_relation_size, bytes. */
  bytes: number;
}

/** An archive table as `/migrate archive list` shows it (from the catalog and the bot's comment on it). */
export interface ArchiveTableInfo {
  /** The table name in the archive schema. */
  table: string;
  /** What it keeps (`column public.events.search_vector`), the incident id, the migration and when it was copied (ISO-8601), from its comment; null when the comment is not the bot's. */
  object: string | null;
  incidentId: string | null;
  migration: string | null;
  copiedAt: string | null;
  /** Rows (pg_class.reltuples, or counted when never analysed) and bytes (pg_total_relation_size). */
  rows: number;
  bytes: number;
}

/**
 * The service database's catalogs about what the downs destroy (read-only): what each
 * target is (its schema, primary key and estimated size) and whether the role that runs the downs
 * may create the archive schema or tables in it; who still uses it; and, after a step, what its
 * archive tables hold.
 */
export interface ArchiveCatalog {
  /**
   * @returns each target resolved (in order), and the missing privilege in words with the GRANT that gives it, or null
   * @throws AppError `service_db_unreachable` (retryable)
   */
  resolve(
    service: ServiceConfig,
    targets: readonly ArchiveTarget[],
    schema: string,
  ): Promise<{ resolved: ResolvedTarget[]; privilegeProblem: string | null }>;
  /** Row counts and sizes of archive tables a step filled. */
  stats(service: ServiceConfig, copies: readonly ArchiveCopy[]): Promise<ArchivedTable[]>;
  /**
   * Who still uses what the downs drop: statements in pg_stat_statements (when installed) and
   * sessions in pg_stat_activity whose query reads or writes each target, and the views that
   * depend on it (pg_depend). Read-only.
   * @throws AppError `service_db_unreachable` (retryable)
   */
  usage(service: ServiceConfig, targets: readonly UsageTarget[]): Promise<PlanUsage>;
  /** The tables of the archive schema, oldest copy first (none when the schema does not exist). */
  list(service: ServiceConfig, schema: string): Promise<ArchiveTableInfo[]>;
  /**
   * `DROP TABLE` of one archive table (as the role of `database_url`).
   * @throws AppError `service_db_unreachable`, or the pg error (a missing privilege) mapped by the service-db rules
   */
  drop(service: ServiceConfig, schema: string, table: string): Promise<void>;
  /**
   * Each archive table of `schema` named in `tables`, described from the bot's comment on it, with
   * the table it goes back to as it is now (columns, key, rows, conflicting rows). Read-only.
   * @throws AppError `unarchive_refused` (a table the bot did not make), `service_db_unreachable`
   */
  inspectUnarchive(
    service: ServiceConfig,
    schema: string,
    tables: readonly string[],
  ): Promise<Array<{ source: ArchiveSource; target: UnarchiveTarget }>>;
  /**
   * Runs the unarchive steps' statements in one transaction with `lock_timeout` and
   * `statement_timeout` = `stepTimeout`: every archive goes back, or none.
   * @returns rows written per step
   * @throws AppError mapped by the service-db rules; nothing written
   */
  writeBack(
    service: ServiceConfig,
    steps: readonly PlanStep[],
    limits: { lockTimeout: Duration; stepTimeout: Duration },
  ): Promise<number[]>;
  /** Compares each archive with its table after the write: equal, differing and missing rows, and checksums. Read-only. */
  compareWriteBack(service: ServiceConfig, steps: readonly UnarchiveStep[]): Promise<UnarchiveComparison[]>;
}
