/**
 * services.yaml `access:` end to end through signed HTTP and the Slack stand-in, against the real
 * PostgreSQL and Redis: who may open incidents, read, and break glass. Every refusal leaves no
 * incident row, no channel, no queued job and no snapshot file, says who may, and is counted.
 */
import { readdir } from 'node:fs/promises';
import { describe, expect } from 'vitest';
import { APPROVERS, type Harness, OUTSIDER, REQUESTER } from '../support/bot-harness.js';
import { it } from '../support/bot-test.js';
import { eventually, planCard, query } from '../support/bot-waits.js';

const ONCALL_GROUP = 'S0ONCALL1';
const ONCALL_MEMBER = 'U0ONCALL2';
const LEAD = 'U0SRELEAD';

const RULES = {
  access: { requesters: [REQUESTER, ONCALL_GROUP, LEAD], readers: [REQUESTER, ...APPROVERS], break_glass: [LEAD] },
};

async function answer(h: Harness, text: string, user: string): Promise<string> {
  const { key } = await h.command(text, user);
  const res = await h.slack.waitForResponse((r) => r.key === key, 15_000);
  expect(res.body.response_type).toBe('ephemeral');
  return String(res.body.text);
}

/** The whole ephemeral answer (text and blocks) as JSON. */
async function answerJson(h: Harness, text: string, user: string): Promise<string> {
  const { key } = await h.command(text, user);
  return JSON.stringify((await h.slack.waitForResponse((r) => r.key === key, 15_000)).body);
}

async function metric(h: Harness, command: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${h.bot.opsPort}/metrics`);
  const line = (await res.text())
    .split('\n')
    .find((l) => l.startsWith(`migrate_bot_access_refusals_total{command="${command}",surface="slack"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Nothing of an incident exists: no row, no channel, no queued job, no dump. */
async function nothingOpened(h: Harness): Promise<void> {
  expect(await query(h.stateDb.url, 'SELECT id FROM incidents')).toEqual([]);
  expect(h.slack.callsTo('conversations.create')).toHaveLength(0);
  expect(await readdir(h.snapshotDir).catch(() => [])).toEqual([]);
}

describe('access: who may ask, read and break glass (services.yaml access:)', () => {
  it('refuses rollback, restore and snapshot from someone who is not a requester, naming who may; nothing is opened', async ({
    bot,
  }) => {
    const h = await bot(RULES);
    h.slack.setUsergroup(ONCALL_GROUP, [ONCALL_MEMBER]);
    const rollback = await answer(h, 'rollback 007', OUTSIDER);
    expect(rollback).toContain('You may not run `/migrate rollback` on *ticket-service*.');
    expect(rollback).toContain(`Who may: <@${REQUESTER}>, <!subteam^${ONCALL_GROUP}>, <@${LEAD}>.`);
    expect(rollback).toContain('Nothing was opened or recorded.');
    expect(await answer(h, 'snapshot', OUTSIDER)).toContain('You may not run `/migrate snapshot`');
    expect(await answer(h, 'restore pre-rollback-ticket-service-20261121-030000', OUTSIDER)).toContain(
      'You may not run `/migrate restore`',
    );
    await nothingOpened(h);
    expect(await metric(h, 'rollback')).toBe(1);
    expect(await metric(h, 'snapshot')).toBe(1);
    expect(await metric(h, 'restore')).toBe(1);
  });

  it('lets a member of a requester user group open an incident', async ({ bot }) => {
    const h = await bot(RULES);
    h.slack.setUsergroup(ONCALL_GROUP, [ONCALL_MEMBER]);
    await h.command('rollback 007', ONCALL_MEMBER);
    const { incidentId } = await planCard(h);
    expect(await query(h.stateDb.url, 'SELECT requested_by FROM incidents WHERE id = $1', [incidentId])).toEqual([
      { requested_by: ONCALL_MEMBER },
    ]);
  });

  it('help and the plan card say so when anyone may open incidents; listed requesters are not announced', async ({
    bot,
  }) => {
    const open = await bot({ access: { requesters: 'anyone' } });
    expect(await answerJson(open, 'help', OUTSIDER)).toContain(
      'Anyone in the workspace may open incidents on *ticket-service* (`access.requesters: anyone`)',
    );
    await open.command('rollback 007');
    await planCard(open);
    expect(JSON.stringify(open.slack.callsTo('chat.postMessage').map((c) => c.args))).toContain(
      'anyone in the workspace may open incidents on this service',
    );
    const closed = await bot(RULES);
    expect(await answerJson(closed, 'help', OUTSIDER)).not.toContain('Anyone in the workspace may open incidents');
  });

  it('opens a private incident channel when access.private is set', async ({ bot }) => {
    const h = await bot({ access: { requesters: 'anyone', private: true } });
    await h.command('rollback 007');
    await planCard(h);
    const created = h.slack.callsTo('conversations.create');
    expect(created).toHaveLength(1);
    expect(String(created[0]!.args.is_private)).toBe('true'); // the Web API sends form fields as text
  });

  it('refuses triage, status, timeline and verify to someone who is not a reader', async ({ bot }) => {
    const h = await bot(RULES);
    for (const cmd of ['triage', 'status --service ticket-service', 'timeline', 'verify']) {
      const text = await answer(h, cmd, ONCALL_MEMBER);
      expect(text, cmd).toContain(`You may not run \`/migrate ${cmd.split(' ')[0]}\` on *ticket-service*.`);
      expect(text, cmd).not.toContain('Migration history');
    }
    expect(await answer(h, 'status', REQUESTER)).toContain('ticket-service');
  });

  it('break glass needs a name in access.break_glass: a requester outside it is refused with the line to add', async ({
    bot,
  }) => {
    const h = await bot(RULES);
    const refused = await answer(
      h,
      'rollback 007 --break-glass "both approvers are on a plane, customers are down"',
      REQUESTER,
    );
    expect(refused).toContain('You may not use `--break-glass` on *ticket-service*.');
    expect(refused).toContain(`Who may: <@${LEAD}>.`);
    expect(refused).toContain('list them under `access.break_glass` in services.yaml');
    await nothingOpened(h);
    expect(await metric(h, 'rollback')).toBe(1);

    await h.command('rollback 007 --break-glass "both approvers are on a plane, customers are down"', LEAD);
    await eventually('the break-glass incident', async () => {
      const rows = await query<{ break_glass: unknown }>(h.stateDb.url, 'SELECT break_glass FROM incidents');
      return rows.length === 1 && rows[0]!.break_glass !== null;
    });
  });

  it('without access.break_glass nobody may break glass', async ({ bot }) => {
    const h = await bot({ access: { requesters: 'anyone' } });
    const refused = await answer(
      h,
      'rollback 007 --break-glass "both approvers are on a plane, customers are down"',
      REQUESTER,
    );
    expect(refused).toContain('Who may: nobody (no `access.break_glass` in services.yaml).');
    await nothingOpened(h);
  });
});

describe('per-user rate limits (access.rate_limits)', () => {
  it('refuses a user past their limits, saying which and when to try again; other users are not affected', async ({
    bot,
  }) => {
    const h = await bot({
      access: { requesters: 'anyone', rate_limits: { incidents_per_hour: 2, commands_per_minute: 5 } },
    });
    for (let i = 0; i < 5; i++) expect(await answer(h, 'status', OUTSIDER)).not.toContain('You have reached');
    const sixth = await answer(h, 'status', OUTSIDER);
    expect(sixth).toMatch(
      /You have reached 5 commands a minute \(`access\.rate_limits\.commands_per_minute` in services\.yaml\)\. Try again in \d+ s\. Nothing was done\./,
    );
    expect(await answer(h, 'status', REQUESTER)).not.toContain('You have reached');

    expect(await answer(h, 'snapshot', REQUESTER)).toContain('Taking snapshot');
    expect(await answer(h, 'snapshot', REQUESTER)).toContain('Taking snapshot');
    const third = await answer(h, 'snapshot', REQUESTER);
    expect(third).toContain('You have reached 2 incident-opening commands an hour');
    const text = await (await fetch(`http://127.0.0.1:${h.bot.opsPort}/metrics`)).text();
    expect(text).toContain('migrate_bot_rate_limited_total{command="status",limit="commands_per_minute"} 1');
    expect(text).toContain('migrate_bot_rate_limited_total{command="snapshot",limit="incidents_per_hour"} 1');
  });
});
