/**
 * The pure parts of archive before destroy: which findings become copies, the copy's SQL and name,
 * what is refused and why, the words on a risk line, and how the copies ride along with the plan.
 */
import { describe, expect, it } from 'vitest';
import {
  annotateFindings,
  archivePlan,
  archiveTableName,
  archiveTargets,
  carryArchive,
  type ResolvedTarget,
  withArchive,
  withoutArchive,
} from '../../../src/domain/rollback/archive.js';
import type { PlanStep } from '../../../src/domain/rollback/plan.js';
import { planDigest } from '../../../src/domain/rollback/plan-digest.js';
import { advisesRestore, riskVerdict } from '../../../src/domain/rollback/risk-verdict.js';
import { classifyPlan } from '../../../src/domain/rollback/risk.js';

const ID = '3f9a12bc-0000-4000-8000-000000000001';
const step = (migration: string, sql: string[]): PlanStep => ({ migration, order: 1, transactional: true, sql });
const PLAN = [
  step('007_search.ts', [
    'ALTER TABLE events DROP COLUMN search_vector',
    'DROP TABLE IF EXISTS event_audit',
    'DROP INDEX events_name_idx',
  ]),
  step('006_scans.ts', ['TRUNCATE ticket_scans', 'DELETE FROM tickets WHERE id = 1']),
];
const found = (over: Partial<ResolvedTarget> = {}): ResolvedTarget => ({
  exists: true,
  schema: 'public',
  primaryKey: ['id'],
  estimatedBytes: 1000,
  estimatedRows: 10,
  ...over,
});
const SETTINGS = { schema: 'migrate_bot_archive', max_bytes: 1024 ** 3 };

describe('archive before destroy, planned', () => {
  it('makes a copy per destroyed table or column, none for an index or a DELETE with WHERE', async () => {
    const risk = await classifyPlan(PLAN);
    const targets = archiveTargets(PLAN, risk);
    expect(targets.map((t) => [t.step, t.kind, t.table.name, t.column ?? null])).toEqual([
      [1, 'column', 'events', 'search_vector'],
      [1, 'table', 'event_audit', null],
      [2, 'table', 'ticket_scans', null],
    ]);
    const plan = archivePlan(
      ID,
      '3f9a12bc',
      PLAN,
      targets,
      targets.map(() => found()),
      SETTINGS,
      null,
    );
    const column = plan.copies[0]!;
    expect(column).toMatchObject({
      table: '3f9a12bc_1_events_search_vector',
      object: 'column public.events.search_vector',
      statement: 0,
    });
    expect(column.sql[2]).toBe(
      'CREATE TABLE "migrate_bot_archive"."3f9a12bc_1_events_search_vector" AS SELECT "id", "search_vector" FROM "public"."events" WHERE "search_vector" IS NOT NULL',
    );
    const comment = Buffer.from(/decode\('([A-Za-z0-9+/=]+)'/.exec(column.sql[3]!)![1]!, 'base64').toString('utf8');
    expect(comment).toBe(
      `migrate-bot archive of column public.events.search_vector: incident ${ID}, migration 007_search.ts, before: ALTER TABLE events DROP COLUMN search_vector; copied at`,
    );
    expect(plan.copies[2]!.sql[2]).toBe(
      'CREATE TABLE "migrate_bot_archive"."3f9a12bc_2_ticket_scans" AS SELECT * FROM "public"."ticket_scans"',
    );
    expect(plan.totalBytes).toBe(3000);
  });

  it('refuses a column without a primary key, everything without the privilege, everything above max_bytes', async () => {
    const risk = await classifyPlan(PLAN);
    const targets = archiveTargets(PLAN, risk);
    const noKey = archivePlan(
      ID,
      '3f9a12bc',
      PLAN,
      targets,
      [found({ primaryKey: [] }), found(), found({ exists: false })],
      SETTINGS,
      null,
    );
    expect(noKey.refused).toEqual([
      {
        object: 'column public.events.search_vector',
        why: 'public.events has no primary key, so its values could not be matched to rows again',
      },
    ]);
    expect(noKey.copies.map((c) => c.object)).toEqual(['table public.event_audit']);
    const grant = archivePlan(
      ID,
      '3f9a12bc',
      PLAN,
      targets,
      targets.map(() => found()),
      SETTINGS,
      'GRANT CREATE ON DATABASE app TO migrator',
    );
    expect(grant.copies).toEqual([]);
    expect(grant.refused.map((r) => r.why)).toEqual(Array(3).fill('GRANT CREATE ON DATABASE app TO migrator'));
    const big = archivePlan(
      ID,
      '3f9a12bc',
      PLAN,
      targets,
      targets.map(() => found({ estimatedBytes: 600 * 1024 ** 2 })),
      SETTINGS,
      null,
    );
    expect(big.copies).toEqual([]);
    expect(big.refused[0]!.why).toBe('the archive would take ~1.8 GB, above archive.max_bytes (1.0 GB)');
  });

  it('says on the risk line where the data goes, and stops advising a restore once all of it is kept', async () => {
    const plan = [step('007_search.ts', ['DROP TABLE event_audit'])];
    const risk = await classifyPlan(plan);
    risk.steps[0]!.findings[0]!.figure = { count: 500, estimated: false };
    const archive = archivePlan(
      ID,
      '3f9a12bc',
      plan,
      archiveTargets(plan, risk),
      [found({ estimatedBytes: 1_258_291 })],
      SETTINGS,
      null,
    );
    const annotated = annotateFindings(risk, plan, archive);
    expect(riskVerdict(annotated.steps[0]!.findings[0]!)).toBe(
      'drops table event_audit — 500 rows, archived first to migrate_bot_archive.3f9a12bc_1_event_audit (est. 1.2 MB)',
    );
    expect(advisesRestore(risk)).toBe(true);
    expect(advisesRestore(annotated)).toBe(false);
    const refused = annotateFindings(risk, plan, {
      copies: [],
      refused: [{ object: 'table public.event_audit', why: 'too big' }],
      totalBytes: 0,
    });
    expect(riskVerdict(refused.steps[0]!.findings[0]!)).toBe(
      'drops table event_audit — 500 rows lost; not archived: too big',
    );
  });

  it('binds the copies into the digest, carries them over unchanged SQL only, and names tables within 63 bytes', async () => {
    const risk = await classifyPlan(PLAN);
    const targets = archiveTargets(PLAN, risk);
    const archived = withArchive(
      PLAN,
      archivePlan(
        ID,
        '3f9a12bc',
        PLAN,
        targets,
        targets.map(() => found()),
        SETTINGS,
        null,
      ),
    );
    expect(planDigest(archived, null, 's')).not.toBe(planDigest(PLAN, null, 's'));
    expect(planDigest(withoutArchive(archived), null, 's')).toBe(planDigest(PLAN, null, 's'));
    expect(carryArchive(PLAN, archived)).toEqual(archived);
    const edited = [{ ...PLAN[0]!, sql: ['ALTER TABLE events DROP COLUMN other'] }, PLAN[1]!];
    expect(carryArchive(edited, archived)[0]!.archive).toBeUndefined();
    const long = archiveTableName('3f9a12bc', {
      step: 12,
      migration: 'm',
      statement: 0,
      kind: 'column',
      table: { schema: null, name: 'a'.repeat(60) },
      column: 'Weird Name',
    });
    expect(long).toHaveLength(63);
    expect(long).toMatch(/^3f9a12bc_12_a+$/);
  });
});
