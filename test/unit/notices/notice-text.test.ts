/**
 * Every notice kind rendered by each surface: Slack mrkdwn (people as mentions, what people typed
 * escaped) and the terminal's plain text (no Slack markup at all).
 */
import { describe, expect, it } from 'vitest';
import { announceText, noticeText } from '../../../src/adapters/slack/render/notice-text.js';
import type { IncidentNotice, StatusChange } from '../../../src/domain/incident/model/notices.js';
import { noticePlainText } from '../../../src/surfaces/cli/notice-text.js';

const HOSTILE = '<!channel> <https://evil.example/login|Approve here> & more';

/** One notice of every kind, with the facts each rendering must show. */
const NOTICES: { [K in IncidentNotice['kind']]: { notice: Extract<IncidentNotice, { kind: K }>; shows: string[] } } = {
  severity_changed: {
    notice: { kind: 'severity_changed', by: 'U0SRE001', from: 'SEV3', to: 'SEV1', reason: HOSTILE, paged: true },
    shows: ['SEV3', 'SEV1'],
  },
  role_assigned: {
    notice: { kind: 'role_assigned', by: 'U0SRE001', role: 'comms', user: 'U0OWN001', previous: null },
    shows: ['comms lead'],
  },
  comms_reminder: {
    notice: { kind: 'comms_reminder', commander: 'U0REQ001', minutes: 10, severity: 'SEV1' },
    shows: ['10 minutes', 'SEV1'],
  },
  impact_started_set: {
    notice: { kind: 'impact_started_set', by: 'U0REQ001', at: '2026-12-01T14:02:00.000Z' },
    shows: ['impact started'],
  },
  followup_added: {
    notice: { kind: 'followup_added', by: 'U0REQ001', text: HOSTILE, owner: 'U0OWN001', tracker: 'Jira' },
    shows: ['Jira'],
  },
  followup_filed: {
    notice: {
      kind: 'followup_filed',
      text: HOSTILE,
      owner: null,
      ticket: { key: 'OPS-12', url: 'https://acme.atlassian.net/browse/OPS-12' },
      tracker: 'Jira',
    },
    shows: ['OPS-12', 'https://acme.atlassian.net/browse/OPS-12'],
  },
  followup_export_failed: {
    notice: { kind: 'followup_export_failed', text: HOSTILE, tracker: 'Jira', error: "project 'NOPE' does not exist" },
    shows: ['NOPE'],
  },
  paged: {
    notice: { kind: 'paged', provider: 'PagerDuty', reason: 'approvals', summary: 'SEV2 · Rollback waits' },
    shows: ['PagerDuty', 'SEV2'],
  },
  page_failed: {
    notice: { kind: 'page_failed', action: 'trigger', error: 'Invalid routing key' },
    shows: ['Invalid routing key'],
  },
  approvals_recorded: {
    notice: { kind: 'approvals_recorded', operator: 'cli:alice', approvers: ['U0SRE001', 'U0OWN001'], reason: HOSTILE },
    shows: ['cli:alice'],
  },
  break_glass: {
    notice: { kind: 'break_glass', by: 'U0REQ001', reason: HOSTILE, migration: '007_x.ts', service: 'ticket-service' },
    shows: ['007_x.ts', 'ticket-service'],
  },
  warnings_acknowledged: { notice: { kind: 'warnings_acknowledged', by: 'U0SRE001', reason: HOSTILE }, shows: [] },
  stop_requested: { notice: { kind: 'stop_requested', by: 'U0SRE001', reason: null }, shows: ['stop'] },
  human_update: { notice: { kind: 'human_update', by: 'U0REQ001', text: HOSTILE }, shows: [] },
  triage_failed: { notice: { kind: 'triage_failed' }, shows: ['Triage could not run'] },
  provider_progress: {
    notice: { kind: 'provider_progress', text: 'Snapshot `pre-rollback-x` (pg_dump) creating…' },
    shows: ['pre-rollback-x', 'creating'],
  },
  rehearsal_started: {
    notice: { kind: 'rehearsal_started', by: 'U0SRE001', snapshotId: 'snap-1', lockTimeout: '5s' },
    shows: ['snap-1', '5s'],
  },
  rehearsal_done: {
    notice: {
      kind: 'rehearsal_done',
      result: {
        passed: true,
        digest: null,
        at: '2026-12-01T10:00:00Z',
        elapsedMs: 4200,
        steps: [{ migration: '008_x.ts', status: 'done', durationMs: 12 }],
      },
    },
    shows: ['008_x.ts', '12 ms'],
  },
  rehearsal_copy_left: { notice: { kind: 'rehearsal_copy_left', copy: 'db_rehearsal_1' }, shows: ['db_rehearsal_1'] },
  approval_given: {
    notice: { kind: 'approval_given', by: 'U0SRE001', count: 1, required: 2, confirmedAs: 'ticket-service' },
    shows: ['1 of 2'],
  },
  approvals_complete: {
    notice: {
      kind: 'approvals_complete',
      approvers: ['U0SRE001', 'U0OWN001'],
      noun: 'rollback',
      queued: true,
      waitsForSnapshot: true,
      confirmedAs: null,
    },
    shows: ['queued', 'snapshot'],
  },
  approvers_refreshed: {
    notice: {
      kind: 'approvers_refreshed',
      by: 'U0SRE001',
      added: ['U0NEW001'],
      removed: [],
      asOf: '2026-12-04T03:00:00Z',
    },
    shows: ['added', 'U0NEW001', 'removed'],
  },
  discard_approval_given: {
    notice: { kind: 'discard_approval_given', by: 'U0SRE001', leftover: 'restore-x', count: 1, required: 2 },
    shows: ['restore-x', '1 of 2'],
  },
  discard_approved: {
    notice: { kind: 'discard_approved', approvers: ['U0SRE001', 'U0OWN001'], leftover: 'restore-x', queued: false },
    shows: ['restore-x', 'unreachable'],
  },
  discard_failed: { notice: { kind: 'discard_failed', leftover: 'restore-x', detail: null }, shows: ['bot logs'] },
  discard_done: { notice: { kind: 'discard_done', leftover: 'restore-x' }, shows: ['restore-x', 'deleted'] },
  rollback_requeued: { notice: { kind: 'rollback_requeued' }, shows: ['queued'] },
  rollback_resumed: { notice: { kind: 'rollback_resumed' }, shows: ['committed'] },
  state_db_back: { notice: { kind: 'state_db_back', downForMs: 12_000 }, shows: ['state database', '12'] },
  round_started: {
    notice: {
      kind: 'round_started',
      by: 'U0REQ001',
      attempt: 2,
      steps: 3,
      restoreTarget: null,
      approvalsRequired: 2,
    },
    shows: ['round 2', '3 down migration(s)'],
  },
  plan_superseded: {
    notice: { kind: 'plan_superseded', voided: ['U0SRE001'], changes: ['`008_x.ts` was added'] },
    shows: ['008_x.ts'],
  },
  tool_lock_taken_over: {
    notice: { kind: 'tool_lock_taken_over', toolLock: 'knex_migrations_lock' },
    shows: ['knex_migrations_lock'],
  },
  step_started: {
    notice: { kind: 'step_started', index: 1, total: 2, migration: '007_x.ts', lockTimeout: '5s' },
    shows: ['Step 1/2', '007_x.ts', '5s'],
  },
  step_done: {
    notice: { kind: 'step_done', index: 2, total: 2, migration: '006_y.ts', durationMs: 321 },
    shows: ['Step 2/2', '006_y.ts', '321 ms'],
  },
  rollback_waiting: {
    notice: { kind: 'rollback_waiting', reason: 'The snapshot is not available yet.' },
    shows: ['snapshot'],
  },
  channel_archiving: { notice: { kind: 'channel_archiving', afterMinutes: 60 }, shows: ['60 minutes'] },
  snapshot_ready: {
    notice: {
      kind: 'snapshot_ready',
      record: {
        id: 'pre-rollback-ticket-service-2',
        provider: 'pg_dump',
        status: 'available',
        createdAt: '2026-12-01T10:00:00Z',
        sizeBytes: 15_000_000,
        elapsedMs: 1200,
      },
    },
    shows: [
      'pre-rollback-ticket-service-2',
      '(pg_dump, 14 MB, taken in 1s)',
      'Nothing runs before the plan is approved',
    ],
  },
  snapshot_taken: {
    notice: {
      kind: 'snapshot_taken',
      record: {
        id: 'pre-rollback-ticket-service-1',
        provider: 'pg_dump',
        status: 'available',
        createdAt: '2026-12-01T10:00:00Z',
        location: '/backups/x.dump',
      },
      service: 'ticket-service',
      by: 'U0REQ001',
    },
    shows: ['pre-rollback-ticket-service-1', '/backups/x.dump', 'available'],
  },
  snapshot_failed: {
    notice: { kind: 'snapshot_failed', name: 'pre-rollback-x', service: 'ticket-service', detail: 'disk full' },
    shows: ['pre-rollback-x', 'disk full'],
  },
};

const SLACK_MARKUP = [/<@/, /<#/, /<!/, /\*[^*\n]+\*/, /:[a-z_]+:/];

describe('notices rendered per surface', () => {
  for (const [kind, { notice, shows }] of Object.entries(NOTICES)) {
    it(`${kind}: Slack shows the facts and escapes what people typed; the terminal shows them without markup`, () => {
      const slack = noticeText(notice);
      const plain = noticePlainText(notice);
      for (const fact of shows) {
        expect(slack).toContain(fact);
        expect(plain).toContain(fact);
      }
      // Whatever a person typed reaches Slack as text: no @channel, no live link.
      expect(slack).not.toContain('<!channel>');
      // A ticket filed in the tracker is the one live link (its URL came from the tracker, not a person).
      expect(slack.replace('<https://acme.atlassian.net/browse/OPS-12|OPS-12>', '')).not.toContain('<https://');
      // The terminal prints what people typed as they typed it; nothing else it prints is Slack markup.
      for (const markup of SLACK_MARKUP) expect(plain.replaceAll(HOSTILE, '')).not.toMatch(markup);
      if (JSON.stringify(notice).includes(HOSTILE)) expect(plain).toContain(HOSTILE);
    });
  }

  it('mentions Slack users and names CLI operators as code', () => {
    expect(noticeText(NOTICES.approvals_recorded.notice)).toContain('for <@U0SRE001>, <@U0OWN001>:');
    expect(noticeText({ kind: 'human_update', by: 'cli:bob', text: 'ok' })).toContain('from `cli:bob`');
    expect(noticeText(NOTICES.human_update.notice)).toContain(
      '&lt;!channel&gt; &lt;https://evil.example/login|Approve here&gt; &amp; more',
    );
  });

  it('keeps the runbook wording of a step and of a failed rehearsal', () => {
    expect(noticeText(NOTICES.step_done.notice)).toBe(':white_check_mark: Step 2/2: `006_y.ts` reverted in 321 ms.');
    const failed = noticeText({
      kind: 'rehearsal_done',
      result: {
        passed: false,
        digest: null,
        at: '2026-12-01T10:00:00Z',
        elapsedMs: 4200,
        steps: [
          { migration: '008_x.ts', status: 'done', durationMs: 12 },
          { migration: '007_y.ts', status: 'failed', error: 'check constraint "c" is violated' },
          { migration: '006_z.ts', status: 'not_run' },
        ],
      },
    });
    expect(failed.split('\n')).toEqual([
      ':test_tube: *Rehearsal failed* on a scratch copy: the plan would stop in production too.',
      ':white_check_mark: `008_x.ts` — 12 ms',
      ':x: `007_y.ts` — check constraint "c" is violated',
      ':white_circle: `006_z.ts`',
      'The copy was dropped; production was not touched.',
    ]);
  });

  it('announces each status change in one line after the service and migration', () => {
    const incident = { service: 'ticket-service', migration: '007_x.ts', kind: 'rollback' as const };
    const changes: StatusChange[] = [
      { kind: 'opened', by: 'U0REQ001', steps: 2 },
      { kind: 'rollback_started', steps: 2 },
      { kind: 'resolved', validationPassed: true },
      { kind: 'resolved', validationPassed: false },
      { kind: 'failed', message: 'The down of `007_x.ts` met lock_timeout.' },
      { kind: 'rejected' },
      { kind: 'cancelled' },
      { kind: 'closed' },
      { kind: 'human_update', by: 'U0REQ001', text: HOSTILE },
      NOTICES.break_glass.notice,
    ];
    for (const change of changes) {
      const line = announceText(incident, change);
      expect(line.startsWith('*ticket-service* — rollback of `007_x.ts`: ')).toBe(true);
      expect(line).not.toContain('<!channel>');
    }
    expect(announceText(incident, changes[0]!)).toContain(
      'opened by <@U0REQ001>: 2 down migration(s) to roll back, awaiting approval.',
    );
    // A failure is one short line: its explanation is in the incident channel.
    expect(announceText(incident, changes[4]!).length).toBeLessThan(160);
  });
});

describe('names from files and databases are text too', () => {
  it('a migration or snapshot named with <!channel> or a link shows as code, not as a broadcast or a link', () => {
    const migration = '<!channel>_<https://evil.example|x>.sql';
    for (const notice of [
      { kind: 'step_started', index: 1, total: 1, migration, lockTimeout: '5s' },
      { kind: 'step_done', index: 1, total: 1, migration, durationMs: 3 },
      { kind: 'discard_done', leftover: migration },
    ] as IncidentNotice[]) {
      const text = noticeText(notice);
      expect(text).toContain('`&lt;!channel&gt;_&lt;https://evil.example|x&gt;.sql`');
      expect(text).not.toMatch(/<!channel>|<https:/);
    }
  });
});
