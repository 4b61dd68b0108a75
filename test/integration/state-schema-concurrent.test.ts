/**
 * Replicas that start together migrate the state database one at a time: six concurrent
 * migrations of a fresh database all succeed and apply each migration once; a knex lock table
 * left locked with two rows by processes that died is freed instead of wedging every start.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { migrateStateDb, STATE_MIGRATIONS, STATE_MIGRATIONS_TABLE } from '../../src/adapters/postgres/state-schema.js';
import { silentLogger } from '../../src/shared/logger.js';
import { query } from '../support/e2e-helpers.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

describe('state schema migrations from several processes at once', () => {
  let db: TestDatabase | undefined;
  afterEach(async () => {
    await db?.drop();
    db = undefined;
  });

  it('six starts at once on a fresh database, ten rounds: all succeed, one applies each migration once', async () => {
    const all = Object.keys(STATE_MIGRATIONS).sort();
    for (let round = 0; round < 10; round++) {
      db = await createTestDatabase('mb_state_race');
      const url = db.url;
      const results = await Promise.all(Array.from({ length: 6 }, () => migrateStateDb(url, silentLogger)));
      expect(results.flat().sort(), `round ${round}`).toEqual(all);
      expect(results.filter((r) => r.length > 0)).toHaveLength(1);
      expect(await query(url, `SELECT count(*)::int AS n FROM ${STATE_MIGRATIONS_TABLE}`)).toEqual([{ n: all.length }]);
      expect(await query(url, `SELECT is_locked FROM ${STATE_MIGRATIONS_TABLE}_lock`)).toEqual([{ is_locked: 0 }]);
      await db.drop();
      db = undefined;
    }
  });

  it('frees a knex lock table left locked with two rows, and migrates', async () => {
    db = await createTestDatabase('mb_state_wedged');
    await query(
      db.url,
      `CREATE TABLE ${STATE_MIGRATIONS_TABLE}_lock (index serial PRIMARY KEY, is_locked integer);
       INSERT INTO ${STATE_MIGRATIONS_TABLE}_lock (is_locked) VALUES (1), (1);`,
    );
    expect(await migrateStateDb(db.url, silentLogger)).toEqual(Object.keys(STATE_MIGRATIONS).sort());
    expect(await query(db.url, `SELECT is_locked FROM ${STATE_MIGRATIONS_TABLE}_lock`)).toEqual([{ is_locked: 0 }]);
  });
});
