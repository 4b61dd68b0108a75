/**
 * Who still uses what the downs drop, on real PostgreSQL: a cluster of the test's own with
 * pg_stat_statements preloaded (`shared_preload_libraries`), an "application" session
 * (`application_name=events-api`) that reads `events.search_vector`, a view on that column, and the
 * bot's own tagged read, which must not count. On the machine's shared server, without the
 * extension, the check says how to enable it and still names the running session.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresArchiveCatalog } from '../../src/adapters/postgres/archive-catalog.js';
import type { ServiceConfig } from '../../src/config/services.js';
import { BOT_QUERY_TAG, usageLines, type UsageTarget } from '../../src/domain/rollback/usage.js';
import { wordsPlain } from '../../src/shared/words.js';
import { query } from '../support/e2e-helpers.js';
import { startOwnPostgres, type OwnPostgres } from '../support/own-postgres.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const TARGETS: UsageTarget[] = [
  { kind: 'column', table: { schema: null, name: 'events' }, column: 'search_vector' },
  { kind: 'table', table: { schema: null, name: 'event_audit' } },
];

const SCHEMA = `
  CREATE TABLE events (id serial PRIMARY KEY, name text, search_vector text);
  CREATE TABLE event_audit (id serial PRIMARY KEY, note text);
  CREATE VIEW searchable_events AS SELECT id, search_vector FROM events;
  INSERT INTO events (name, search_vector) SELECT 'e' || g, 'v' || g FROM generate_series(1, 20) g;`;

const serviceOn = (url: string) => ({ name: 'events', database_url: url }) as unknown as ServiceConfig;

/** An application session that read the column three times and stays connected (idle, its last query known). */
async function application(url: string): Promise<pg.Client> {
  const app = new pg.Client({ connectionString: url, application_name: 'events-api' });
  await app.connect();
  for (const id of [1, 2, 3]) await app.query('SELECT id, search_vector FROM events WHERE id = $1', [id]);
  await app.query('SELECT name FROM events WHERE id = $1', [4]); // reads another column only
  await app.query('SELECT id, search_vector FROM events WHERE id = $1', [5]);
  return app;
}

describe('who still uses what the downs drop', () => {
  let cluster: OwnPostgres;
  const clients: pg.Client[] = [];
  let shared: TestDatabase;

  beforeAll(async () => {
    cluster = await startOwnPostgres(['shared_preload_libraries=pg_stat_statements', 'pg_stat_statements.track=all']);
    await query(cluster.url('postgres'), 'CREATE DATABASE events');
    shared = await createTestDatabase('mb_usage');
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await cluster?.destroy();
    await shared?.drop();
  });

  it('counts the application statements from pg_stat_statements, names its session and the dependent view, and leaves out the bot', async () => {
    const url = cluster.url('events');
    await query(url, `CREATE EXTENSION pg_stat_statements; ${SCHEMA}`);
    clients.push(await application(url));
    await query(url, `${BOT_QUERY_TAG} SELECT count(*) FROM events WHERE search_vector IS NOT NULL`);

    const usage = await postgresArchiveCatalog.usage(serviceOn(url), TARGETS);
    expect(usage.statementsUnavailable).toBeNull();
    const column = usage.objects[0]!;
    expect(column.object).toBe('column public.events.search_vector');
    // The view's definition and the application's statement; not the bot's tagged count, not the name-only read.
    expect(column.samples.some((s) => s.includes('WHERE id = $1'))).toBe(true);
    expect(column.samples.some((s) => s.includes('migrate-bot'))).toBe(false);
    expect(column.calls).toBeGreaterThanOrEqual(4);
    expect(column.lastSeen).toMatchObject({ application: 'events-api', state: 'idle' });
    expect(usage.objects[1]).toMatchObject({ object: 'table public.event_audit', statements: 0, lastSeen: null });
    expect(usage.dependents).toEqual([
      { object: 'column public.events.search_vector', dependent: 'view public.searchable_events' },
    ]);
    const lines = usageLines(usage).map((l) => wordsPlain(l.words));
    expect(lines[0]).toMatch(
      /^\d+ statements? still use `column public.events.search_vector` \([\d,]+ calls since \d{4}-\d\d-\d\d\), last seen \d+ s ago in an idle session's last query from app `events-api` — e\.g\. .*: deploy the application version that no longer uses it first \(runbook 003\)\.$/,
    );
    expect(lines).toContain('`view public.searchable_events` depends on `column public.events.search_vector`.');
  });

  it('without pg_stat_statements, says how to enable it and still names the running session', async () => {
    await query(shared.url, SCHEMA);
    clients.push(await application(shared.url));
    const usage = await postgresArchiveCatalog.usage(serviceOn(shared.url), TARGETS);
    expect(usage.statementsUnavailable).toContain('CREATE EXTENSION pg_stat_statements');
    expect(usage.objects[0]).toMatchObject({ statements: 0, lastSeen: { application: 'events-api' } });
    expect(usageLines(usage).map((l) => l.kind)).toEqual(['uses', 'depends', 'unavailable']);
  });
});
