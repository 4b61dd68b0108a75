import { describe, expect, it } from 'vitest';
import { DurationSchema } from '../../../src/config/duration.js';
import type { ServiceConfig } from '../../../src/config/services.js';
import { nextActions, statusMessage, statusOverview } from '../../../src/adapters/slack/render/status-blocks.js';
import { statusUpdateMessage } from '../../../src/adapters/slack/render/incident-messages.js';
import { incidentFixture } from '../../support/incident-fixture.js';

const service = {
  name: 'ticket-service',
  approvals: { required: 2, approvers: ['U0SRE001', 'U0OWN001'] },
  migrations: { tool: 'knex', table: 'knex_migrations' },
  lock_timeout: DurationSchema.parse('5s'),
} as unknown as ServiceConfig;

const incident = incidentFixture;

describe('/migrate status', () => {
  it('says what a person can do next in every open state', () => {
    const approval = (userId: string) => ({ incidentId: 'x', userId, createdAt: new Date(), planDigest: null });
    expect(nextActions({ service, incident: incident('awaiting_approval'), required: 2, approvals: [] })).toMatch(
      /press Approve on the plan card in <#C0INC0001>; Reject or `\/migrate close --service ticket-service --reason "…"` cancels it/,
    );
    expect(
      nextActions({
        service,
        incident: incident('snapshotting'),
        required: 2,
        approvals: [approval('U0SRE001'), approval('U0OWN001')],
      }),
    ).toMatch(/^Approved; the rollback starts once the snapshot is available/);
    expect(nextActions({ service, incident: incident('rolling_back'), required: 2, approvals: [] })).toMatch(
      /stops it after the step in progress/,
    );
    expect(nextActions({ service, incident: incident('failed'), required: 2, approvals: [] })).toMatch(
      /^`\/migrate retry --service ticket-service` re-plans/,
    );
    expect(nextActions({ service, incident: null, required: 2, approvals: [] })).toMatch(/opens one/);
  });

  it('shows state, round, jobs, failure and next step of an incident, and lists every open incident across services', () => {
    const failed = incident('failed', {
      attempt: 2,
      failure: { code: 'rollback_tool_locked', message: 'The knex migration lock is held.' },
    });
    const view = {
      service,
      incident: failed,
      approvals: [],
      required: 2,
      jobs: { prepare: 'completed', rollback: 'failed' },
      head: [],
      now: new Date('2026-11-21T03:30:00Z'),
    };
    const text = JSON.stringify(statusMessage(view));
    expect(text).toContain('*failed* (open 18m00s');
    expect(text).toContain('(round 2)');
    expect(text).toContain('Jobs: prepare completed, rollback failed');
    expect(text).toContain('Failure: The knex migration lock is held.');
    expect(text).toContain('Next: `/migrate retry');
    const other = {
      ...view,
      service: { ...service, name: 'event-service' } as ServiceConfig,
      incident: incident('rolling_back', { service: 'event-service' }),
    };
    const overview = statusOverview([view, other]);
    expect(overview.blocks).toHaveLength(4);
    expect(overview.text).toBe('ticket-service: failed; event-service: rolling_back');
    expect(statusOverview([]).text).toBe('No open incident.');
  });

  it('a status update while a down runs says which step and for how long', () => {
    const running = incident('rolling_back', {
      plan: [
        { migration: '007_add_security_tables.ts', order: 7, transactional: true, sql: [] },
        { migration: '006_add_ticket_state_machine.ts', order: 6, transactional: true, sql: [] },
      ],
      steps: [
        { migration: '007_add_security_tables.ts', status: 'done', durationMs: 40 },
        { migration: '006_add_ticket_state_machine.ts', status: 'running', startedAt: '2026-11-21T03:20:00Z' },
      ],
    });
    const message = statusUpdateMessage(running, { approvals: [], required: 2 }, 15, new Date('2026-11-21T03:32:00Z'));
    expect(JSON.stringify(message)).toContain(
      'Down migrations: 1 of 2 done; step 2/2 (`006_add_ticket_state_machine.ts`) running for 12m00s',
    );
  });
});
