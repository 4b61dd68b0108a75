import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect } from 'vitest';
import { it } from '../support/bot-test.js';
import { APPROVERS, OUTSIDER, REQUESTER, type Harness } from '../support/bot-harness.js';
import {
  updated,
  channelTexts,
  eventually,
  incidentRow,
  planCard,
  posted,
  query,
  reachesState,
  textOf,
} from '../support/e2e-helpers.js';
import { TABLES_OF_007, TICKET_MIGRATIONS_DIR } from '../support/ticket-service.js';
import { TOOL_FIXTURES } from '../support/tool-fixtures.js';

const THIRD = 'U0DBA001';
const existing = async (h: Harness, tables: string[]): Promise<string[]> =>
  (
    await query<{ t: string }>(
      h.ticketDb.url,
      'SELECT relname AS t FROM pg_class WHERE relname = ANY($1) AND relkind = $2 ORDER BY 1',
      [tables, 'r'],
    )
  ).map((r) => r.t);
const applied = async (h: Harness): Promise<string[]> =>
  (await query<{ name: string }>(h.ticketDb.url, 'SELECT name FROM knex_migrations ORDER BY id')).map((r) => r.name);
const approvalsOf = async (h: Harness, incidentId: string): Promise<string[]> =>
  (
    await query<{ user_id: string }>(
      h.stateDb.url,
      'SELECT user_id FROM approvals WHERE incident_id = $1 ORDER BY created_at',
      [incidentId],
    )
  ).map((r) => r.user_id);
const buttons = (call: { args: Record<string, unknown> }): string[] =>
  (call.args.blocks as Array<{ type: string; elements?: Array<{ action_id?: string }> }>).flatMap((b) =>
    b.type === 'actions' ? (b.elements ?? []).map((e) => e.action_id ?? '') : [],
  );

describe('risk on the plan card, approval tiers, plans bound to their digest, break glass', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('a destructive plan shows its figures and needs the extra approver, each confirming in a modal', async ({
    bot,
  }) => {
    // Without the archive (test/e2e/archive.test.ts has it): the data really is lost, so the restore is advised.
    const h = await bot({
      archive: 'off',
      approvals: { required: 2, destructive: 3, approvers: [...APPROVERS, THIRD] },
    });
    await query(
      h.ticketDb.url,
      'INSERT INTO failed_login_attempts (user_id) SELECT gen_random_uuid() FROM generate_series(1, 1000)',
    );
    const before = await applied(h);
    await h.command('rollback 007');
    const card = await posted(h, '"action_id":"incident_approve"');
    expect(textOf(card)).toContain(':warning: drops table failed_login_attempts — 1,000 rows lost');
    expect(textOf(card)).toContain(':warning: drops table user_spending_limits — 0 rows lost');
    expect(textOf(card)).toContain('Runbook 003 (Option B)');
    expect(buttons(card)).toEqual([
      'incident_restore_instead',
      'incident_approve',
      'incident_reject',
      'incident_rehearse',
    ]);
    expect(textOf(card)).toMatch(/needs 3 approvals \(destructive plan/);
    const { incidentId } = await planCard(h);
    await posted(h, 'Snapshot saved');

    // The press opens the modal with the risk; a wrong name keeps it open and records nothing.
    const first = await h.press('incident_approve', incidentId, APPROVERS[0], { confirm: false });
    expect(first.view).toBeDefined();
    expect(JSON.stringify(first.view!.view.blocks)).toContain('drops table failed_login_attempts — 1,000 rows lost');
    const wrong = await h.submitView(first.view!, APPROVERS[0], 'ticket-servce');
    expect(JSON.parse(wrong.body)).toEqual({
      response_action: 'errors',
      errors: { confirm_service: 'Type ticket-service exactly to approve.' },
    });
    expect(await approvalsOf(h, incidentId)).toEqual([]);
    await h.submitView(first.view!, APPROVERS[0], 'ticket-service');
    await posted(h, `<@${APPROVERS[0]}> approved (1 of 3). Typed \`ticket-service\``);

    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await posted(h, '(2 of 3)');
    expect(await applied(h)).toEqual(before); // two of three change nothing
    expect(await existing(h, TABLES_OF_007)).toHaveLength(3);

    await h.press('incident_approve', incidentId, THIRD);
    await posted(h, 'Rollback complete.', 30_000);
    expect(await existing(h, TABLES_OF_007)).toEqual([]);
    const events = await query<{ data: { destructive: boolean } }>(
      h.stateDb.url,
      "SELECT data FROM incident_events WHERE incident_id = $1 AND type = 'risk_assessed'",
      [incidentId],
    );
    expect(events[0]!.data.destructive).toBe(true);
  });

  it('a plan changed after approval (a migration file edited) does not run, says what changed, and runs only with new approvals', async ({
    bot,
  }) => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mb-digest-'));
    await cp(TICKET_MIGRATIONS_DIR, dir, { recursive: true });
    const h = await bot({ migrations: { tool: 'knex', directory: dir } });
    const before = await applied(h);
    await h.command('rollback 007');
    const { incidentId, channel } = await planCard(h);
    await posted(h, 'Snapshot saved');
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await posted(h, '(1 of 2)');
    const staleValue = (
      await query<{ basis: { digest: string } }>(h.stateDb.url, 'SELECT basis FROM incidents WHERE id = $1', [
        incidentId,
      ])
    )[0]!.basis.digest;

    // Someone edits 007's down between the approvals and the job: it now keeps user_spending_limits.
    const file = path.join(dir, '007_add_security_tables.ts');
    await writeFile(
      file,
      (await readFile(file, 'utf8')).replace("  await knex.raw('DROP TABLE IF EXISTS user_spending_limits');\n", ''),
    );
    await h.press('incident_approve', incidentId, APPROVERS[1]);

    const told = await posted(h, 'The plan changed after it was approved', 30_000);
    expect(textOf(told)).toContain('the file of `007_add_security_tables.ts` was edited');
    await h.slack.waitForCall('chat.update', (c) => textOf(c).includes('Superseded plan'));
    expect(await applied(h)).toEqual(before);
    expect(await existing(h, TABLES_OF_007)).toHaveLength(3);
    expect(await approvalsOf(h, incidentId)).toEqual([]);
    expect((await incidentRow(h, incidentId)).state).toBe('awaiting_approval');

    // A new card with the new SQL; the old card's button is answered "superseded".
    const fresh = await eventually('the new plan card', async () => {
      const cards = h.slack
        .messages(channel)
        .filter((m) => JSON.stringify(m.blocks).includes('"action_id":"incident_approve"'));
      return cards.find((m) => !JSON.stringify(m.blocks).includes(staleValue.slice(0, 12))) ?? null;
    });
    expect(JSON.stringify(fresh.blocks)).not.toContain('DROP TABLE IF EXISTS user_spending_limits');
    expect(h.slack.messages(channel).filter((m) => JSON.stringify(m.blocks).includes('Superseded plan'))).toHaveLength(
      1,
    );
    const stale = await h.press('incident_approve', incidentId, APPROVERS[0], {
      value: `${incidentId}:${staleValue.slice(0, 12)}`,
    });
    expect(String((await h.slack.waitForResponse((r) => r.key === stale.key)).body.text)).toMatch(
      /This plan was superseded/,
    );
    expect(await approvalsOf(h, incidentId)).toEqual([]);

    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    // The edited down is what ran; it leaves a table 007's up created, and verification says so.
    await posted(h, 'Rollback complete, but validation FAILED', 30_000);
    const details = await posted(h, 'Resolution details');
    expect(textOf(details)).toContain(
      'table `user_spending_limits` still exists: the up of `007_add_security_tables.ts` created it',
    );
    expect(await existing(h, TABLES_OF_007)).toEqual(['user_spending_limits']);
    const superseded = await query<{ data: { changes: string[] } }>(
      h.stateDb.url,
      "SELECT data FROM incident_events WHERE incident_id = $1 AND type = 'plan_superseded'",
      [incidentId],
    );
    expect(superseded[0]!.data.changes).toContain('the file of `007_add_security_tables.ts` was edited');
  });

  it('an irreversible step gets no approval buttons and offers restore; break glass is refused for it', async ({
    bot,
  }) => {
    const fixture = TOOL_FIXTURES.find((f) => f.migrations.tool === 'node-pg-migrate')!;
    const h = await bot({ access: { requesters: 'anyone', break_glass: [REQUESTER] } }, { fixture });
    const refused = await h.command('rollback 1731000000100 --break-glass "approvers unreachable, checkout is down"');
    expect(String((await h.slack.waitForResponse((r) => r.key === refused.key)).body.text)).toMatch(
      /Break glass is never allowed for an irreversible step: `1731000000100_create-events` is irreversible: it exports `down = false`/,
    );
    expect(await query(h.stateDb.url, 'SELECT 1 FROM incidents')).toHaveLength(0);

    await h.command('rollback 1731000000100');
    const card = await posted(h, '"action_id":"incident_restore_instead"');
    expect(textOf(card)).toContain(
      'This plan cannot be approved:* `1731000000100_create-events` is irreversible: it exports `down = false`',
    );
    expect(buttons(card)).toEqual(['incident_restore_instead', 'incident_reject', 'incident_rehearse']);
    // The schema check computed a plan from the live schema: the redrawn card offers it beside the restore.
    const redrawn = await updated(h, '"action_id":"incident_use_computed"');
    expect(buttons(redrawn)).toEqual([
      'incident_restore_instead',
      'incident_reject',
      'incident_use_computed',
      'incident_rehearse',
    ]);
    expect(textOf(redrawn)).toContain('A computed plan is available because `1731000000100_create-events` has no down');
    const incidentId = (card.args.blocks as Array<{ elements?: Array<{ action_id?: string; value?: string }> }>)
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === 'incident_restore_instead')!.value!;
    const press = await h.press('incident_approve', incidentId, APPROVERS[0], { value: incidentId });
    expect(String((await h.slack.waitForResponse((r) => r.key === press.key)).body.text)).toMatch(
      /This plan cannot be approved/,
    );
    expect(await approvalsOf(h, incidentId)).toEqual([]);

    // Restore instead: the rollback incident ends, a restore incident opens on the same snapshot.
    await posted(h, 'Snapshot saved');
    const outsider = await h.press('incident_restore_instead', incidentId, OUTSIDER);
    expect(String((await h.slack.waitForResponse((r) => r.key === outsider.key)).body.text)).toMatch(
      /Only the requester or an approver/,
    );
    await h.press('incident_restore_instead', incidentId, APPROVERS[0]);
    await reachesState(h, incidentId, 'cancelled');
    await posted(h, 'Restore plan — ticket-service');
    const [restore] = await query<{ kind: string; restore: { snapshotId: string } }>(
      h.stateDb.url,
      "SELECT kind, restore FROM incidents WHERE kind = 'restore'",
    );
    expect(restore!.restore.snapshotId).toMatch(/^pre-rollback-ticket-service-/);
    expect(await fixture.trackedNames(h.ticketDb.url)).toEqual(fixture.applied);
  });

  it('break glass runs with one approver, is announced in the channel and to stakeholders, and is logged', async ({
    bot,
  }) => {
    const h = await bot({ announce_channel: 'C0STAKE001', access: { requesters: 'anyone', break_glass: [REQUESTER] } });
    h.slack.addChannel({ id: 'C0STAKE001', name: 'stakeholders' });
    const short = await h.command('rollback 007 --break-glass "asleep"');
    expect(String((await h.slack.waitForResponse((r) => r.key === short.key)).body.text)).toMatch(
      /at least 20 characters/,
    );
    expect(await query(h.stateDb.url, 'SELECT 1 FROM incidents')).toHaveLength(0);

    await h.command('rollback 007 --break-glass "both approvers unreachable, payments failing"');
    const card = await posted(h, '"action_id":"incident_approve"');
    expect(textOf(card)).toContain('*BREAK GLASS* invoked by');
    expect(textOf(card)).toContain('needs 1 approvals');
    const announced = await h.slack.waitForCall(
      'chat.postMessage',
      (c) => c.args.channel === 'C0STAKE001' && textOf(c).includes('BREAK GLASS'),
    );
    expect(textOf(announced)).toMatch(/BREAK GLASS.*both approvers unreachable, payments failing.*follow it in <#C/);
    const { incidentId, channel } = await planCard(h);
    expect(channelTexts(h, channel).some((t) => t.includes(':rotating_light: *BREAK GLASS*'))).toBe(true);
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await posted(h, 'Rollback complete.', 30_000);
    expect(await existing(h, TABLES_OF_007)).toEqual([]);
    const [event] = await query<{ actor: string; data: { reason: string } }>(
      h.stateDb.url,
      "SELECT actor, data FROM incident_events WHERE incident_id = $1 AND type = 'break_glass'",
      [incidentId],
    );
    expect(event!.data.reason).toBe('both approvers unreachable, payments failing');
  });

  it('user-group approvers are read once when the incident opens: a member added later cannot approve until an approver refreshes them', async ({
    bot,
  }) => {
    const h = await bot({ approvals: { required: 2, destructive: 2, approvers: [APPROVERS[0], 'S0ONCALL1'] } });
    h.slack.setUsergroup('S0ONCALL1', ['U0ONCALL1']);
    await h.command('rollback 007');
    const { incidentId } = await planCard(h);
    expect(textOf(await posted(h, '"action_id":"incident_approve"'))).toContain('(approvers as of <!date^');
    const invite = await h.slack.waitForCall('conversations.invite');
    expect(String(invite.args.users).split(',')).toContain('U0ONCALL1');
    // Someone who may edit the group adds themself after the incident opened: that makes nobody an approver of it.
    h.slack.setUsergroup('S0ONCALL1', ['U0ONCALL2']);
    const late = await h.press('incident_approve', incidentId, 'U0ONCALL2');
    expect(String((await h.slack.waitForResponse((r) => r.key === late.key)).body.text)).toMatch(/not an approver/);
    await h.press('incident_approve', incidentId, 'U0ONCALL1');
    await posted(h, '<@U0ONCALL1> approved (1 of 2)');

    // Only an approver may have them read again; then the rota change applies, and the channel says who changed.
    const outsider = await h.command('refresh-approvers', 'U0ONCALL2');
    expect(String((await h.slack.waitForResponse((r) => r.key === outsider.key)).body.text)).toContain(
      'Only an approver of this incident can refresh its approvers',
    );
    const refresh = await h.command('refresh-approvers', APPROVERS[0]);
    expect(String((await h.slack.waitForResponse((r) => r.key === refresh.key)).body.text)).toMatch(
      /read again: 1 added, 1 removed/,
    );
    await posted(h, 'had the approvers read again');
    await h.press('incident_approve', incidentId, 'U0ONCALL2');
    await posted(h, 'Approved by <@U0ONCALL1> and <@U0ONCALL2>');
    expect(await approvalsOf(h, incidentId)).toEqual(['U0ONCALL1', 'U0ONCALL2']);
    const events = await query<{ type: string; actor: string }>(
      h.stateDb.url,
      "SELECT type, actor FROM incident_events WHERE incident_id = $1 AND type = 'approvers_refreshed'",
      [incidentId],
    );
    expect(events).toEqual([{ type: 'approvers_refreshed', actor: APPROVERS[0] }]);
  });
});
