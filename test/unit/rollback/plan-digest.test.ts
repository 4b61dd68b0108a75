import { describe, expect, it } from 'vitest';
import { planBasis, planChanges, planDigest, trackingHead } from '../../../src/domain/rollback/plan-digest.js';
import type { PlanStep } from '../../../src/domain/rollback/plan.js';

const step = (over: Partial<PlanStep> = {}): PlanStep => ({
  migration: '007_add_security_tables.ts',
  order: 7,
  transactional: true,
  sql: ['DROP TABLE IF EXISTS failed_login_attempts'],
  checksum: 'a'.repeat(64),
  ...over,
});
const HEAD = { name: '007_add_security_tables.ts', order: 7 };

describe('plan digest (approvals bound to what was approved)', () => {
  it('is stable for the same plan and changes with every input', () => {
    const base = planDigest([step()], HEAD, 'pre-rollback-ticket-service-20261121-031207');
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    expect(planDigest([step()], HEAD, 'pre-rollback-ticket-service-20261121-031207')).toBe(base);
    const variants = [
      planDigest(
        [step({ sql: ['DROP TABLE failed_login_attempts'] })],
        HEAD,
        'pre-rollback-ticket-service-20261121-031207',
      ),
      planDigest([step({ checksum: 'b'.repeat(64) })], HEAD, 'pre-rollback-ticket-service-20261121-031207'),
      planDigest([step()], { name: '008_x.ts', order: 8 }, 'pre-rollback-ticket-service-20261121-031207'),
      planDigest([step()], HEAD, 'pre-rollback-ticket-service-20261121-031207-r2'),
      planDigest([step({ transactional: false })], HEAD, 'pre-rollback-ticket-service-20261121-031207'),
      planDigest(
        [step(), step({ migration: '008_x.ts', order: 8 })],
        HEAD,
        'pre-rollback-ticket-service-20261121-031207',
      ),
    ];
    expect(new Set([base, ...variants]).size).toBe(variants.length + 1);
  });

  it('says what changed, in words, and nothing when nothing did', () => {
    const before = { plan: [step()], basis: planBasis([step()], HEAD, 's1') };
    expect(planChanges(before, before)).toEqual([]);
    const edited = [
      step({ checksum: 'b'.repeat(64), sql: ['DROP TABLE x'] }),
      step({ migration: '008_x.ts', order: 8 }),
    ];
    expect(
      planChanges(before, { plan: edited, basis: planBasis(edited, { name: '008_x.ts', order: 8 }, 's1') }),
    ).toEqual([
      '`008_x.ts` is now part of the plan',
      'the file of `007_add_security_tables.ts` was edited',
      "the tracking table's newest row moved from `007_add_security_tables.ts` to `008_x.ts`",
    ]);
    expect(planChanges(before, { plan: [], basis: planBasis([], null, 's1') })).toEqual([
      '`007_add_security_tables.ts` is no longer applied, so it left the plan',
      "the tracking table's newest row moved from `007_add_security_tables.ts` to (empty)",
    ]);
  });

  it('the tracking head is the highest order, whatever the row order', () => {
    expect(
      trackingHead([
        { name: 'b', order: 2, appliedAt: null },
        { name: 'c', order: 3, appliedAt: null },
        { name: 'a', order: 1, appliedAt: null },
      ]),
    ).toEqual({ name: 'c', order: 3 });
    expect(trackingHead([])).toBeNull();
  });
});
