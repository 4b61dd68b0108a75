import type { ServiceConfig } from '../../../config/services.js';
import type { ArchiveTarget, ResolvedTarget } from '../../rollback/archive.js';
import type { ArchiveCopy } from '../../rollback/plan.js';

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

/**
 * The service database's catalogs as archive before destroy needs them (read-only): what each
 * target is (its schema, primary key and estimated size) and whether the role that runs the downs
 * may create the archive schema or tables in it; and, after a step, what its archive tables hold.
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
}
