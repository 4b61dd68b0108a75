import { describe, expect, it } from 'vitest';
import {
  type ArchiveSource,
  type UnarchiveTarget,
  unarchivePlanStep,
  unarchiveProblems,
  unarchiveRefusal,
  unarchiveSql,
} from '../../../src/domain/rollback/unarchive.js';
import { planDigest } from '../../../src/domain/rollback/plan-digest.js';

const table: ArchiveSource = {
  archive: { schema: 'migrate_bot_archive', table: '3f9a12bc_1_ticket_scans' },
  kind: 'table',
  target: { schema: 'public', table: 'ticket_scans' },
  columns: ['id', 'ticket_id', 'scanned_at'],
  rows: 40,
  incidentId: '3f9a12bc-0000-4000-8000-000000000000',
  migration: '007_x.ts',
};
const there: UnarchiveTarget = {
  exists: true,
  missingColumns: [],
  key: ['id'],
  conflicts: 0,
  unmatched: 0,
  rows: 0,
  serialKey: 'id',
};

describe('unarchive plans', () => {
  it('inserts the absent rows of a table, updates the rest only with overwrite, and moves a serial key past them', () => {
    const skip = unarchivePlanStep(table, there, 'skip', 1);
    expect(skip.sql).toEqual([
      'INSERT INTO "public"."ticket_scans" ("id", "ticket_id", "scanned_at") OVERRIDING SYSTEM VALUE SELECT a."id", a."ticket_id", a."scanned_at" FROM "migrate_bot_archive"."3f9a12bc_1_ticket_scans" AS a WHERE NOT EXISTS (SELECT 1 FROM "public"."ticket_scans" AS t WHERE t."id" = a."id")',
      `SELECT setval(pg_get_serial_sequence('"public"."ticket_scans"', 'id'), max("id")) FROM "public"."ticket_scans" HAVING count(*) > 0`,
    ]);
    const overwrite = unarchiveSql({ ...skip.unarchive!, onConflict: 'overwrite' });
    expect(overwrite[0]).toBe(
      'UPDATE "public"."ticket_scans" AS t SET ("ticket_id", "scanned_at") = ROW(a."ticket_id", a."scanned_at") FROM "migrate_bot_archive"."3f9a12bc_1_ticket_scans" AS a WHERE t."id" = a."id"',
    );
    expect(overwrite).toHaveLength(3);
    // Without a key (an empty table), every archived row is inserted.
    expect(unarchiveSql({ ...skip.unarchive!, key: [], serialKey: null })).toEqual([
      'INSERT INTO "public"."ticket_scans" ("id", "ticket_id", "scanned_at") OVERRIDING SYSTEM VALUE SELECT a."id", a."ticket_id", a."scanned_at" FROM "migrate_bot_archive"."3f9a12bc_1_ticket_scans" AS a',
    ]);
  });

  it('binds the conflict mode into the plan digest', () => {
    const digest = (mode: 'skip' | 'overwrite') => planDigest([unarchivePlanStep(table, there, mode, 1)], null, 'snap');
    expect(digest('skip')).not.toBe(digest('overwrite'));
  });

  it('says why an archive cannot go back', () => {
    expect(unarchiveRefusal(table, { ...there, exists: false }, 'refuse')).toMatch(
      /^table public.ticket_scans does not exist: re-create it/,
    );
    expect(unarchiveRefusal(table, { ...there, missingColumns: ['scanned_at'] }, 'skip')).toMatch(
      /^public.ticket_scans has no column scanned_at: add it back/,
    );
    expect(unarchiveRefusal(table, { ...there, key: [], rows: 3 }, 'skip')).toBe(
      'public.ticket_scans has no primary key and already holds 3 rows, so the archived rows could not be matched to them',
    );
    expect(unarchiveRefusal(table, { ...there, conflicts: 2 }, 'refuse')).toContain(
      '2 archived rows of table public.ticket_scans already exist with other values: add --on-conflict skip',
    );
    expect(unarchiveRefusal(table, { ...there, conflicts: 2 }, 'skip')).toBeNull();
  });

  it('counts differing rows as problems unless skip kept them, and missing rows always', () => {
    const step = unarchivePlanStep(table, there, 'refuse', 1).unarchive!;
    const c = {
      archive: 'a.t',
      rows: 40,
      equal: 38,
      differing: 2,
      missing: 0,
      checksums: { archive: 'x', table: 'y' },
    };
    expect(unarchiveProblems(step, c)).toEqual(['a.t: 2 of 40 archived rows differ from table public.ticket_scans']);
    expect(unarchiveProblems({ ...step, onConflict: 'skip' }, c)).toEqual([]);
    expect(unarchiveProblems(step, { ...c, equal: 39, differing: 0, missing: 1 })).toEqual([
      'a.t: 1 of 40 archived rows have no row in public.ticket_scans now',
    ]);
  });
});

describe('the usage check’s renamed objects', () => {
  it('names the tables and columns the downs rename, by their old names, once each', async () => {
    const { renameTargets } = await import('../../../src/domain/rollback/usage.js');
    expect(
      await renameTargets([
        {
          sql: [
            'ALTER TABLE events RENAME COLUMN search_vector TO search_vec',
            'ALTER TABLE public.reminders RENAME TO event_reminders',
            'ALTER TABLE events RENAME COLUMN search_vector TO other',
            'ALTER INDEX events_idx RENAME TO events_idx_old',
            'DROPP nonsense',
          ],
        },
      ]),
    ).toEqual([
      { kind: 'column', table: { schema: null, name: 'events' }, column: 'search_vector' },
      { kind: 'table', table: { schema: 'public', name: 'reminders' } },
    ]);
  });
});
