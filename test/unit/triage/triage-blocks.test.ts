import { describe, expect, it } from 'vitest';
import {
  SLACK_HEADER_TEXT_MAX,
  SLACK_MAX_BLOCKS,
  SLACK_SECTION_TEXT_MAX,
  triageMessage,
  type KnownBlock,
} from '../../../src/adapters/slack/render/triage-blocks.js';
import type { CheckResult, TriageReport } from '../../../src/domain/triage/triage-report.js';

const check = (over: Partial<CheckResult> = {}): CheckResult => ({
  name: 'connection_pressure',
  title: 'Connection pressure',
  source: '002 Monitor execution',
  verdict: 'ok',
  summary: '12 / 97 usable connections (12%).',
  durationMs: 20,
  columns: [],
  rows: [],
  ...over,
});

const report = (checks: CheckResult[]): TriageReport => ({
  service: 'ticket-service',
  startedAt: '2026-11-21T03:12:07.000Z',
  durationMs: 1234,
  checks,
});

/** Every text a reader sees in the blocks, for limit and secret checks. */
function texts(blocks: KnownBlock[]): Array<{ type: string; text: string }> {
  return blocks.flatMap((b) => {
    if (b.type === 'section' || b.type === 'header') return [{ type: b.type, text: b.text?.text ?? '' }];
    if (b.type === 'context') return b.elements.map((e) => ({ type: 'context', text: 'text' in e ? e.text : '' }));
    return [];
  });
}

function expectWithinSlackLimits(blocks: KnownBlock[]): void {
  expect(blocks.length).toBeLessThanOrEqual(SLACK_MAX_BLOCKS);
  for (const t of texts(blocks)) {
    expect(t.text.length).toBeGreaterThan(0);
    expect(t.text.length).toBeLessThanOrEqual(t.type === 'header' ? SLACK_HEADER_TEXT_MAX : SLACK_SECTION_TEXT_MAX);
  }
}

const longQuery = (i: number) =>
  `SELECT a < b FROM tickets; UPDATE tickets SET note = '${'x'.repeat(250)}' WHERE id = ${i}`.slice(0, 300);

describe('triageMessage', () => {
  it('puts a header, the total time and one emoji line per check, and no file when everything fits', () => {
    const m = triageMessage(
      report([
        check(),
        check({
          name: 'blocking_locks',
          title: 'Blocking locks',
          verdict: 'attention',
          summary: '1 blocked session; pid 10 blocks 11.',
          columns: ['blocked_pid', 'blocking_pid'],
          rows: [{ blocked_pid: 11, blocking_pid: 10 }],
        }),
        check({
          name: 'migration_history',
          title: 'Migration history',
          verdict: 'failed',
          summary: 'Check failed: timed out after 5s (statement_timeout)',
          error: 'timed out after 5s (statement_timeout)',
        }),
      ]),
    );
    expect(m.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: ':x: Triage: ticket-service — failed', emoji: true },
    });
    const all = texts(m.blocks)
      .map((t) => t.text)
      .join('\n');
    expect(all).toContain('total triage time *1s*');
    expect(all).toContain('<!date^1795230727^');
    expect(all).toContain(':white_check_mark: *Connection pressure* (20ms) — 12 / 97 usable connections (12%).');
    expect(all).toContain(':warning: *Blocking locks*');
    expect(all).toContain(':x: *Migration history* (20ms) — Check failed: timed out after 5s (statement_timeout)');
    expect(all).toMatch(/```\nblocked_pid {2}blocking_pid\n-{11} {2}-{12}\n11 {11}10\n```/);
    expect(m.files).toEqual([]);
    expect(m.text).toBe('Triage of ticket-service: failed in 1s (blocking_locks attention, migration_history failed)');
    expectWithinSlackLimits(m.blocks);
  });

  it('keeps 500 long-running transactions within 3,000 characters per section and attaches the full table', () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({
      pid: 10_000 + i,
      user: 'app',
      application: 'api',
      state: 'idle in transaction',
      duration: '12m03s',
      waiting_on: 'Client:ClientRead',
      query: longQuery(i),
    }));
    const m = triageMessage(
      report([
        check({
          name: 'long_running_transactions',
          title: 'Long-running transactions',
          verdict: 'attention',
          summary: '500 transactions open longer than 30s.',
          columns: Object.keys(rows[0]!),
          rows,
        }),
      ]),
    );
    expectWithinSlackLimits(m.blocks);
    const detail = texts(m.blocks).find((t) => t.text.includes('*Long-running transactions* ·'))!.text;
    const shown = Number(/… ([\d,]+) more rows in the attached file/.exec(detail)?.[1]?.replace(',', ''));
    expect(shown).toBeGreaterThan(400);
    expect(detail).toContain('a &lt; b');
    expect(m.files).toHaveLength(1);
    expect(m.files[0]!.filename).toBe('triage-ticket-service-20261121-031207.txt');
    for (const i of [0, 250, 499]) expect(m.files[0]!.content).toContain(longQuery(i));
    expect(m.files[0]!.content).toContain('(500 rows)');
  });

  it('keeps 2,000 touched objects and many checks within 50 blocks', () => {
    const rows = Array.from({ length: 2000 }, (_, i) => ({
      relation: `public.table_${i}`,
      kind: 'table',
      actions: 'drop',
      exists: true,
      est_rows: i,
      exact_rows: i,
      total_size: '16 kB',
      note: null,
    }));
    const many = Array.from({ length: 80 }, (_, i) =>
      check({
        name: `check_${i}`,
        title: `Check ${i} ${'t'.repeat(60)}`,
        verdict: 'attention',
        summary: 's'.repeat(500),
        columns: ['relation'],
        rows: [{ relation: `r${i}` }],
      }),
    );
    const m = triageMessage(
      report([
        check({
          name: 'touched_objects',
          title: 'Objects the migration touches',
          verdict: 'attention',
          summary: '2000 relations named.',
          columns: Object.keys(rows[0]!),
          rows,
        }),
        ...many,
      ]),
      { heading: `Triage: ${'very-long-service-name-'.repeat(10)}` },
    );
    expectWithinSlackLimits(m.blocks);
    expect(m.blocks).toHaveLength(SLACK_MAX_BLOCKS);
    expect(texts(m.blocks).at(-1)!.text).toMatch(/^… details of \d+ more checks in the attached file$/);
    expect(m.files[0]!.content).toContain('public.table_1999');
    expect(m.files[0]!.content).toContain('== Check 79');
  });

  it('never shows a secret, in blocks, text or files', () => {
    const m = triageMessage(
      report([
        check({
          verdict: 'failed',
          summary: 'Check failed: postgres://triage:s3cret@db.internal:5432/tickets',
          error: 'could not connect to postgres://triage:s3cret@db.internal:5432/tickets',
        }),
        check({
          name: 'long_running_transactions',
          title: 'Long-running transactions',
          verdict: 'attention',
          summary: 'x',
          columns: ['query'],
          rows: [{ query: `ALTER ROLE app PASSWORD 'x' -- xoxb-123-456-abc ${'y'.repeat(300)}` }],
        }),
      ]),
    );
    const everything = JSON.stringify(m);
    expect(everything).not.toContain('s3cret');
    expect(everything).not.toContain('xoxb-123');
    expect(everything).toContain('postgres://triage:***@db.internal');
  });
});
