import type pg from 'pg';
import type { LockHolder } from '../../domain/rollback/migration-tool.js';

/**
 * The advisory-lock key of "a rollback runs on this database": one rollback per database
 * at a time, whichever service names it (PostgreSQL "Advisory Locks"). A single bigint key
 * `hashtext('migrate-bot:rollback')`, which pg_locks shows as classid (high 32 bits),
 * objid (low 32 bits) and objsubid 1.
 */
const KEY = "hashtext('migrate-bot:rollback')::bigint";

/** Takes the rollback lock on `client`'s session without waiting. @returns true when taken */
export async function tryRollbackLock(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(${KEY}) AS locked`);
  return rows[0]?.locked === true;
}

/**
 * Who holds the rollback lock of the database `client` is connected to, from pg_locks
 * and pg_stat_activity; null when nobody does. `since` is the holder's backend start.
 */
export async function rollbackLockHolder(client: pg.ClientBase): Promise<LockHolder | null> {
  const { rows } = await client.query<{ pid: number; application_name: string; since: Date | null }>(
    `SELECT a.pid, a.application_name, a.backend_start AS since
       FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.objsubid = 1
        AND l.classid::bigint = ((${KEY} >> 32) & 4294967295)
        AND l.objid::bigint = (${KEY} & 4294967295)
      LIMIT 1`,
  );
  const r = rows[0];
  return r ? { pid: r.pid, applicationName: r.application_name, since: r.since ? r.since.toISOString() : null } : null;
}

/** A session that blocks a down migration, as pg_blocking_pids names it. */
export interface BlockingSession {
  pid: number;
  applicationName: string;
  state: string | null;
  /** The session's current or last statement, cut to 200 characters. */
  query: string;
}

/**
 * Watches which sessions block backend `pid` while a down migration runs, polling
 * `pg_blocking_pids` every `everyMs` (ms) on `client` (an otherwise idle session), so a
 * `lock_timeout` failure can name who held the lock — after the timeout the wait is gone
 * and pg_locks no longer shows it (PostgreSQL "pg_blocking_pids"; runbook 000 "Monitoring
 * During Migrations").
 * @returns `stop()`, which ends the polling and gives the last non-empty set seen
 */
export function watchBlockers(
  client: pg.ClientBase,
  pid: number,
  everyMs = 100,
): { stop(): Promise<BlockingSession[]> } {
  let last: BlockingSession[] = [];
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const poll = async (): Promise<void> => {
    const { rows } = await client.query<{ pid: number; application_name: string; state: string | null; query: string }>(
      `SELECT pid, application_name, state, left(query, 200) AS query FROM pg_stat_activity WHERE pid = ANY(pg_blocking_pids($1)) ORDER BY pid`,
      [pid],
    );
    if (rows.length)
      last = rows.map((r) => ({ pid: r.pid, applicationName: r.application_name, state: r.state, query: r.query }));
  };
  const timer = setInterval(() => {
    if (stopped) return;
    running = running.then(poll).catch(() => undefined);
  }, everyMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await poll().catch(() => undefined); // a blocker may still be there right after the timeout
      return last;
    },
  };
}

/** "pid 4242 (psql, idle in transaction): `LOCK TABLE events`" — for failure messages. */
export function describeBlockers(blockers: BlockingSession[]): string {
  return blockers
    .map(
      (b) =>
        `pid ${b.pid} (${b.applicationName || 'no application_name'}${b.state ? `, ${b.state}` : ''}): \`${b.query.replace(/`/g, "'").replace(/\s+/g, ' ').trim()}\``,
    )
    .join('; ');
}
