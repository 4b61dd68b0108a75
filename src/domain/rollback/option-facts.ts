/**
 * The measured facts of the plan card's comparison of rolling back, restoring the snapshot and
 * fixing forward (see `options.ts`), as kept with the plan's risk.
 */

/** Rows written to one table since a snapshot, and how the figure was taken. */
export interface TableWritesSince {
  /** `schema.table`. */
  table: string;
  rows: number;
  /**
   * `timestamps`: rows whose `created_at` or `updated_at` is later than the snapshot (exact, but
   * deletes are not seen); `statistics`: inserts + updates + deletes of `pg_stat_user_tables` now
   * minus the bot's sample at snapshot time (estimated: the counters are approximate).
   */
  how: 'timestamps' | 'statistics';
}

/** What restoring a snapshot would lose: the writes since the newest snapshot the bot sampled before the impact. */
export interface WritesSince {
  snapshotId: string;
  /** When the snapshot was taken, ISO-8601. */
  takenAt: string;
  /** The tables the downs touch. */
  tables: TableWritesSince[];
  /** Rows written in every user table of the database (pg_stat_user_tables deltas; estimated). */
  database: number;
}

/** The measured facts of the comparison, kept with the plan's risk (measured when the card is made). */
export interface OptionFacts {
  /** The restore point must precede this time (when the impact started, else when the card was made), ISO-8601. */
  before: string;
  /** Writes a restore of the newest snapshot sampled before then would lose; null when none was sampled. */
  writes: WritesSince | null;
  /** The service's completed restores: median wall time (ms) and how many; null when none is recorded. */
  restores: { medianMs: number; count: number } | null;
  /** When the facts were measured, ISO-8601. */
  measuredAt: string;
}
