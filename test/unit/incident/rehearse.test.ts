import { describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../../src/config/services.js';
import { rehearsalRefusal } from '../../../src/domain/incident/use-cases/rehearse.js';
import { saying } from '../../support/words.js';

const service = (snapshot: Record<string, unknown>, allow = false) =>
  ({
    name: 'ticket-service',
    snapshot,
    rehearsal: { allow_cloud_restore: allow, database_url: 'postgres://x/y' },
  }) as unknown as ServiceConfig;

describe('rehearsals (runbook 003 scenario 3)', () => {
  it('pg_dump always rehearses; RDS and Aurora only with allow_cloud_restore; waived snapshots never', () => {
    expect(rehearsalRefusal(service({ provider: 'pg_dump' }))).toBeNull();
    expect(rehearsalRefusal(service({ provider: 'rds', instance: 'x' }))).toEqual(
      saying(/new RDS instance, which costs time and money; set `rehearsal.allow_cloud_restore: true`/),
    );
    expect(rehearsalRefusal(service({ provider: 'rds-cluster', cluster: 'x' }))).toEqual(saying(/new Aurora cluster/));
    expect(rehearsalRefusal(service({ provider: 'rds', instance: 'x' }, true))).toBeNull();
    expect(rehearsalRefusal(service({ provider: 'none', waiver_reason: 'dev database' }))).toEqual(
      saying(/takes no snapshots/),
    );
  });
});
