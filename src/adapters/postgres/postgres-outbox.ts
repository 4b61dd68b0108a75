import type pg from 'pg';
import type { NoticeMethod } from '../../domain/incident/ports/notifier.js';

/** The outbox tables: `notices` (to Slack) and `integration_calls` (to paging and ticket providers). */
export type OutboxTable = 'notices' | 'integration_calls';

/** One stored notice: a Notifier call waiting for (or done with) delivery. */
export interface StoredNotice<M extends string = NoticeMethod> {
  /** Increasing per database; delivery follows it within an incident. */
  id: number;
  incidentId: string;
  method: M;
  /** The call's arguments as JSON (the incident as it was when the notice was made comes first). */
  args: unknown[];
  /** Delivery attempts started so far (one may have reached Slack without an answer). */
  attempts: number;
  /** After a failed attempt, no delivery before this time; null when none is due to wait. */
  notBefore: Date | null;
  createdAt: Date;
}

/**
 * The outbox table `notices` of the bot's state database (schema `0003_outbox_and_attempts`):
 * what people are told, stored right after the state change it describes, delivered by its
 * own job in id order per incident. A `dedupe_key` makes "post the plan card" or "open the
 * channel" happen once however often a retried job asks.
 */
export class PostgresOutbox<M extends string = NoticeMethod> {
  /**
   * @param pool the state database pool for reads and writes
   * @param lockPool a separate pool whose connections only hold delivery locks, so lock
   *   holders never wait on connections they themselves hold
   * @param table `notices` (default) or `integration_calls` (the same columns; schema `0010_incident_process`)
   */
  constructor(
    private readonly pool: pg.Pool,
    private readonly lockPool: pg.Pool,
    private readonly table: OutboxTable = 'notices',
  ) {}

  /**
   * Stores a notice.
   * @returns its id, or null when `dedupeKey` was already stored for the incident
   */
  async add(incidentId: string, method: M, args: unknown[], dedupeKey?: string): Promise<number | null> {
    const { rows } = await this.pool.query<{ id: string }>(
      `INSERT INTO ${this.table} (incident_id, method, args, dedupe_key) VALUES ($1, $2, $3, $4)
       ON CONFLICT (incident_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING RETURNING id`,
      [incidentId, method, JSON.stringify(args), dedupeKey ?? null],
    );
    return rows[0] ? Number(rows[0].id) : null;
  }

  /** When the newest earlier notice of `method` (before notice `beforeId`) was made, if Slack refused it for good (abandoned); else null. */
  async abandonedBefore(incidentId: string, method: M, beforeId: number): Promise<Date | null> {
    const { rows } = await this.pool.query<{ created_at: Date; abandoned_at: Date | null }>(
      `SELECT created_at, abandoned_at FROM ${this.table} WHERE incident_id = $1 AND method = $2 AND id < $3 ORDER BY id DESC LIMIT 1`,
      [incidentId, method, beforeId],
    );
    return rows[0]?.abandoned_at ? rows[0].created_at : null;
  }

  /** True when a notice of `method` for the incident is still to be delivered (neither delivered nor abandoned). */
  async pending(incidentId: string, method: M): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `SELECT 1 FROM ${this.table} WHERE incident_id = $1 AND method = $2 AND delivered_at IS NULL AND abandoned_at IS NULL LIMIT 1`,
      [incidentId, method],
    );
    return (rowCount ?? 0) > 0;
  }

  /** The oldest undelivered, not abandoned notice of the incident, or null. */
  async next(incidentId: string): Promise<StoredNotice<M> | null> {
    const { rows } = await this.pool.query<{
      id: string;
      incident_id: string;
      method: M;
      args: unknown[];
      attempts: number;
      not_before: Date | null;
      created_at: Date;
    }>(
      `SELECT id, incident_id, method, args, attempts, not_before, created_at FROM ${this.table}
       WHERE incident_id = $1 AND delivered_at IS NULL AND abandoned_at IS NULL ORDER BY id LIMIT 1`,
      [incidentId],
    );
    const r = rows[0];
    return r
      ? {
          id: Number(r.id),
          incidentId: r.incident_id,
          method: r.method,
          args: r.args,
          attempts: r.attempts,
          notBefore: r.not_before,
          createdAt: r.created_at,
        }
      : null;
  }

  /** Marks a notice delivered, with what Slack returned (channel id, message ts). */
  async delivered(id: number, result: Record<string, unknown> = {}): Promise<void> {
    await this.pool.query(`UPDATE ${this.table} SET delivered_at = clock_timestamp(), result = $2 WHERE id = $1`, [
      id,
      result,
    ]);
  }

  /**
   * Starts a delivery attempt: counts it before Slack is called, so an attempt cut short by
   * a crash or a lost answer is still known afterwards.
   * @returns attempts started so far, this one included
   */
  async begin(id: number): Promise<number> {
    const { rows } = await this.pool.query<{ attempts: number }>(
      `UPDATE ${this.table} SET attempts = attempts + 1 WHERE id = $1 RETURNING attempts`,
      [id],
    );
    return rows[0]?.attempts ?? 1;
  }

  /**
   * Records a failed attempt. `abandon` gives up on this notice (Slack refused it for good)
   * so later ones still go out; otherwise no delivery is tried for `waitMs` (ms), whichever
   * job picks the incident up next — so Slack's `Retry-After` holds for all of them.
   */
  async attemptFailed(id: number, error: string, abandon: boolean, waitMs = 0): Promise<void> {
    await this.pool.query(
      `UPDATE ${this.table} SET last_error = $2, abandoned_at = CASE WHEN $3 THEN clock_timestamp() END,
         not_before = clock_timestamp() + make_interval(secs => $4) WHERE id = $1`,
      [id, error.slice(0, 500), abandon, waitMs / 1000],
    );
  }

  /** Incidents with a notice undelivered for longer than `olderThanMs` (ms), for the reconciler's sweep. */
  async stalled(olderThanMs: number): Promise<Array<{ incidentId: string; noticeId: number }>> {
    const { rows } = await this.pool.query<{ incident_id: string; id: string }>(
      `SELECT DISTINCT ON (incident_id) incident_id, id FROM ${this.table}
       WHERE delivered_at IS NULL AND abandoned_at IS NULL AND created_at < clock_timestamp() - make_interval(secs => $1)
       ORDER BY incident_id, id`,
      [olderThanMs / 1000],
    );
    return rows.map((r) => ({ incidentId: r.incident_id, noticeId: Number(r.id) }));
  }

  /**
   * Runs `fn` while holding the incident's delivery lock (a session advisory lock on the
   * state database), so two workers never deliver one incident's notices at once and
   * order holds. Never waits: when another delivery holds it, returns `{ busy: true }`
   * without running `fn` (that holder delivers what is pending; the caller tries again
   * shortly, in case it was just finishing).
   */
  async withDeliveryLock<T>(
    incidentId: string,
    fn: () => Promise<T>,
  ): Promise<{ busy: true } | { busy: false; value: T }> {
    const client = await this.lockPool.connect();
    const key = `migrate-bot:${this.table}:${incidentId}`;
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [
        key,
      ]);
      if (!rows[0]?.locked) return { busy: true };
      try {
        return { busy: false, value: await fn() };
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [key]);
      }
    } finally {
      client.release();
    }
  }
}
