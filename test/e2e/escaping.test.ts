/**
 * Text people and databases write reaches Slack as data: an update, a close reason, a break-glass
 * reason and a PostgreSQL error message full of `<!channel>`, mentions and links render as text,
 * in the incident channel and in the stakeholders' channel; nothing becomes a broadcast or a link.
 */
import { describe, expect } from 'vitest';
import { APPROVERS, REQUESTER } from '../support/bot-harness.js';
import { it } from '../support/bot-test.js';
import { planCard, posted, query, reachesState } from '../support/bot-waits.js';

const HOSTILE = '<!channel> <@U0BOSS001> see <https://evil.example/login|Approve in the new console> & now';

/** Every text the bot posted or updated in Slack, as one string. */
const everything = (calls: Array<{ args: Record<string, unknown> }>) => JSON.stringify(calls.map((c) => c.args));

function expectInert(text: string): void {
  expect(text).not.toContain('<!channel>');
  expect(text).not.toContain('<https://evil.example');
  expect(text).not.toContain('<@U0BOSS001>');
  expect(text).toContain('&lt;!channel&gt;');
}

describe('text people and databases write is escaped on its way to Slack', () => {
  it('update text, a break-glass reason and a close reason show as text, in the channel and to stakeholders', async ({
    bot,
  }) => {
    const h = await bot({ announce_channel: 'C0STAKE001', access: { requesters: 'anyone', break_glass: [REQUESTER] } });
    await h.command(`rollback 007 --break-glass "approvers unreachable ${HOSTILE}"`);
    const { incidentId } = await planCard(h);
    await h.command(`update "${HOSTILE}"`);
    await posted(h, 'Status update from');
    await h.command(`close --reason "${HOSTILE}"`);
    await reachesState(h, incidentId, 'cancelled');
    await posted(h, 'cancelled');
    const slackText = everything([...h.slack.callsTo('chat.postMessage'), ...h.slack.callsTo('chat.update')]);
    expect(slackText).toContain('evil.example');
    expectInert(slackText);
  });

  it('a PostgreSQL error message in a failed step is text in the failure message', async ({ bot }) => {
    const h = await bot();
    // The down of 007 drops tables; a trigger that raises with hostile text makes it fail.
    await query(
      h.ticketDb.url,
      `CREATE FUNCTION refuse_drop() RETURNS event_trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION '${HOSTILE.replace(/'/g, "''")}'; END $$;
       CREATE EVENT TRIGGER no_drops ON sql_drop EXECUTE FUNCTION refuse_drop();`,
    );
    try {
      await h.command('rollback 007');
      const { incidentId } = await planCard(h);
      await posted(h, 'Snapshot saved');
      await h.press('incident_approve', incidentId, APPROVERS[0]);
      await h.press('incident_approve', incidentId, APPROVERS[1]);
      await reachesState(h, incidentId, 'failed', 30_000);
      const failure = await posted(h, 'Rollback failed');
      expect(JSON.stringify(failure.args)).toContain('evil.example');
      expectInert(everything(h.slack.callsTo('chat.postMessage')));
    } finally {
      await query(h.ticketDb.url, 'DROP EVENT TRIGGER IF EXISTS no_drops');
    }
  });
});
