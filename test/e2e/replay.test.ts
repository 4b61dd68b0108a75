/**
 * A signed request replayed inside Slack's 5-minute window (same body, same timestamp, same
 * signature) is answered 200 and ignored, for slash commands, button presses and modal
 * submissions, whichever replica it lands on (the signatures seen are kept in Redis).
 */
import { describe, expect } from 'vitest';
import { APPROVERS, REQUESTER, SIGNING_SECRET } from '../support/bot-harness.js';
import { it } from '../support/bot-test.js';
import { planCard, posted, query } from '../support/bot-waits.js';
import {
  blockActionsPayload,
  FORM_CONTENT_TYPE,
  formEncode,
  postSignedToApp,
  slashCommandBody,
} from '../support/slack-request.js';

describe('replayed Slack requests do nothing', () => {
  it('a replayed /migrate rollback opens no second incident and gets no second answer; a replayed Approve opens no second modal', async ({
    bot,
  }) => {
    const h = await bot();
    const ts = Math.floor(Date.now() / 1000);
    const command = slashCommandBody({
      text: 'rollback 007',
      user_id: REQUESTER,
      response_url: h.slack.responseUrl('replayed-command'),
    });
    const first = await postSignedToApp(h.eventsUrl, SIGNING_SECRET, command, FORM_CONTENT_TYPE, { timestampSec: ts });
    expect(first.status).toBe(200);
    const { incidentId } = await planCard(h);
    const replay = await postSignedToApp(h.eventsUrl, SIGNING_SECRET, command, FORM_CONTENT_TYPE, { timestampSec: ts });
    expect(replay.status).toBe(200);
    // Another replica would see the same key: restart the bot, then replay once more.
    await h.restart();
    const afterRestart = await postSignedToApp(h.eventsUrl, SIGNING_SECRET, command, FORM_CONTENT_TYPE, {
      timestampSec: ts,
    });
    expect(afterRestart.status).toBe(200);

    await posted(h, 'Snapshot saved');
    const press = formEncode({
      payload: JSON.stringify(
        blockActionsPayload({
          user_id: APPROVERS[0],
          action_id: 'incident_approve',
          value: incidentId,
          channel_id: 'C0000000',
          message_ts: '1.000',
          response_url: h.slack.responseUrl('replayed-press'),
          trigger_id: `${Date.now()}.1.replayed`,
        }),
      ),
    });
    expect(
      (await postSignedToApp(h.eventsUrl, SIGNING_SECRET, press, FORM_CONTENT_TYPE, { timestampSec: ts })).status,
    ).toBe(200);
    await h.slack.waitForCall('views.open', () => true, 10_000);
    expect(
      (await postSignedToApp(h.eventsUrl, SIGNING_SECRET, press, FORM_CONTENT_TYPE, { timestampSec: ts })).status,
    ).toBe(200);

    // A fresh request (a new timestamp, so a new signature) still goes through.
    const { key } = await h.command('status');
    await h.slack.waitForResponse((r) => r.key === key);

    expect(await query(h.stateDb.url, 'SELECT id FROM incidents')).toHaveLength(1);
    const opening = h.slack.responses.filter(
      (r) => r.key === 'replayed-command' && String(r.body.text).includes('Opening incident'),
    );
    expect(opening).toHaveLength(1);
    // Without the guard the replays would reach the listener and be answered "already open".
    expect(h.slack.responses.filter((r) => String(r.body.text).includes('already open'))).toEqual([]);
    expect(h.slack.callsTo('views.open')).toHaveLength(1);
    const metrics = await (await fetch(`http://127.0.0.1:${h.bot.opsPort}/metrics`)).text();
    expect(metrics).toContain('migrate_bot_commands_total{command="replay",outcome="refused",surface="slack"} 2');
  });
});
