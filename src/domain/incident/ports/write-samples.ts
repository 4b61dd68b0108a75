import type { ServiceConfig } from '../../../config/services.js';
import type { WritesSince } from '../../rollback/option-facts.js';

export type { TableWritesSince, WritesSince } from '../../rollback/option-facts.js';

/**
 * Write counters of a service database sampled when the bot takes a snapshot
 * (`pg_stat_user_tables.n_tup_ins/upd/del` per table, PostgreSQL "The Cumulative Statistics
 * System"), kept in the state database, and the bot's own history of restores: the figures of the
 * plan card's comparison of rolling back, restoring and fixing forward.
 */
export interface WriteSamples {
  /**
   * Samples the service database's write counters for a snapshot just taken and keeps them.
   * @throws AppError `service_db_unreachable`, or the state database's error (callers log it: a
   *   missing sample only leaves the comparison without a figure)
   */
  record(service: ServiceConfig, snapshot: { id: string; takenAt: Date }): Promise<void>;
  /**
   * Writes since the newest sampled snapshot of the service taken before `before`, in `tables`
   * (by timestamps when the table has them, else by counters) and in the whole database; null
   * when no snapshot was sampled before then. Read-only on the service database.
   * @throws AppError `service_db_unreachable`
   */
  since(
    service: ServiceConfig,
    tables: ReadonlyArray<{ schema: string | null; name: string }>,
    before: Date,
  ): Promise<WritesSince | null>;
  /** Wall times of the service's completed restores (the bot's restore incidents), newest first, ms. */
  restoreTimes(service: string, limit: number): Promise<number[]>;
}
