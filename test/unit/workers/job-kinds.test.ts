import { describe, expect, it } from 'vitest';
import { JOB } from '../../../src/adapters/bullmq/queues.js';
import { INCIDENT_JOB_KINDS, jobKind } from '../../../src/surfaces/workers/job-kinds.js';

describe('job kinds (one table: name, handler, whether a final failure fails the incident)', () => {
  it('names every job the incident and rollback queues carry, once', () => {
    const named = Object.values(JOB).filter((n) => n !== JOB.integrations && n !== JOB.deliver && n !== JOB.reconcile);
    expect(named.map((n) => jobKind(n)?.name)).toEqual(named);
    expect(new Set(INCIDENT_JOB_KINDS.map((k) => k.name)).size).toBe(INCIDENT_JOB_KINDS.length);
    expect(jobKind('no-such-job')).toBeUndefined();
  });

  it('only a prepare or rollback job that will not run again fails its incident', () => {
    const failing = Object.values(JOB).flatMap((n) => {
      const fails = jobKind(n)?.failsIncident;
      return fails ? [[n, fails.code]] : [];
    });
    expect(failing).toEqual([
      [JOB.prepare, 'prepare_failed'],
      [JOB.rollback, 'rollback_failed'],
    ]);
  });
});
