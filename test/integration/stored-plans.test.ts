import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresIncidentRepository } from '../../src/adapters/postgres/postgres-incident-repository.js';
import { systemClock } from '../../src/shared/clock.js';
import { createStateDatabase, type StateDatabase } from '../support/state-db.js';

describe('incidents stored before the migration-tool registry', () => {
  let state: StateDatabase;
  beforeAll(async () => {
    state = await createStateDatabase('mb_state_legacy', 2);
  });
  afterAll(async () => state?.close());

  it('read a knex plan (trackingId, batch) back as tool-neutral steps', async () => {
    const legacy = [
      {
        migration: '007_add_security_tables.ts',
        trackingId: 7,
        batch: 2,
        transactional: true,
        sql: ['DROP TABLE IF EXISTS failed_login_attempts'],
      },
      { migration: '006_add_ticket_state_machine.ts', trackingId: 6, batch: 2, transactional: false, sql: [] },
    ];
    const { rows } = await state.pool.query<{ id: string }>(
      `INSERT INTO incidents (id, kind, service, migration, state, requested_by, plan, created_at, updated_at)
       VALUES (gen_random_uuid(), 'rollback', 'ticket-service', '006_add_ticket_state_machine.ts', 'awaiting_approval', 'U0REQ001', $1, now(), now()) RETURNING id`,
      [JSON.stringify(legacy)],
    );
    const incident = await new PostgresIncidentRepository(state.pool, systemClock).get(rows[0]!.id);
    expect(incident!.plan).toEqual([
      {
        migration: '007_add_security_tables.ts',
        order: 7,
        group: 'batch 2',
        transactional: true,
        sql: ['DROP TABLE IF EXISTS failed_login_attempts'],
      },
      { migration: '006_add_ticket_state_machine.ts', order: 6, group: 'batch 2', transactional: false, sql: [] },
    ]);
  });
});
