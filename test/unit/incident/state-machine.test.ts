import { describe, expect, it } from 'vitest';
import { canApply, nextState } from '../../../src/domain/incident/model/state-machine.js';
import { isOpen, OPEN_STATES } from '../../../src/domain/incident/model/incident.js';

describe('incident state machine', () => {
  it('walks the happy path opened → snapshotting → awaiting_approval → rolling_back → resolved', () => {
    let s = nextState('opened', 'snapshot_started');
    expect(s).toBe('snapshotting');
    s = nextState(s, 'snapshot_ready');
    expect(s).toBe('awaiting_approval');
    s = nextState(s, 'rollback_started');
    expect(s).toBe('rolling_back');
    expect(nextState(s, 'rollback_succeeded')).toBe('resolved');
  });

  it('lets Reject cancel only before the rollback starts', () => {
    expect(nextState('awaiting_approval', 'rejected')).toBe('cancelled');
    expect(canApply('rolling_back', 'rejected')).toBe(false);
    expect(() => nextState('rolling_back', 'rejected')).toThrow(
      expect.objectContaining({ code: 'incident_invalid_transition' }),
    );
  });

  it('keeps ends final, except a failed incident that a human closes', () => {
    for (const e of ['snapshot_started', 'rollback_started', 'rejected', 'closed'] as const) {
      expect(canApply('resolved', e)).toBe(false);
      expect(canApply('cancelled', e)).toBe(false);
    }
    expect(nextState('rolling_back', 'failed')).toBe('failed');
    expect(nextState('failed', 'closed')).toBe('cancelled');
  });

  it('leaves a way out of every open state', () => {
    for (const state of OPEN_STATES) {
      // Either /migrate close ends it now, or it can fail (a stop request) and a failed incident closes.
      const end = canApply(state, 'closed')
        ? nextState(state, 'closed')
        : nextState(nextState(state, 'failed'), 'closed');
      expect(isOpen(end), `${state} has a way out`).toBe(false);
    }
    expect(nextState('failed', 'retried')).toBe('opened');
    expect(canApply('rolling_back', 'closed')).toBe(false); // a running rollback stops after its step, then fails
    for (const state of ['opened', 'snapshotting', 'awaiting_approval'] as const)
      expect(nextState(state, 'closed')).toBe('cancelled');
  });
});
