import { describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../../src/config/services.js';
import { rehearsalRefusal, rehearsalText } from '../../../src/domain/incident/use-cases/rehearse.js';

const service = (snapshot: Record<string, unknown>, allow = false) =>
  ({
    name: 'ticket-service',
    snapshot,
    rehearsal: { allow_cloud_restore: allow, database_url: 'postgres://x/y' },
  }) as unknown as ServiceConfig;

describe('rehearsals (runbook 003 scenario 3)', () => {
  it('pg_dump always rehearses; RDS and Aurora only with allow_cloud_restore; waived snapshots never', () => {
    expect(rehearsalRefusal(service({ provider: 'pg_dump' }))).toBeNull();
    expect(rehearsalRefusal(service({ provider: 'rds', instance: 'x' }))).toMatch(
      /new RDS instance, which costs time and money; set `rehearsal.allow_cloud_restore: true`/,
    );
    expect(rehearsalRefusal(service({ provider: 'rds-cluster', cluster: 'x' }))).toMatch(/new Aurora cluster/);
    expect(rehearsalRefusal(service({ provider: 'rds', instance: 'x' }, true))).toBeNull();
    expect(rehearsalRefusal(service({ provider: 'none', waiver_reason: 'dev database' }))).toMatch(
      /takes no snapshots/,
    );
  });

  it('posts each step with its duration or error', () => {
    const text = rehearsalText({
      passed: false,
      digest: null,
      at: '2026-12-01T10:00:00Z',
      elapsedMs: 4200,
      steps: [
        { migration: '008_x.ts', status: 'done', durationMs: 12 },
        { migration: '007_y.ts', status: 'failed', error: 'check constraint "c" is violated' },
        { migration: '006_z.ts', status: 'not_run' },
      ],
    });
    expect(text.split('\n')).toEqual([
      ':test_tube: *Rehearsal failed* on a scratch copy: the plan would stop in production too.',
      ':white_check_mark: `008_x.ts` — 12 ms',
      ':x: `007_y.ts` — check constraint "c" is violated',
      ':white_circle: `006_z.ts`',
      'The copy was dropped; production was not touched.',
    ]);
  });
});
