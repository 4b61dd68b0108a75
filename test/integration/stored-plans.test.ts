import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresIncidentRepository } from '../../src/adapters/postgres/postgres-incident-repository.js';
import { migrateStateDb } from '../../src/adapters/postgres/state-schema.js';
import { systemClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

describe('incidents stored before the migration-tool registry', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  beforeAll(async () => {
    db = await createTestDatabase('mb_state_legacy');
    await migrateStateDb(db.url, silentLogger);
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await db?.drop();
  });

  it('read a knex plan (trackingId, batch) back as tool-neutral steps', async () => {
    const legacy = [
      { migration: '007_add_security_tables.ts', trackingId: 7, batch: 2, transactional: true, sql: ['DROP TABLE IF EXISTS failed_login_attempts'] },
      { migration: '006_add_ticket_state_machine.ts', trackingId: 6, batch: 2, transactional: false, sql: [] },
    ];
    const { rows } = await pool.query<{ id: string }>(
      `INSERT INTO incidents (id, kind, service, migration, state, requested_by, plan, created_at, updated_at)
       VALUES (gen_random_uuid(), 'rollback', 'ticket-service', '006_add_ticket_state_machine.ts', 'awaiting_approval', 'U0REQ001', $1, now(), now()) RETURNING id`,
      [JSON.stringify(legacy)],
    );
    const incident = await new PostgresIncidentRepository(pool, systemClock).get(rows[0]!.id);
    expect(incident!.plan).toEqual([
      { migration: '007_add_security_tables.ts', order: 7, group: 'batch 2', transactional: true, sql: ['DROP TABLE IF EXISTS failed_login_attempts'] },
      { migration: '006_add_ticket_state_machine.ts', order: 6, group: 'batch 2', transactional: false, sql: [] },
    ]);
  });
});
