import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withTriageSessions } from '../../src/adapters/postgres/triage-runner.js';
import { integrityCheck, objectsCheck, smokeCheck } from '../../src/domain/verify/verification.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';
import { triageService } from './triage/triage-fixtures.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('mb_verify');
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await c.query(`
    CREATE TABLE venues (id int PRIMARY KEY);
    INSERT INTO venues VALUES (1), (2);
    CREATE TABLE events (id int PRIMARY KEY, venue_id int, code text);
    INSERT INTO events VALUES (1, 1, 'a'), (2, 7, 'b'), (3, 8, 'b'), (4, NULL, 'c');
    ALTER TABLE events ADD CONSTRAINT events_venue_fk FOREIGN KEY (venue_id) REFERENCES venues (id) NOT VALID;
  `);
  // A unique index built CONCURRENTLY over duplicates fails and stays behind, invalid (runbook 000).
  await c.query('CREATE UNIQUE INDEX CONCURRENTLY events_code_idx ON events (code)').catch(() => undefined);
  await c.end();
});
afterAll(async () => db?.drop());

const run = <T>(
  fn: (
    begin: Parameters<Parameters<typeof withTriageSessions>[1]>[0],
    describeError: (e: unknown) => string,
  ) => Promise<T>,
) => withTriageSessions(triageService(db.url), fn);

describe('verification checks against a real database (runbook 001 postflight)', () => {
  it('names the invalid index, the NOT VALID constraint and the orphaned rows on the touched tables', async () => {
    const check = await run((begin) =>
      integrityCheck(begin, [
        {
          migration: '009_x.ts',
          order: 9,
          transactional: true,
          sql: ['ALTER TABLE events DROP COLUMN IF EXISTS promo'],
        },
      ]),
    );
    expect(check.status).toBe('failed');
    expect(check.problems).toEqual([
      'index `events_code_idx` on `events` is invalid',
      'constraint `events_venue_fk` on `events` is NOT VALID',
      '2 row(s) of `events` have no parent in `venues` (foreign key `events_venue_fk`)',
    ]);
  });

  it("an untouched table is not this rollback's business; objects are looked up in the catalogs", async () => {
    const clean = await run((begin) =>
      integrityCheck(begin, [
        { migration: '009_x.ts', order: 9, transactional: true, sql: ['DROP TABLE IF EXISTS gone_table'] },
      ]),
    );
    expect(clean.status).toBe('skipped');
    const objects = await run((begin) =>
      objectsCheck(begin, [
        {
          migration: '009_x.ts',
          order: 9,
          transactional: true,
          sql: ['ALTER TABLE events ADD COLUMN promo text', 'DROP TABLE IF EXISTS venues'],
          upSql: ['CREATE INDEX events_code_idx ON events (code)'],
        },
      ]),
    );
    expect(objects.status).toBe('failed');
    expect(objects.problems).toEqual([
      'column `events.promo` is missing: the down of `009_x.ts` creates it',
      'table `venues` still exists: the down of `009_x.ts` drops it',
      'index `events_code_idx` still exists: the up of `009_x.ts` created it and the rollback reverts that up',
    ]);
  });

  it('smoke queries compare row counts and booleans, and a failing one says why', async () => {
    const check = await run((begin, describeError) =>
      smokeCheck(
        begin,
        [
          { name: 'venues', sql: 'SELECT * FROM venues', expect_rows: 2 },
          { name: 'events_ok', sql: 'SELECT count(*) = 4 FROM events', expect: true },
          { name: 'broken', sql: 'SELECT * FROM no_such_table', expect_rows: 0 },
          { name: 'read_only', sql: 'INSERT INTO venues VALUES (3) RETURNING id', expect_rows: 1 },
        ],
        describeError,
      ),
    );
    expect(check.status).toBe('failed');
    expect(check.problems).toEqual([
      expect.stringMatching(/^`broken` failed: .*no_such_table/),
      expect.stringMatching(/^`read_only` failed: .*read-only/),
    ]);
    expect(check.detail).toBe('2 of 4 as expected');
  });
});
