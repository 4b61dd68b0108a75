import { describe, expect } from 'vitest';
import { it } from '../support/bot-test.js';
import { query } from '../support/e2e-helpers.js';

/**
 * A burst of commands for one service against a state-database pool of 2 connections: no code
 * path may hold a connection while waiting for another, or the pool deadlocks and nothing that
 * reads the state database answers again.
 */
describe('a burst of commands against a small state-database pool', () => {
  it('answers all 50 concurrent /migrate rollback commands, opens one incident, and /migrate status still answers', async ({
    bot,
  }) => {
    const h = await bot({}, { env: { STATE_DB_POOL_MAX: '2', STATE_DB_LOCK_POOL_MAX: '1' } });
    const harness = h;
    const sent = await Promise.all(
      Array.from({ length: 50 }, (_, i) => harness.command('rollback 007', `U0BURST${String(i).padStart(2, '0')}`)),
    );
    expect(sent.every((s) => s.status === 200)).toBe(true);
    const answers = await Promise.all(sent.map((s) => harness.slack.waitForResponse((r) => r.key === s.key, 30_000)));
    const texts = answers.map((a) => String(a.body.text));
    const opened = texts.filter((t) => t.startsWith('Opening incident'));
    const refused = texts.filter((t) => /already (open|being opened)/.test(t));
    expect(opened).toHaveLength(1);
    expect(
      opened.length + refused.length,
      texts.filter((t) => !opened.includes(t) && !refused.includes(t)).join('\n'),
    ).toBe(50);
    expect(await query(h.stateDb.url, 'SELECT 1 FROM incidents')).toHaveLength(1);
    const [incident] = await query<{ id: string }>(h.stateDb.url, 'SELECT id FROM incidents');

    // A refusal while the channel is still being made names the incident, and the link follows on the same response_url.
    const beingOpened = sent.filter((_, i) => /already being opened/.test(texts[i]!));
    for (const text of texts) {
      if (/already being opened/.test(text)) expect(text).toContain(`incident \`${incident!.id.slice(0, 8)}\``);
      else if (refused.includes(text)) expect(text).toMatch(/already open in <#C/);
    }
    await h.slack.waitForCall('conversations.create', (c) => c.ok, 30_000);
    const channelId = h.slack.channels.find((c) => c.name.startsWith('incident-db-migration-'))!.id;
    for (const s of beingOpened) {
      const link = await h.slack.waitForResponse((r) => r.key === s.key && String(r.body.text).includes('<#'), 30_000);
      expect(String(link.body.text)).toContain(`<#${channelId}>`);
    }

    const status = await h.command('status');
    const reply = await h.slack.waitForResponse((r) => r.key === status.key, 15_000);
    expect(String(JSON.stringify(reply.body))).toContain('ticket-service');
    expect(String(JSON.stringify(reply.body))).toMatch(/incident `[0-9a-f]{8}`/);
  });
});
