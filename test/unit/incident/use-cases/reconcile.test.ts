/**
 * The reconciler's answer to a `rolling_back` incident whose job ended with nobody holding the
 * database's rollback lock, against in-memory ports and a tracking table given as a list: every
 * down committed → the job is queued again to verify and resolve; some still applied → failed
 * with what the tracking table shows.
 */
import { describe, expect, it } from 'vitest';
import type { MigrationTool } from '../../../../src/domain/rollback/migration-tool.js';
import { reconcileIncidents } from '../../../../src/domain/incident/use-cases/reconcile.js';
import { fakeWorld } from '../../../support/fakes/fake-deps.js';

const PLAN = [
  { migration: '007_x.ts', order: 7, transactional: true, sql: [] },
  { migration: '006_y.ts', order: 6, transactional: true, sql: [] },
];

/** A tracking table listing `applied`, whose rollback lock nobody holds. */
function trackingTable(applied: string[]): MigrationTool {
  return {
    listApplied: async () => applied.map((name, i) => ({ name, order: i + 1, appliedAt: null })),
    rollbackLockHolder: async () => null,
    close: async () => undefined,
  } as unknown as MigrationTool;
}

function rollingBack(applied: string[]) {
  const world = fakeWorld();
  world.deps.migrationTool = () => trackingTable(applied);
  world.jobs.rollbackState = 'failed';
  const incident = world.repo.seed(
    { service: 'ticket-service', migration: '006_y.ts', requestedBy: 'U0REQ001', plan: PLAN },
    { state: 'rolling_back' },
  );
  world.jobs.statusUpdates.add(incident.id);
  return { ...world, incident };
}

describe('reconciler: a rolling_back incident whose job ended', () => {
  it('queues the rollback again when every down committed, and says so', async () => {
    const { deps, repo, jobs, notifier, incident } = rollingBack(['001_a.ts']);
    const report = await reconcileIncidents(deps);
    expect(report.resumedRollback).toEqual([incident.id]);
    expect(report.failed).toEqual([]);
    expect(jobs.of('resumeRollback')).toEqual([incident.id]);
    expect(notifier.notices).toEqual([{ kind: 'rollback_resumed' }]);
    expect((await repo.get(incident.id))?.state).toBe('rolling_back');
  });

  it('fails it with the steps the tracking table shows when a down did not commit', async () => {
    const { deps, repo, jobs, incident } = rollingBack(['001_a.ts', '006_y.ts']);
    const report = await reconcileIncidents(deps);
    expect(report.failed).toEqual([incident.id]);
    expect(jobs.of('resumeRollback')).toEqual([]);
    const failed = await repo.get(incident.id);
    expect(failed?.failure?.code).toBe('rollback_job_lost');
    expect(failed?.steps.map((s) => `${s.migration}:${s.status}`)).toEqual(['007_x.ts:done', '006_y.ts:not_run']);
  });
});
