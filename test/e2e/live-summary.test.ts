import { describe, expect } from 'vitest';
import { APPROVERS } from '../support/bot-harness.js';
import { it } from '../support/bot-test.js';
import { eventually, planCard, posted, textOf } from '../support/e2e-helpers.js';

describe('the pinned live summary, its thread and the channel topic', () => {
  it('pins the first message, redraws it in place on every event, threads the progress and keeps the topic on the state', async ({
    bot,
  }) => {
    const h = await bot({ runbook_url: 'https://docs.example.com/runbooks/003-migration-rollback' });
    await h.command('rollback 007');
    const { incidentId, channel } = await planCard(h);
    const summary = h.slack.messages(channel)[0]!;
    expect(summary.text).toMatch(/^Incident opened: rollback of 007_add_security_tables.ts on ticket-service/);
    expect(h.slack.pins).toContainEqual({ channel, ts: summary.ts });
    await posted(h, 'Snapshot saved');
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await posted(h, 'Rollback complete. Validation passed', 30_000);

    // Redrawn in place: the final state, approvals, steps and verification on the same message.
    const final = await eventually('the summary to show the resolution', async () => {
      const m = h.slack.messages(channel).find((x) => x.ts === summary.ts)!;
      return JSON.stringify(m.blocks).includes(':white_check_mark: Resolved') ? m : null;
    });
    const text = JSON.stringify(final.blocks);
    expect(text).toContain('2 of 2 — <@U0SRE001>, <@U0OWN001>');
    expect(text).toContain('1 of 1 done');
    expect(text).toContain(':white_check_mark: passed');
    expect(final.editedAt).toBeDefined();
    // Runbook 003's condensed checklist ticks as the bot completes each item (no rehearsal was run here).
    await eventually('the checklist to tick the documentation', async () =>
      JSON.stringify(h.slack.messages(channel).find((x) => x.ts === summary.ts)!.blocks).includes(
        ':ballot_box_with_check: Communication/incident documentation completed',
      )
        ? true
        : null,
    );
    const ticked = JSON.stringify(h.slack.messages(channel).find((x) => x.ts === summary.ts)!.blocks);
    for (const item of [
      'Snapshot/dump taken and ID recorded',
      'Incident channel open',
      'Strategy chosen',
      'Action executed by the bot',
      'Post-rollback verification passed',
    ]) {
      expect(ticked).toContain(`:ballot_box_with_check: ${item}`);
    }
    expect(ticked).toContain(':white_large_square: Down tested on a restored copy');
    expect(h.slack.callsTo('chat.update').filter((c) => c.args.ts === summary.ts).length).toBeGreaterThan(1);

    // Progress lines are thread replies under the summary; the channel's top level stays short.
    const replies = h.slack.messages(channel).filter((m) => m.thread_ts === summary.ts);
    expect(replies.map((m) => m.text)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^:arrow_backward: Step 1\/1/),
        expect.stringMatching(/^:white_check_mark: Step 1\/1/),
      ]),
    );
    const topLevel = h.slack.messages(channel).filter((m) => !m.thread_ts);
    expect(topLevel.every((m) => !/^:arrow_backward: Step|approved \(1 of 2\)/.test(m.text))).toBe(true);
    // Summary, triage, plan card, initial notice, resolution, the proposed follow-ups (the timeline file is shared too).
    expect(topLevel.length).toBe(6);

    // Bookmarks: the runbook and the plan card (pg_dump snapshots have no console page).
    expect(
      h.slack.bookmarks.filter((b) => b.channel_id === channel).map((b) => [b.title, b.link.replace(/p\d+$/, 'p…')]),
    ).toEqual([
      ['Rollback runbook', 'https://docs.example.com/runbooks/003-migration-rollback'],
      ['Rollback plan', `https://test-workspace.slack.com/archives/${channel}/p…`],
    ]);

    // The topic follows the state, set once per state.
    await eventually('the topic to say resolved', async () =>
      h.slack.channels
        .find((c) => c.id === channel)!
        .topic?.startsWith('Resolved · rollback of 007_add_security_tables.ts on ticket-service')
        ? true
        : null,
    );
    const topics = h.slack.callsTo('conversations.setTopic').map((c) => String(c.args.topic).split(' · ')[0]);
    expect(new Set(topics).size).toBe(topics.length);
    expect(textOf(h.slack.callsTo('conversations.setTopic')[0]!)).toContain('Opened');
  });
});
