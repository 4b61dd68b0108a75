import { describe, expect, it } from 'vitest';
import { expectedObjects } from '../../../src/domain/verify/expected-objects.js';

describe('what the schema should look like after the plan (parsed ups and downs)', () => {
  it("objects a reverted up created must be gone unless a down recreates them; a down's last word on an object wins", async () => {
    const { objects, problems } = await expectedObjects([
      {
        migration: '008_add_event_reminders.ts',
        order: 8,
        transactional: true,
        sql: ['DROP TABLE IF EXISTS event_reminder'],
        upSql: [
          'CREATE TABLE event_reminders (id serial PRIMARY KEY)',
          'CREATE INDEX event_reminders_at_idx ON event_reminders (id)',
        ],
      },
      {
        migration: '007_promo.ts',
        order: 7,
        transactional: true,
        sql: [
          'ALTER TABLE events DROP COLUMN promo_code',
          'ALTER TABLE events ADD CONSTRAINT events_age_check CHECK (age >= 0)',
          'DROP POLICY IF EXISTS p ON tickets',
          "CREATE TYPE ticket_state AS ENUM ('a')",
        ],
        upSql: ['ALTER TABLE events ADD COLUMN promo_code text', 'ALTER TABLE events DROP CONSTRAINT events_age_check'],
      },
    ]);
    expect(problems).toEqual([]);
    expect(objects.map((o) => `${o.present ? '+' : '-'} ${o.kind} ${o.table ? `${o.table}.` : ''}${o.name}`)).toEqual(
      [
        '- table event_reminder',
        '- column events.promo_code',
        '+ constraint events_age_check',
        '- policy tickets.p',
        '+ type ticket_state',
        '- table event_reminders',
        '- index event_reminders_at_idx',
      ].map((l) => l.replace('+ constraint events_age_check', '+ constraint events.events_age_check')),
    );
    expect(objects.find((o) => o.name === 'event_reminders')!.because).toBe(
      'the up of `008_add_event_reminders.ts` created it and the rollback reverts that up',
    );
  });

  it('unparseable SQL is reported, not guessed', async () => {
    const { objects, problems } = await expectedObjects([
      { migration: '009_x.ts', order: 9, transactional: true, sql: ['DROPP TABLE x'] },
    ]);
    expect(objects).toEqual([]);
    expect(problems[0]).toMatch(/`009_x.ts` down: SQL 1: not parsed/);
  });
});
