import { TEST_PROCESS } from '../../support/service-config.js';
import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DurationSchema } from '../../../src/config/duration.js';
import type { ServiceConfig } from '../../../src/config/services.js';
import type { Incident, IncidentState } from '../../../src/domain/incident/model/incident.js';
import type { TriageReport } from '../../../src/domain/triage/triage-report.js';
import type { ApprovalProgress, VerificationResult } from '../../../src/domain/incident/ports/notifier.js';
import {
  cancelledMessage,
  failureMessage,
  initialNoticeMessage,
  openedMessage,
  resolutionMessages,
  statusUpdateMessage,
} from '../../../src/adapters/slack/render/incident-messages.js';
import { planCardMessage, planSqlMessage } from '../../../src/adapters/slack/render/plan-card.js';
import { nextLine } from '../../../src/adapters/slack/render/summary-blocks.js';
import { channelTriage } from '../../../src/adapters/slack/render/triage-blocks.js';
import { SLACK_EMOJI } from '../../../src/adapters/slack/render/emoji.js';
import type { KnownBlock } from '../../../src/adapters/slack/render/block-kit.js';
import { words } from '../../../src/shared/words.js';
import { incidentFixture } from '../../support/incident-fixture.js';

/**
 * What the incident channel shows at the top level, checked for what a responder reads at 3 a.m.:
 * short (a phone screen: ~600 characters, 12 lines; the plan card only longer by its SQL), no raw
 * `<placeholder>` Slack would turn into a link, no check ids in snake_case, no emoji the drill
 * (or Slack) cannot show, and a "Next:" line that matches the state.
 */

const service = {
  name: 'ticket-service',
  approvals: { required: 2, destructive: 3, approvers: ['U0SRE001', 'U0OWN001', 'U0DBA001'] },
  migrations: { tool: 'knex', table: 'knex_migrations' },
  snapshot: { provider: 'pg_dump', storage: 'local' },
  access: { requesters: ['S0ONCALL1'], readers: 'anyone', break_glass: [], private: false },
  process: TEST_PROCESS,
  lock_timeout: DurationSchema.parse('5s'),
  step_timeout: DurationSchema.parse('30min'),
  status_update_minutes: 15,
} as unknown as ServiceConfig;

const snapshot = {
  id: 'pre-rollback-ticket-service-20261121-031207',
  provider: 'pg_dump' as const,
  status: 'available' as const,
  createdAt: '2026-11-21T03:12:07Z',
  sizeBytes: 14_600_000,
  sha256: 'a'.repeat(64),
  elapsedMs: 3100,
};

const step = (migration: string) => ({
  migration,
  order: 1,
  transactional: true,
  sql: [`DROP TABLE IF EXISTS ${migration.slice(4, 12)}`],
});

const incident = (state: IncidentState, extra: Partial<Incident> = {}): Incident =>
  incidentFixture(state, {
    migration: '006_add_search.ts',
    plan: [step('007_add_security_tables.ts'), step('006_add_search.ts')] as Incident['plan'],
    snapshot,
    steps: [
      { migration: '007_add_security_tables.ts', status: 'done', durationMs: 412 },
      { migration: '006_add_search.ts', status: 'done', durationMs: 231 },
    ],
    basis: { digest: 'b'.repeat(64) } as Incident['basis'],
    ...extra,
  });

const progress: ApprovalProgress = {
  approvals: [
    { incidentId: 'x', userId: 'U0SRE001', createdAt: new Date(), planDigest: null },
  ] as ApprovalProgress['approvals'],
  required: 2,
};

const check = (name: string, verdict: 'ok' | 'attention' | 'failed', rows = 0) => ({
  name,
  title: name.replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase()),
  source: '003 Initial triage',
  verdict,
  summary: verdict === 'ok' ? 'nothing to report' : `${rows} rows need a look`,
  durationMs: 31,
  columns: ['pid', 'query'],
  rows: Array.from({ length: rows }, (_, i) => ({ pid: 4000 + i, query: `SELECT ${i} FROM tickets WHERE id = $1` })),
  ...(verdict === 'failed' ? { error: 'permission denied for pg_stat_activity' } : {}),
});

const report: TriageReport = {
  service: 'ticket-service',
  startedAt: '2026-11-21T03:12:01Z',
  durationMs: 612,
  checks: [
    check('migration_history', 'attention', 7),
    check('blocking_locks', 'attention', 3),
    check('long_transactions', 'ok'),
    check('tracking_table_health', 'ok'),
    check('table_sizes', 'ok', 4),
    check('connections', 'ok'),
    check('replication_lag', 'failed'),
    check('invalid_indexes', 'ok'),
  ],
};

const verification = (failedNames: string[] = []): VerificationResult =>
  ({
    passed: failedNames.length === 0,
    head: '005_add_events.ts',
    durationMs: 840,
    checks: ['tracking_table', 'objects', 'integrity', 'schema_fingerprint'].map((name) => ({
      name,
      title: name,
      status: failedNames.includes(name) ? 'failed' : 'passed',
      detail: 'checked',
      problems: failedNames.includes(name) ? ['table public.x still exists'] : [],
      durationMs: 120,
    })),
  }) as VerificationResult;

/** The text a reader sees in a message's blocks (sections, fields, context, header). */
function visible(blocks: KnownBlock[]): string {
  const out: string[] = [];
  for (const b of blocks as unknown as Array<Record<string, unknown>>) {
    const t = b.text as { text?: string } | undefined;
    if (t?.text) out.push(t.text);
    for (const f of (b.fields as Array<{ text: string }> | undefined) ?? []) out.push(f.text);
    for (const e of (b.elements as Array<{ type?: string; text?: string }> | undefined) ?? [])
      if (e.type === 'mrkdwn' || e.type === 'plain_text') out.push(e.text ?? '');
  }
  return out.join('\n');
}

/** `<…>` that is not Slack syntax the bot means: a mention, a channel, a date or a link with a label. */
const STRAY_ANGLE = /<(?![@#]|!date\^|https?:\/\/[^|>]+\|)[^>]*>/;
/** A check or state id where words belong (e.g. `schema_fingerprint` outside a code span). */
const SNAKE_OUTSIDE_CODE = (text: string) =>
  text
    .replace(/`[^`]*`/g, '')
    .replace(/<[^>]*>/g, '') // Slack's own tokens (dates, mentions, links)
    .replace(/:[a-z0-9_+-]+:/g, '')
    .replace(/\b(lock_timeout|step_timeout|statement_timeout|pg_dump|pg_restore)\b/g, '') // PostgreSQL's, its tools' and the config's own words
    .match(/\b[a-z]+_[a-z_]+\b/g) ?? [];

function expectReadable(name: string, blocks: KnownBlock[], max = { chars: 600, lines: 12 }): void {
  const text = visible(blocks);
  expect(text.length, `${name}: ${text.length} characters`).toBeLessThanOrEqual(max.chars);
  expect(text.split('\n').length, `${name}: lines`).toBeLessThanOrEqual(max.lines);
  expect(text, `${name}: a raw <placeholder>`).not.toMatch(STRAY_ANGLE);
  expect(SNAKE_OUTSIDE_CODE(text), `${name}: snake_case ids`).toEqual([]);
  for (const [, emoji] of text.replace(/<[^>]*>/g, '').matchAll(/:([a-z][a-z0-9_+-]*):/g))
    expect(SLACK_EMOJI, `${name}: :${emoji}:`).toHaveProperty(emoji!);
}

describe('the incident channel at the top level', () => {
  it('triage: one line per check that needs a look and "n other checks ok"; the tables of those checks only, in the thread', () => {
    const t = channelTriage(report);
    expectReadable('triage', t.headline.blocks);
    const head = visible(t.headline.blocks);
    expect(head).toContain('*Migration history* — 7 rows need a look');
    expect(head).toContain('*Replication lag* — ');
    expect(head).toContain('some checks failed* — 5 other checks ok, details in the thread.');
    expect(head).not.toMatch(/\d+ ?ms\b/); // timings are for the thread and the timeline
    const details = visible(t.details!.blocks);
    expect(details).toContain('Migration history');
    expect(details).not.toContain('Table sizes'); // a passed check shows no table
    const allOk = channelTriage({ ...report, checks: report.checks.filter((c) => c.verdict === 'ok') });
    expect(visible(allOk.headline.blocks)).toContain('all clear* — all 5 checks ok.');
    expect(allOk.details).toBeNull();
  });

  it('the resolution is a headline with what to watch next; steps, checks and artifacts are in its thread', () => {
    const { headline, details } = resolutionMessages(incident('resolved'), verification(), 'https://t.example/T-1');
    expectReadable('resolution', headline.blocks);
    expect(visible(headline.blocks)).toBe(
      ':white_check_mark: *Rollback complete. Validation passed: 4 checks.*\n' +
        "Rolled back 2 migrations on *ticket-service* in 643ms; the tracking table's newest entry is now `005_add_events.ts`.\n" +
        '*Next* (runbook 004): restart the service, check its health endpoints, run smoke tests, and watch error rates for 30–60 minutes.',
    );
    expect(visible(details.blocks)).toContain('<https://t.example/T-1|2d339b98>');
    const warned = resolutionMessages(incident('resolved_with_warnings'), verification(['schema_fingerprint']));
    expectReadable('resolution with warnings', warned.headline.blocks);
    expect(visible(warned.headline.blocks)).toContain('1 of 4 checks (schema fingerprint)');
  });

  it('failure, status update, initial notice, cancellation and the opened summary fit a phone screen and name real ids', () => {
    const failed = incident('failed', {
      failure: {
        code: 'rollback_lock_timeout',
        message: words`The down of ${'007'} waited longer than lock_timeout 5s.`,
      },
      steps: [
        { migration: '007_add_security_tables.ts', status: 'failed' },
        { migration: '006_add_search.ts', status: 'not_run' },
      ],
    });
    const failure = failureMessage(failed, failed.failure!, failed.steps, service);
    expectReadable('failure', failure.blocks, { chars: 700, lines: 12 });
    expect(visible(failure.blocks)).toContain('`/migrate restore pre-rollback-ticket-service-20261121-031207`');
    const update = statusUpdateMessage(failed, progress, 15, new Date('2026-11-21T03:30:00Z'));
    expectReadable('status update', update.blocks);
    expect(visible(update.blocks)).toContain('Issue: `rollback_lock_timeout` — see the failure message above');
    expectReadable(
      'initial notice',
      initialNoticeMessage(incident('rolling_back'), snapshot, { minutes: 1, basis: 'steps' }).blocks,
    );
    expectReadable(
      'cancelled',
      cancelledMessage(incident('cancelled', { steps: [] }), 'U0SRE001', 'wrong service').blocks,
    );
    expectReadable('opened', openedMessage(incident('opened'), service).blocks);
  });

  it('the plan card is longer only by its SQL, and says how its round ended once it did', () => {
    const card = planCardMessage(incident('awaiting_approval', { steps: [] }), service, progress);
    const withoutSql = visible(card.blocks).replace(/^ {6}`[^\n]*$/gm, '');
    expect(withoutSql.length).toBeLessThanOrEqual(900);
    expect(withoutSql).not.toMatch(STRAY_ANGLE);
    const ended = (state: IncidentState, attempt = 1) =>
      visible(planCardMessage(incident(state, { attempt }), service, progress).blocks);
    expect(ended('failed')).toContain(':red_circle: This plan failed — see the failure below');
    expect(ended('resolved')).toContain(':white_check_mark: This plan completed');
    expect(ended('cancelled', 2)).toContain(':no_entry_sign: Round 2 was cancelled');
    expect(ended('failed')).not.toContain('Approved. The rollback runs');
    const card2 = planCardMessage(incident('failed', { attempt: 2 }), service, progress);
    expect(card2.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(visible(card2.blocks)).toContain('Rollback plan (round 2)');
  });

  it('a step with many statements shows three on the card and every one in its thread', () => {
    const long = incident('awaiting_approval', {
      steps: [],
      plan: [
        {
          ...step('007_add_security_tables.ts'),
          sql: ['SET lock_timeout = 5000', ...['a', 'b', 'c', 'd', 'e', 'f'].map((t) => `DROP TABLE ${t}`)],
        },
      ] as Incident['plan'],
    });
    const card = visible(planCardMessage(long, service, progress).blocks);
    expect(card).toContain('`DROP TABLE c`');
    expect(card).not.toContain('DROP TABLE d');
    expect(card).toContain('_+3 more statements — every one in the thread_');
    const thread = visible(planSqlMessage(long)!.blocks);
    expect(thread).toContain('DROP TABLE a;\nDROP TABLE b');
    expect(thread).toContain('DROP TABLE f');
    expect(thread).not.toContain('SET lock_timeout');
    expect(planSqlMessage(incident('awaiting_approval'))).toBeNull();
  });

  it('the summary\'s "Next:" line follows the state', () => {
    const next = (state: IncidentState, extra: Partial<Incident> = {}, p = progress) =>
      nextLine(
        {
          incident: incident(state, extra),
          progress: p,
          verification: null,
          nextStatusUpdateAt: null,
          involved: ['U0REQ001'],
          documented: false,
          followUps: [],
          pageFailed: null,
          pagesSent: 0,
        },
        service,
      );
    expect(next('awaiting_approval')).toMatch(/^\*Next:\* 1 more approval from /);
    expect(next('snapshotting', { snapshot: null })).toContain('the snapshot is being taken');
    expect(
      next('rolling_back', {
        steps: [
          { migration: '007_add_security_tables.ts', status: 'done', durationMs: 3 },
          { migration: '006_add_search.ts', status: 'running', startedAt: '2026-11-21T03:20:00Z' },
        ],
      }),
    ).toBe('*Next:* step 2/2 `006_add_search.ts` is running; verification follows the last step.');
    expect(next('resolved')).toContain('watch error rates for 30–60 minutes');
    expect(next('failed')).toContain('`/migrate restore pre-rollback-ticket-service-20261121-031207`');
    expect(next('cancelled', { steps: [] })).toContain('nothing ran');
    for (const state of [
      'opened',
      'snapshotting',
      'awaiting_approval',
      'rolling_back',
      'resolved',
      'resolved_with_warnings',
      'failed',
      'cancelled',
    ] as const)
      expect(next(state)).not.toContain('Next: triage, the plan for'); // the opening line never stays
  });
});

describe('emoji', () => {
  it('every :name: the Slack renderers can write is in the table the drill renders from', () => {
    const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');
    const dirs = ['adapters/slack', 'adapters/slack/render', 'surfaces/slack/listeners', 'domain/incident/use-cases'];
    const names = new Set<string>();
    for (const dir of dirs)
      for (const file of readdirSync(path.join(root, dir)).filter((f) => f.endsWith('.ts'))) {
        // Code only: comments may speak of `:name:` in general.
        const src = readFileSync(path.join(root, dir, file), 'utf8')
          .split('\n')
          .filter((l) => !/^\s*(\*|\/\/|\/\*\*)/.test(l))
          .join('\n');
        for (const [, name] of src.matchAll(/['`\s(]:([a-z][a-z0-9_+-]*[a-z0-9]):/g)) names.add(name!);
      }
    expect(names.size).toBeGreaterThan(20);
    expect([...names].filter((n) => !(n in SLACK_EMOJI)).sort()).toEqual([]);
  });
});
