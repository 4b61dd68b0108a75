/**
 * Slack's limits with Slack's own numbers scaled down so a test sees them within a minute:
 * channel creation (Tier 2) queued with the requester told, and no channel receiving more than
 * two new messages in any second (chat.postMessage's one a second per channel).
 */
import { describe, expect } from 'vitest';
import { it } from '../support/bot-test.js';
import { eventually, query } from '../support/e2e-helpers.js';
import { maxPerChannelPerSecond } from '../support/measure.js';

describe('pacing to Slack rate limits', () => {
  it('queues channel creation past Tier 2 and tells the requester; every incident gets its channel; ≤ 2 new messages per channel per second', async ({
    bot,
  }) => {
    const services = ['svc-a', 'svc-b', 'svc-c', 'svc-d'];
    // Tier 2 at 2 a window (Slack's 20 × 0.1), the window 8 s instead of Slack's minute; one new message a second per channel, as Slack.
    const h = await bot(
      {},
      {
        extraServices: services,
        env: { SLACK_TIER_SCALE: '0.1', SLACK_TIER_WINDOW_SECONDS: '8', SLACK_CHANNEL_MESSAGES_PER_SECOND: '1' },
      },
    );
    const harness = h;
    const started = Date.now();
    const sent = await Promise.all(
      services.map((s, i) => harness.command(`rollback 007 --service ${s}`, `U0PACE0${i}`)),
    );
    const first = await Promise.all(sent.map((s) => harness.slack.waitForResponse((r) => r.key === s.key, 15_000)));
    expect(first.map((r) => String(r.body.text)).every((t) => t.startsWith('Opening incident'))).toBe(true);

    // Two channels now; the other two requesters are told theirs is queued.
    const queued = await eventually(
      'two requesters told their channel is queued',
      async () => {
        const told = sent.filter((s) =>
          harness.slack.responses.some(
            (r) => r.key === s.key && String(r.body.text).includes('Your incident channel is queued'),
          ),
        );
        return told.length === 2 ? told : null;
      },
      20_000,
    );
    // The two that fit the window are created (under load the 'queued' answers may come first).
    await eventually('two channels created', async () =>
      harness.slack.callsTo('conversations.create').filter((c) => c.ok).length === 2 ? true : null,
    );
    expect(queued).toHaveLength(2);

    // Within a window of the first, the queued channels exist and their requesters get the link.
    await eventually(
      'every incident to have its channel',
      async () =>
        (await query<{ n: number }>(harness.stateDb.url, 'SELECT count(channel_id)::int AS n FROM incident_slack'))[0]!
          .n === 4,
      30_000,
    );
    expect(Date.now() - started).toBeGreaterThan(4_000); // they did wait for the window (8 s, less the time the first two took)
    for (const s of queued)
      await harness.slack.waitForResponse(
        (r) => r.key === s.key && String(r.body.text).startsWith('Incident opened in'),
        20_000,
      );
    const events = await query<{ n: number }>(
      harness.stateDb.url,
      "SELECT count(*)::int AS n FROM incident_events WHERE type = 'channel_queued'",
    );
    expect(events).toEqual([{ n: 2 }]);
    expect(harness.slack.callsTo('conversations.create').filter((c) => !c.ok)).toEqual([]); // never a 429 or name_taken

    // Let every incident post its triage, plan card and notices, then look at the pace per channel.
    await eventually(
      'four plan cards',
      async () =>
        harness.slack.callsTo('chat.postMessage').filter((c) => JSON.stringify(c.args).includes('incident_approve'))
          .length >= 4,
      60_000,
    );
    const posts = harness.slack.callsTo('chat.postMessage').filter((c) => c.ok);
    expect(posts.length).toBeGreaterThan(16);
    expect(maxPerChannelPerSecond(posts)).toBeLessThanOrEqual(2);
  }, 150_000);
});
