import { describe, expect, it } from 'vitest';
import { median, optionRows, type OptionFacts } from '../../../src/domain/rollback/options.js';
import type { PlanStep } from '../../../src/domain/rollback/plan.js';
import type { PlanRisk, RiskFinding } from '../../../src/domain/rollback/risk-model.js';

const drop = (name: string, count: number, archived: boolean): RiskFinding => ({
  class: 'data_loss',
  what: `drops table ${name}`,
  source: 'down',
  statement: 0,
  target: { schema: null, name, measure: 'rows' },
  figure: { count, estimated: false },
  ...(archived ? { archived: { table: `migrate_bot_archive.x_${name}`, estimatedBytes: 8192 } } : {}),
});
const plan: PlanStep[] = [
  { migration: '007.ts', order: 7, transactional: true, sql: ['DROP TABLE a', 'DROP TABLE b'] },
];
const facts: OptionFacts = {
  before: '2026-12-05T03:05:00.000Z',
  writes: {
    snapshotId: 'snap-1',
    takenAt: '2026-12-05T03:00:00.000Z',
    tables: [
      { table: 'public.a', rows: 1200, how: 'timestamps' },
      { table: 'public.b', rows: 40, how: 'timestamps' },
    ],
    database: 5000,
  },
  restores: { medianMs: 720_000, count: 3 },
  measuredAt: '2026-12-05T03:10:00.000Z',
};

describe('the three ways out', () => {
  it('counts what the downs lose beyond the archive, and what a restore loses since the snapshot', () => {
    const risk: PlanRisk = { steps: [{ migration: '007.ts', findings: [drop('a', 500, true), drop('b', 40, false)] }] };
    expect(optionRows(risk, plan, facts, null, '5s')).toEqual([
      {
        option: 'roll back',
        lost: '~40 rows/values (500 archived)',
        time: '~1 min (estimate)',
        locks: 'ACCESS EXCLUSIVE, 2 tables',
      },
      {
        option: 'restore snapshot',
        lost: '1,240 rows since 03:00 UTC',
        time: '~12 min (3 restores)',
        locks: 'none; cut-over needed',
      },
      { option: 'fix forward', lost: 'none', time: 'a new migration', locks: 'its own' },
    ]);
  });

  it('takes the rollback time from a rehearsal, marks counters as estimates, and says when nothing was sampled or restored', () => {
    const risk: PlanRisk = { steps: [{ migration: '007.ts', findings: [drop('a', 500, true)] }] };
    const estimated = {
      ...facts,
      writes: { ...facts.writes!, tables: [{ table: 'public.a', rows: 7, how: 'statistics' as const }] },
    };
    const [back, restore] = optionRows(risk, plan, estimated, 2_000, '5s');
    expect(back).toMatchObject({ lost: 'none (500 archived)', time: '~3 s (rehearsal)' });
    expect(restore!.lost).toBe('~7 rows since 03:00 UTC');
    const [, unknown] = optionRows(risk, plan, { ...facts, writes: null, restores: null }, null, '5s');
    expect(unknown).toMatchObject({ lost: 'all writes since (no snapshot sampled)', time: 'unknown (no restore yet)' });
  });

  it('takes the median of the restore times', () => {
    expect(median([])).toBeNull();
    expect(median([9, 1, 5])).toBe(5);
    expect(median([4, 1, 3, 2])).toBe(2.5);
  });
});
