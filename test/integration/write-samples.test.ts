/**
 * The write counters behind "writes since the snapshot" on the real PostgreSQL: a sample at
 * snapshot time, then writes from an application session; `since` counts them by counters for a
 * table without timestamps, by `updated_at` for one with it (an update of an old row counts, an
 * old row does not), picks the newest snapshot before the given time, and says null before any.
 * `restoreTimes` reads the service's finished restores, newest first.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresWriteSamples } from '../../src/adapters/postgres/write-samples.js';
import type { ServiceConfig } from '../../src/config/services.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { createStateDatabase, type StateDatabase } from '../support/state-db.js';

let state: StateDatabase;
let app: TestDatabase;
beforeAll(async () => {
  [state, app] = await Promise.all([createStateDatabase('mb_samples'), createTestDatabase('mb_samples_app')]);
});
afterAll(async () => {
  await Promise.all([state?.close(), app?.drop()]);
});

/** Writes from one application session, flushed to the shared statistics before it returns (PostgreSQL 15+). */
async function write(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url, application_name: 'events-api' });
  await c.connect();
  try {
    await c.query(sql);
    await c.query('SELECT pg_stat_force_next_flush()');
    await c.query('SELECT 1');
  } finally {
    await c.end();
  }
}

describe('write samples', () => {
  it('counts the writes since the newest snapshot before a time, by timestamps or by counters', async () => {
    const service = { name: 'events', database_url: app.url } as ServiceConfig;
    const samples = new PostgresWriteSamples(state.pool);
    await write(
      app.url,
      `CREATE TABLE events (id serial PRIMARY KEY, name text);
       CREATE TABLE users (id serial PRIMARY KEY, email text, updated_at timestamptz NOT NULL DEFAULT now());
       INSERT INTO events (name) SELECT 'e' || g FROM generate_series(1, 10) g;
       INSERT INTO users (email, updated_at) SELECT 'u' || g, now() - interval '1 day' FROM generate_series(1, 5) g`,
    );
    const tables = [
      { schema: null, name: 'events' },
      { schema: 'public', name: 'users' },
      { schema: null, name: 'gone' },
    ];
    expect(await samples.since(service, tables, new Date())).toBeNull();

    const takenAt = new Date();
    await samples.record(service, { id: 'snap-1', takenAt });
    await samples.record(service, { id: 'snap-1', takenAt }); // a repeated job keeps the first sample
    await write(
      app.url,
      `INSERT INTO events (name) SELECT 'n' || g FROM generate_series(1, 6) g;
       DELETE FROM events WHERE id <= 2;
       INSERT INTO users (email) VALUES ('new@x');
       UPDATE users SET email = 'u1@x', updated_at = now() WHERE id = 1`,
    );
    const since = await samples.since(service, tables, new Date());
    expect(since).toMatchObject({
      snapshotId: 'snap-1',
      takenAt: takenAt.toISOString(),
      tables: [
        { table: 'public.events', rows: 8, how: 'statistics' },
        { table: 'public.users', rows: 2, how: 'timestamps' },
      ],
    });
    expect(since!.database).toBe(10);
    // A time before the sample: no snapshot then.
    expect(await samples.since(service, tables, new Date(takenAt.getTime() - 1000))).toBeNull();
  });

  it('reads the service’s finished restore times, newest first', async () => {
    const samples = new PostgresWriteSamples(state.pool);
    const insert = (ms: number | null, endedMinutesAgo: number, service = 'events') =>
      state.pool.query(
        `INSERT INTO incidents (id, kind, restore, service, migration, state, requested_by, plan, created_at, updated_at, ended_at)
         VALUES (gen_random_uuid(), 'restore', $1, $2, 'restore of snap-1', 'resolved', 'U0REQ001', '[]', now(), now(), now() - $3 * interval '1 minute')`,
        [
          JSON.stringify({ snapshotId: 'snap-1', target: 't', ...(ms === null ? {} : { result: { elapsedMs: ms } }) }),
          service,
          endedMinutesAgo,
        ],
      );
    await insert(600_000, 30);
    await insert(900_000, 10);
    await insert(null, 5);
    await insert(1_000, 1, 'other');
    expect(await samples.restoreTimes('events', 5)).toEqual([900_000, 600_000]);
    expect(await samples.restoreTimes('nobody', 5)).toEqual([]);
  });
});
