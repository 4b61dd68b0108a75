/**
 * closeIncident and postHumanUpdate against in-memory ports: each state's way out of an open
 * incident (runbook 003 "Partial down failure": people take over), and who may do it.
 */
import { describe, expect, it } from 'vitest';
import type { IncidentState } from '../../../../src/domain/incident/model/incident.js';
import { closeIncident } from '../../../../src/domain/incident/use-cases/close-incident.js';
import { postHumanUpdate } from '../../../../src/domain/incident/use-cases/human-update.js';
import { isAppError } from '../../../../src/shared/errors.js';
import { fakeWorld } from '../../../support/fakes/fake-deps.js';

function incidentIn(state: IncidentState, announce = false) {
  const world = fakeWorld(announce ? ({ announce_channel: 'C0ANNOUNCE' } as never) : {});
  const incident = world.repo.seed(
    { service: 'ticket-service', migration: '007_x.ts', requestedBy: 'U0REQ001', plan: [] },
    { state },
  );
  return { ...world, incident };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (err: unknown) => (isAppError(err) ? err.code : String(err)),
  );

describe('closeIncident', () => {
  it('cancels an incident awaiting approval: nothing ran, the stakeholders hear "cancelled"', async () => {
    const { deps, repo, notifier, incident } = incidentIn('awaiting_approval', true);
    const outcome = await closeIncident(deps, 'ticket-service', 'U0REQ001', 'opened by mistake');
    expect(outcome.kind).toBe('closed');
    expect((await repo.get(incident.id))?.state).toBe('cancelled');
    expect(notifier.announced).toEqual([{ kind: 'cancelled' }]);
  });

  it('asks a running rollback to stop after its step, and leaves it running', async () => {
    const { deps, repo, notifier, jobs, incident } = incidentIn('rolling_back');
    jobs.rollbackState = 'active';
    const outcome = await closeIncident(deps, 'ticket-service', 'U0SRE001', 'wrong target');
    expect(outcome.kind).toBe('stopping');
    expect((await repo.get(incident.id))?.state).toBe('rolling_back');
    expect(notifier.notices).toEqual([
      { kind: 'stop_requested', by: 'U0SRE001', reason: 'wrong target', force: false },
    ]);
    expect(await repo.lastEvent(incident.id, ['stop_requested'])).toMatchObject({ data: { by: 'U0SRE001' } });
  });

  it('--force asks the running step to be cancelled now, for approvers only', async () => {
    const { deps, repo, notifier, jobs, incident } = incidentIn('rolling_back');
    jobs.rollbackState = 'active';
    // The requester may close, but not force: a cancelled step may leave a non-transactional down half done.
    expect(await codeOf(closeIncident(deps, 'ticket-service', 'U0REQ001', 'hung', { force: true }))).toBe(
      'incident_close_refused',
    );
    expect(await repo.lastEvent(incident.id, ['stop_requested'])).toBeNull();
    const outcome = await closeIncident(deps, 'ticket-service', 'U0SRE001', 'hung', { force: true });
    expect(outcome).toMatchObject({ kind: 'stopping', force: true });
    expect(notifier.notices).toEqual([{ kind: 'stop_requested', by: 'U0SRE001', reason: 'hung', force: true }]);
    expect(await repo.lastEvent(incident.id, ['stop_requested'])).toMatchObject({ data: { force: true } });
  });

  it('acknowledges failed verification checks: resolved_with_warnings becomes resolved', async () => {
    const { deps, repo, notifier, incident } = incidentIn('resolved_with_warnings');
    const outcome = await closeIncident(deps, 'ticket-service', 'U0OWN001');
    expect(outcome.kind).toBe('closed');
    expect((await repo.get(incident.id))?.state).toBe('resolved');
    expect(notifier.notices).toEqual([{ kind: 'warnings_acknowledged', by: 'U0OWN001', reason: null }]);
  });

  it('closes a failed incident so the service can have a new one; stakeholders hear "closed"', async () => {
    const { deps, repo, notifier, incident } = incidentIn('failed', true);
    await closeIncident(deps, 'ticket-service', 'U0REQ001', 'handled by hand');
    expect((await repo.get(incident.id))?.state).not.toBe('failed');
    expect(await repo.findOpenByService('ticket-service')).toBeNull();
    expect(notifier.announced).toEqual([{ kind: 'closed' }]);
  });

  it('refuses anyone but the requester or an approver, and a service with no open incident', async () => {
    const { deps, repo, incident } = incidentIn('awaiting_approval');
    expect(await codeOf(closeIncident(deps, 'ticket-service', 'U0RAND01'))).toBe('incident_close_refused');
    expect((await repo.get(incident.id))?.state).toBe('awaiting_approval');
    const empty = fakeWorld();
    expect(await codeOf(closeIncident(empty.deps, 'ticket-service', 'U0REQ001'))).toBe('incident_not_found');
  });
});

describe('postHumanUpdate', () => {
  it('posts the update as typed in the channel and to the stakeholders, and logs it', async () => {
    const { deps, repo, notifier, incident } = incidentIn('awaiting_approval', true);
    await postHumanUpdate(deps, 'ticket-service', 'U0REQ001', '<!channel> checkout errors since 03:05');
    const update = { kind: 'human_update', by: 'U0REQ001', text: '<!channel> checkout errors since 03:05' };
    expect(notifier.notices).toEqual([update]);
    expect(notifier.announced).toEqual([update]);
    expect(await repo.lastEvent(incident.id, ['human_update'])).toMatchObject({
      data: { text: '<!channel> checkout errors since 03:05' },
    });
  });

  it('refuses someone outside the incident', async () => {
    const { deps, notifier } = incidentIn('awaiting_approval');
    expect(await codeOf(postHumanUpdate(deps, 'ticket-service', 'U0RAND01', 'hello'))).toBe('incident_close_refused');
    expect(notifier.calls).toEqual([]);
  });
});
