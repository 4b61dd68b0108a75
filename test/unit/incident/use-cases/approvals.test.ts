/**
 * approve / reject against in-memory ports: every branch of the approval flow (runbook 003
 * "Mandatory pre-action checklist": two approvals, SRE + migration owner) without a database.
 */
import { describe, expect, it } from 'vitest';
import { approve, reject } from '../../../../src/domain/incident/use-cases/approvals.js';
import type { PlanStep } from '../../../../src/domain/rollback/plan.js';
import { fakeWorld } from '../../../support/fakes/fake-deps.js';

const STEP: PlanStep = {
  migration: '007_add_index.ts',
  order: 7,
  transactional: true,
  sql: ['CREATE INDEX idx_x ON tickets (id)'],
} as PlanStep;

function awaitingApproval(world = fakeWorld()) {
  const incident = world.repo.seed(
    { service: 'ticket-service', migration: STEP.migration, requestedBy: 'U0REQ001', plan: [STEP] },
    { state: 'awaiting_approval' },
  );
  return { ...world, incident };
}

describe('approve', () => {
  it('refuses someone who is not an approver, and records nothing', async () => {
    const { deps, repo, notifier, jobs, incident } = awaitingApproval();
    const outcome = await approve(deps, incident.id, 'U0RAND01');
    expect(outcome.kind).toBe('refused');
    expect(await repo.listApprovals(incident.id)).toEqual([]);
    expect(notifier.calls).toEqual([]);
    expect(jobs.queued).toEqual([]);
  });

  it('refuses the requester approving their own rollback', async () => {
    const world = fakeWorld({ approvals: { required: 2, destructive: 2, approvers: ['U0REQ001', 'U0SRE001'] } });
    const { deps, incident } = awaitingApproval(world);
    const outcome = await approve(deps, incident.id, 'U0REQ001');
    expect(outcome).toMatchObject({ kind: 'refused' });
  });

  it('records the first of two approvals: the card is redrawn, the channel told "1 of 2", nothing queued', async () => {
    const { deps, notifier, jobs, incident } = awaitingApproval();
    const outcome = await approve(deps, incident.id, 'U0SRE001');
    expect(outcome).toMatchObject({ kind: 'recorded', complete: false, required: 2 });
    expect(notifier.methods).toEqual(['updatePlanCard', 'progress']);
    expect(notifier.notices).toEqual([
      { kind: 'approval_given', by: 'U0SRE001', count: 1, required: 2, confirmedAs: null },
    ]);
    expect(jobs.of('rollback')).toEqual([]);
  });

  it('queues the rollback with the last approval, and a repeated press changes nothing', async () => {
    const { deps, notifier, jobs, incident } = awaitingApproval();
    await approve(deps, incident.id, 'U0SRE001');
    const done = await approve(deps, incident.id, 'U0OWN001');
    expect(done).toMatchObject({ kind: 'recorded', complete: true, queued: true });
    expect(jobs.of('rollback')).toEqual([incident.id]);
    expect(notifier.notices.at(-1)).toEqual({
      kind: 'approvals_complete',
      approvers: ['U0SRE001', 'U0OWN001'],
      noun: 'rollback',
      queued: true,
      waitsForSnapshot: false,
      confirmedAs: null,
    });
    const calls = notifier.calls.length;
    expect(await approve(deps, incident.id, 'U0OWN001')).toMatchObject({ kind: 'duplicate' });
    expect(notifier.calls).toHaveLength(calls);
    expect(jobs.of('rollback')).toEqual([incident.id]);
  });

  it('keeps the approval when the job queue is unreachable and says the bot queues it later', async () => {
    const { deps, repo, notifier, jobs, incident } = awaitingApproval();
    await approve(deps, incident.id, 'U0SRE001');
    jobs.unreachable = true;
    const done = await approve(deps, incident.id, 'U0OWN001');
    expect(done).toMatchObject({ kind: 'recorded', complete: true, queued: false });
    expect((await repo.listApprovals(incident.id)).map((a) => a.userId)).toEqual(['U0SRE001', 'U0OWN001']);
    expect(notifier.notices.at(-1)).toMatchObject({ kind: 'approvals_complete', queued: false });
  });

  it('an approval before the snapshot is available says the rollback waits for it', async () => {
    const world = fakeWorld();
    const incident = world.repo.seed(
      { service: 'ticket-service', migration: STEP.migration, requestedBy: 'U0REQ001', plan: [STEP] },
      { state: 'snapshotting' },
    );
    await approve(world.deps, incident.id, 'U0SRE001');
    await approve(world.deps, incident.id, 'U0OWN001');
    expect(world.notifier.notices.at(-1)).toMatchObject({ kind: 'approvals_complete', waitsForSnapshot: true });
  });

  it('counts a member of an approver user group, asked at the press', async () => {
    const world = fakeWorld({ approvals: { required: 2, destructive: 2, approvers: ['S0DBAS001', 'U0SRE001'] } });
    world.groups.set('S0DBAS001', ['U0DBA0001']);
    const { deps, incident } = awaitingApproval(world);
    expect(await approve(deps, incident.id, 'U0DBA0001')).toMatchObject({ kind: 'recorded', complete: false });
  });

  it('asks a destructive plan to be confirmed by typing the service name, and refuses a wrong name', async () => {
    const { deps, repo, incident } = awaitingApproval();
    await repo.supersedePlan(
      incident.id,
      [{ ...STEP, sql: ['DROP TABLE tickets'] }],
      { digest: 'd2', head: STEP.migration, snapshotId: null } as never,
      {},
    );
    expect(await approve(deps, incident.id, 'U0SRE001')).toMatchObject({ kind: 'confirm', service: 'ticket-service' });
    expect(await approve(deps, incident.id, 'U0SRE001', { confirmedAs: 'other-service' })).toMatchObject({
      kind: 'refused',
    });
    expect(await repo.listApprovals(incident.id)).toEqual([]);
    expect(await approve(deps, incident.id, 'U0SRE001', { confirmedAs: 'ticket-service' })).toMatchObject({
      kind: 'recorded',
    });
  });
});

describe('reject', () => {
  it('cancels the incident, stops status updates and tells the stakeholders channel', async () => {
    const world = fakeWorld({ announce_channel: 'C0ANNOUNCE' } as never);
    const { deps, repo, notifier, jobs, incident } = awaitingApproval(world);
    jobs.statusUpdates.add(incident.id);
    await reject(deps, incident.id, 'U0SRE001');
    expect((await repo.get(incident.id))?.state).toBe('cancelled');
    expect(jobs.statusUpdates.has(incident.id)).toBe(false);
    expect(notifier.announced).toEqual([{ kind: 'rejected' }]);
  });

  it('refuses someone who is not an approver', async () => {
    const { deps, repo, incident } = awaitingApproval();
    const outcome = await reject(deps, incident.id, 'U0RAND01');
    expect(outcome.kind).toBe('refused');
    expect((await repo.get(incident.id))?.state).toBe('awaiting_approval');
  });
});
