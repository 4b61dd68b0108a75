/**
 * State migration 0008: Slack's bookkeeping leaves the incident for the Slack adapter's own
 * table. Seeded with the schema before it (migrations 0001–0007, incidents written as the
 * previous release wrote them), migrated forward by the bot's own start-up migration: no
 * incident, event or notice is lost, and each incident's channel, plan card, summary and
 * topic are where the new code reads them.
 */
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresIncidentRepository } from '../../src/adapters/postgres/postgres-incident-repository.js';
import { PostgresSlackIncidentStore } from '../../src/adapters/postgres/postgres-slack-incident-store.js';
import { migrateStateDb, STATE_MIGRATIONS, STATE_MIGRATIONS_TABLE } from '../../src/adapters/postgres/state-schema.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { query } from '../support/bot-waits.js';

const BEFORE = Object.keys(STATE_MIGRATIONS)
  .sort()
  .filter((n) => n < '0008');

/** Migrates `url` up through 0007 only, with the bot's own migrations (the previous release's schema). */
async function migrateToPreviousRelease(url: string): Promise<void> {
  const source: Knex.MigrationSource<string> = {
    getMigrations: async () => BEFORE,
    getMigrationName: (n) => n,
    getMigration: async (n) => STATE_MIGRATIONS[n]!,
  };
  const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 1 } });
  try {
    await knex.migrate.latest({ migrationSource: source, tableName: STATE_MIGRATIONS_TABLE });
  } finally {
    await knex.destroy();
  }
}

const WITH_CHANNEL = '00000000-0000-4000-8000-000000000001';
const ROUND_TWO = '00000000-0000-4000-8000-000000000002';
const NO_CHANNEL = '00000000-0000-4000-8000-000000000003';

describe('state migration 0008 (incident_slack)', () => {
  let db: TestDatabase | undefined;
  let pool: pg.Pool | undefined;
  afterEach(async () => {
    await pool?.end();
    await db?.drop();
    db = pool = undefined;
  });

  it('moves the channel, plan card, summary and topic of existing incidents, and keeps every incident, event and notice', async () => {
    db = await createTestDatabase('mb_statemig');
    await migrateToPreviousRelease(db.url);
    await query(
      db.url,
      `INSERT INTO incidents (id, service, migration, state, requested_by, channel_id, channel_name, plan_message_ts, summary_ts, topic_state, attempt)
       VALUES ($1, 'svc-a', '007_x.ts', 'resolved', 'U0REQ001', 'C0AAA0001', 'incident-db-migration-a', '111.1', '100.1', 'resolved', 1),
              ($2, 'svc-b', '003_y.ts', 'awaiting_approval', 'U0REQ001', 'C0BBB0002', 'incident-db-migration-b', '222.2', '200.2', 'awaiting_approval', 2),
              ($3, 'svc-c', '001_z.ts', 'opened', 'U0REQ001', NULL, NULL, NULL, NULL, NULL, 1)`,
      [WITH_CHANNEL, ROUND_TWO, NO_CHANNEL],
    );
    await query(db.url, `INSERT INTO incident_events (incident_id, type, actor) VALUES ($1, 'opened', 'U0REQ001')`, [
      WITH_CHANNEL,
    ]);
    await query(db.url, `INSERT INTO notices (incident_id, method, args) VALUES ($1, 'progress', '[]')`, [ROUND_TWO]);

    expect(await migrateStateDb(db.url, silentLogger)).toEqual([
      '0008_incident_slack',
      '0009_incident_approvers',
      '0010_incident_process',
      '0011_down_checks',
      '0012_unarchive_incidents',
      '0013_snapshot_samples',
    ]);

    const columns = await query<{ column_name: string }>(
      db.url,
      "SELECT column_name FROM information_schema.columns WHERE table_name = 'incidents' AND column_name IN ('channel_id', 'channel_name', 'plan_message_ts', 'summary_ts', 'topic_state')",
    );
    expect(columns).toEqual([]);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM incidents')).toEqual([{ n: 3 }]);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM incident_events')).toEqual([{ n: 1 }]);
    expect(await query(db.url, 'SELECT count(*)::int AS n FROM notices')).toEqual([{ n: 1 }]);

    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const repo = new PostgresIncidentRepository(pool, systemClock);
    const slack = new PostgresSlackIncidentStore(pool);
    expect((await repo.get(WITH_CHANNEL))?.conversation).toEqual({ id: 'C0AAA0001', name: 'incident-db-migration-a' });
    expect((await repo.get(NO_CHANNEL))?.conversation).toBeNull();
    // 0009: incidents opened before approver rosters have none, so their approvers are read at each press as before.
    expect((await repo.get(WITH_CHANNEL))?.approvers).toBeNull();
    expect(await slack.get(WITH_CHANNEL, 1)).toEqual({
      channelId: 'C0AAA0001',
      channelName: 'incident-db-migration-a',
      planMessageTs: '111.1',
      summaryTs: '100.1',
      topicState: 'resolved',
    });
    // The plan card belongs to the round it was posted in: round 2's card, not round 3's.
    expect((await slack.get(ROUND_TWO, 2)).planMessageTs).toBe('222.2');
    expect((await slack.get(ROUND_TWO, 3)).planMessageTs).toBeNull();
    expect(await slack.get(NO_CHANNEL, 1)).toEqual({
      channelId: null,
      channelName: null,
      planMessageTs: null,
      summaryTs: null,
      topicState: null,
    });
  });

  it('a new round forgets the old plan card; an incident with a channel is never discarded', async () => {
    db = await createTestDatabase('mb_statemig');
    await migrateStateDb(db.url, silentLogger);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const repo = new PostgresIncidentRepository(pool, systemClock);
    const slack = new PostgresSlackIncidentStore(pool);
    const incident = await repo.create({ service: 'svc-a', migration: '007_x.ts', requestedBy: 'U0REQ001', plan: [] });
    await slack.setChannel(incident.id, 'C0NEW0001', 'incident-db-migration-new');
    await slack.setPlanMessage(incident.id, 1, '300.3');
    await slack.setSummary(incident.id, { ts: '301.1' });
    await slack.setSummary(incident.id, { topicState: 'opened' });
    expect(await slack.get(incident.id, 1)).toMatchObject({
      planMessageTs: '300.3',
      summaryTs: '301.1',
      topicState: 'opened',
    });
    expect(await slack.get(incident.id, 2)).toMatchObject({ planMessageTs: null, summaryTs: '301.1' });
    await repo.discard(incident.id);
    expect((await repo.get(incident.id))?.conversation).toEqual({ id: 'C0NEW0001', name: 'incident-db-migration-new' });
  });
});
