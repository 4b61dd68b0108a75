/**
 * Use cases that refuse, queue or end an incident, against in-memory ports: rehearsal requests,
 * *Restore instead*, deleting a failed restore's leftover, retry, the one failure path, and
 * service resolution. Each branch says why (words a person reads) and changes nothing when it
 * refuses.
 */
import { describe, expect, it } from 'vitest';
import type { Incident, IncidentState } from '../../../../src/domain/incident/model/incident.js';
import { approveDiscard } from '../../../../src/domain/incident/use-cases/discard-leftover.js';
import { failIncident } from '../../../../src/domain/incident/use-cases/fail-incident.js';
import { requestRehearsal } from '../../../../src/domain/incident/use-cases/rehearse.js';
import { resolveService } from '../../../../src/domain/incident/use-cases/resolve-service.js';
import { restoreInstead } from '../../../../src/domain/incident/use-cases/restore-instead.js';
import { retryIncident } from '../../../../src/domain/incident/use-cases/retry-incident.js';
import type { SnapshotRecord } from '../../../../src/domain/snapshots/snapshot-provider.js';
import { AppError } from '../../../../src/shared/errors.js';
import { words, wordsPlain, type WordsLike } from '../../../../src/shared/words.js';
import { fakeWorld } from '../../../support/fakes/fake-deps.js';
import { userText } from '../../../support/words.js';

const REQUESTER = 'U0REQ001';
const APPROVER = 'U0SRE001';
const OTHER_APPROVER = 'U0OWN001';
const OUTSIDER = 'U0NOBODY';
const SNAPSHOT: SnapshotRecord = {
  id: 'pre-rollback-ticket-service-20261204-031000',
  provider: 'pg_dump',
  status: 'available',
} as SnapshotRecord;

function world(state: IncidentState, patch: Partial<Incident> = {}) {
  const w = fakeWorld();
  const incident = w.repo.seed(
    { service: 'ticket-service', migration: '007_x.ts', requestedBy: REQUESTER, plan: [] },
    { state, snapshot: SNAPSHOT, ...patch },
  );
  return { ...w, incident };
}

/** What a promise threw: its AppError code and user message as plain text. */
async function refusal(p: Promise<unknown>): Promise<{ code: string; text: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, text: userText(err) ?? '' };
    throw err;
  }
  throw new Error('expected a refusal, but it went through');
}

const plain = (w: WordsLike | null | undefined) => (w ? wordsPlain(w) : '');

/** The refusal's words as plain text; fails the test when the outcome is not a refusal. */
function refusedText(outcome: { kind: string; message?: WordsLike }): string {
  expect(outcome.kind).toBe('refused');
  return plain(outcome.message);
}

describe('requestRehearsal', () => {
  it('queues the rehearsal for the requester, says where results follow, and tells the channel', async () => {
    const { deps, jobs, notifier, incident, repo, service } = world('awaiting_approval');
    const answer = await requestRehearsal(deps, incident, REQUESTER);
    expect(plain(answer)).toBe('Rehearsal queued; results follow in #C0FAKE0001.');
    expect(jobs.of('rehearse')).toEqual([incident.id]);
    expect(notifier.notices).toEqual([
      { kind: 'rehearsal_started', by: REQUESTER, snapshotId: SNAPSHOT.id, lockTimeout: service.lock_timeout.text },
    ]);
    expect(await repo.lastEvent(incident.id, ['rehearsal_requested'])).toMatchObject({ data: { by: REQUESTER } });
  });

  it('refuses someone who is neither requester nor approver, and queues nothing', async () => {
    const { deps, jobs, incident } = world('awaiting_approval');
    expect(await refusal(requestRehearsal(deps, incident, OUTSIDER))).toEqual({
      code: 'rehearsal_refused',
      text: 'Only the requester or an approver for ticket-service can start a rehearsal. Nothing changed.',
    });
    expect(jobs.queued).toEqual([]);
  });

  it('refuses before the snapshot is saved, after the plan was decided, and while one runs', async () => {
    const early = world('snapshotting', { snapshot: null });
    expect((await refusal(requestRehearsal(early.deps, early.incident, REQUESTER))).text).toMatch(
      /snapshot is not available yet/,
    );
    const decided = world('rolling_back');
    expect((await refusal(requestRehearsal(decided.deps, decided.incident, REQUESTER))).text).toMatch(
      /The incident is rolling back; only a plan awaiting approval is rehearsed/,
    );
    const busy = world('awaiting_approval');
    await requestRehearsal(busy.deps, busy.incident, REQUESTER);
    expect((await refusal(requestRehearsal(busy.deps, busy.incident, APPROVER))).text).toBe(
      `A rehearsal is already running (asked by @${REQUESTER}). Nothing changed.`,
    );
    expect(busy.jobs.of('rehearse')).toHaveLength(1);
  });

  it('records the attempt as done and rethrows when the queue does not answer', async () => {
    const { deps, jobs, incident, repo } = world('awaiting_approval');
    jobs.unreachable = true;
    expect((await refusal(requestRehearsal(deps, incident, REQUESTER))).code).toBe('job_queue_unreachable');
    expect(await repo.lastEvent(incident.id, ['rehearsal_done'])).toMatchObject({ data: { passed: false } });
  });
});

describe('restoreInstead', () => {
  it('is refused once the plan was decided, for outsiders, and before the snapshot is available', async () => {
    const decided = world('rolling_back');
    expect(refusedText(await restoreInstead(decided.deps, decided.incident.id, REQUESTER))).toMatch(
      /rolling back; it can no longer be turned into a restore/,
    );
    const open = world('awaiting_approval');
    const outsider = await restoreInstead(open.deps, open.incident.id, OUTSIDER);
    expect(refusedText(outsider)).toBe(
      'Only the requester or an approver for ticket-service can choose a restore instead.',
    );
    const early = world('snapshotting', { snapshot: null });
    const notYet = await restoreInstead(early.deps, early.incident.id, REQUESTER);
    expect(refusedText(notYet)).toMatch(/Press Restore instead again once/);
    for (const w of [decided, open, early]) expect(w.repo.incidents.size).toBe(1);
  });

  it('says when the incident no longer exists', async () => {
    const { deps } = world('awaiting_approval');
    expect((await refusal(restoreInstead(deps, 'no-such-incident', REQUESTER))).code).toBe('incident_not_found');
  });
});

describe('approveDiscard (a failed restore left a half-made copy)', () => {
  const failedRestore = () =>
    world('failed', {
      kind: 'restore',
      failure: { code: 'restore_failed', message: words`The restore failed.`, leftover: 'tickets-recovery-1' },
    });

  it('needs the usual approvals from people other than the requester, then queues the deletion once', async () => {
    const { deps, jobs, incident } = failedRestore();
    expect(refusedText(await approveDiscard(deps, incident.id, REQUESTER))).toMatch(/You requested this restore/);
    expect(refusedText(await approveDiscard(deps, incident.id, OUTSIDER))).toBe(
      'You are not an approver for ticket-service.',
    );
    expect(await approveDiscard(deps, incident.id, APPROVER)).toMatchObject({ kind: 'recorded', approvals: 1 });
    expect(await approveDiscard(deps, incident.id, APPROVER)).toMatchObject({ kind: 'duplicate', approvals: 1 });
    expect(jobs.of('discard')).toEqual([]);
    expect(await approveDiscard(deps, incident.id, OTHER_APPROVER)).toMatchObject({
      kind: 'recorded',
      approvals: 2,
      queued: true,
    });
    expect(jobs.of('discard')).toEqual([incident.id]);
  });

  it('offers nothing for a rollback or an incident with no leftover', async () => {
    const { deps, incident } = world('failed', { failure: { code: 'x', message: 'failed' } });
    expect(refusedText(await approveDiscard(deps, incident.id, APPROVER))).toBe(
      'This incident left nothing behind to delete.',
    );
  });
});

describe('retryIncident', () => {
  it('refuses an incident that has not failed, naming its channel and state', async () => {
    const { deps, repo, incident } = world('awaiting_approval');
    expect(await refusal(retryIncident(deps, 'ticket-service', REQUESTER))).toEqual({
      code: 'incident_retry_refused',
      text: 'The incident in #C0FAKE0001 is awaiting approval, not failed; there is nothing to retry.',
    });
    expect((await repo.get(incident.id))?.attempt).toBe(1);
  });
});

describe('failIncident: the one way to failed', () => {
  it('records the failure, tells the channel and the stakeholders once; a second call changes nothing', async () => {
    const w = fakeWorld({ announce_channel: 'C0ANNOUNCE' } as never);
    const incident = w.repo.seed(
      { service: 'ticket-service', migration: '007_x.ts', requestedBy: REQUESTER, plan: [] },
      { state: 'rolling_back' },
    );
    const failure = { code: 'rollback_lock_timeout', message: words`It timed out.` };
    const failed = await failIncident(w.deps, incident.id, failure);
    expect(failed?.state).toBe('failed');
    expect(failed?.failure).toEqual(failure);
    expect(w.notifier.methods.filter((m) => m === 'failure')).toHaveLength(1);
    expect(w.notifier.announced).toEqual([{ kind: 'failed', message: failure.message }]);
    expect(await failIncident(w.deps, incident.id, failure)).toBeNull();
    expect(w.notifier.methods.filter((m) => m === 'failure')).toHaveLength(1);
  });

  it('leaves an ended incident as it is', async () => {
    const { deps, notifier, incident } = world('resolved');
    expect(await failIncident(deps, incident.id, { code: 'late', message: 'too late' })).toBeNull();
    expect(notifier.calls).toEqual([]);
  });
});

describe('resolveService', () => {
  it('names the known services when the name is unknown, and defaults to the only one', () => {
    const { deps } = fakeWorld();
    expect(resolveService(deps.services, undefined).name).toBe('ticket-service');
    expect(() => resolveService(deps.services, 'nope')).toThrow(AppError);
    try {
      resolveService(deps.services, 'nope');
    } catch (err) {
      expect(userText(err as AppError)).toBe(
        'There is no service `nope` in services.yaml. Known services: `ticket-service`.',
      );
    }
  });
});
