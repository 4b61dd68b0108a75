import { describe, expect } from 'vitest';
import { APPROVERS, OUTSIDER, REQUESTER, type Harness } from '../support/bot-harness.js';
import { it } from '../support/bot-test.js';
import { TABLES_OF_007 } from '../support/ticket-service.js';
import { planCard, posted, query, textOf } from '../support/e2e-helpers.js';

const appliedNames = async (h: Harness) =>
  (await query<{ name: string }>(h.ticketDb.url, 'SELECT name FROM knex_migrations ORDER BY id')).map((r) => r.name);
const existingTables = async (h: Harness, tables: string[]) =>
  (
    await query<{ t: string | null }>(h.ticketDb.url, 'SELECT to_regclass(x)::text AS t FROM unnest($1::text[]) AS x', [
      tables,
    ])
  )
    .map((r) => r.t)
    .filter(Boolean);

describe('/migrate rollback end to end (real Postgres, Redis, Bolt over HTTP, Slack stand-in)', () => {
  it('rolls back 007 after two approvals: channel, notices, plan, status update, down migration, resolution', async ({
    bot,
  }) => {
    const h = await bot({ status_update_minutes: 0.02 }); // 1.2 s between status updates
    const before = await appliedNames(h);
    expect(before).toContain('007_add_security_tables.ts');

    const started = Date.now();
    const { status, key } = await h.command('rollback 007');
    expect(status).toBe(200);
    const reply = await h.slack.waitForResponse((r) => r.key === key);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(reply.body.response_type).toBe('ephemeral');

    // Channel #incident-db-migration-<yyyymmdd-hhmm>-<service>-<short id>, opened with one call; requester and approvers invited.
    const create = await h.slack.waitForCall('conversations.create');
    expect(create.args.name).toMatch(/^incident-db-migration-\d{8}-\d{4}-ticket-service-[0-9a-f]{8}$/);
    expect(h.slack.callsTo('conversations.create')).toHaveLength(1);
    const channel = h.slack.channels.find((c) => c.name === create.args.name)!;
    expect(String(reply.body.text)).toMatch(
      /^Opening incident `[0-9a-f]{8}` \(\*SEV3\*\): rollback of `007_add_security_tables.ts`/,
    );
    // Once the channel exists the requester gets its link on the same response_url.
    const link = await h.slack.waitForResponse(
      (r) => r.key === key && String(r.body.text).includes(`<#${channel.id}>`),
    );
    expect(String(link.body.text)).toMatch(/^Incident opened in <#C/);
    const invite = await h.slack.waitForCall('conversations.invite');
    expect(String(invite.args.users).split(',').sort()).toEqual([REQUESTER, ...APPROVERS].sort());

    // Triage verdict (tables in its thread), plan card, snapshot saved; no "initiated" before approval.
    await posted(h, 'Triage of ticket-service');
    const { incidentId } = await planCard(h);
    await posted(h, 'Snapshot saved: `pre-rollback-ticket-service-');

    // Status update from the template, on the short interval.
    await posted(h, 'Status update', 15_000);

    // Requester cannot approve; outsider is refused; a repeat press changes nothing.
    const self = await h.press('incident_approve', incidentId, REQUESTER);
    expect((await h.slack.waitForResponse((r) => r.key === self.key)).body.text).toMatch(/cannot approve/);
    const outsider = await h.press('incident_approve', incidentId, OUTSIDER);
    expect((await h.slack.waitForResponse((r) => r.key === outsider.key)).body.text).toMatch(/not an approver/);
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await posted(h, `<@${APPROVERS[0]}> approved (1 of 2)`);
    const again = await h.press('incident_approve', incidentId, APPROVERS[0]);
    expect((await h.slack.waitForResponse((r) => r.key === again.key)).body.text).toMatch(/already approved/);
    expect(await appliedNames(h)).toEqual(before); // one approval changes nothing

    expect(h.slack.callsTo('chat.postMessage').some((c) => textOf(c).includes('initiated'))).toBe(false);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    // Runbook 003's initial notice, once the rollback starts, with an ETA from the plan.
    const notice = await posted(
      h,
      'Rollback of migration `007_add_security_tables.ts` initiated. Snapshot saved: `pre-rollback-ticket-service-',
    );
    expect(textOf(notice)).toMatch(/ETA: ~1 min\..*about a minute per down migration \(no rehearsal of this plan\)/);
    const resolution = await posted(h, 'Rollback complete.', 30_000);
    // A clean rollback passes every check, the schema fingerprint against a fresh knex migrate up included:
    // a headline top-level, what to watch next, the figures in its thread.
    expect(textOf(resolution)).toMatch(/Rollback complete\. Validation passed: 3 checks\./);
    expect(textOf(resolution)).toContain('Rolled back 1 migration on *ticket-service* in');
    expect(textOf(resolution)).toContain('*Next* (runbook 004)');
    expect(resolution.args.thread_ts).toBeUndefined();
    const details = await posted(h, 'Schema fingerprint against a fresh migrate up');
    expect(details.args.thread_ts).toBeTruthy(); // a reply under the headline
    expect(textOf(details)).toMatch(
      /Schema fingerprint against a fresh migrate up \(runbook 001 postflight\)\* — \d+ schema objects compared with a fresh migrate up through 6 migration\(s\): identical; reference built before approval/,
    );

    // The down migration ran: 007's tables are gone and the tracking table no longer lists it.
    expect(await existingTables(h, TABLES_OF_007)).toEqual([]);
    expect(await appliedNames(h)).toEqual(before.filter((n) => n !== '007_add_security_tables.ts'));

    // State: resolved, with an append-only event log telling the story.
    const [row] = await query<{ state: string }>(h.stateDb.url, 'SELECT state FROM incidents WHERE id = $1', [
      incidentId,
    ]);
    expect(row!.state).toBe('resolved');
    const events = (
      await query<{ type: string }>(
        h.stateDb.url,
        'SELECT type FROM incident_events WHERE incident_id = $1 ORDER BY id',
        [incidentId],
      )
    ).map((e) => e.type);
    expect(events).toEqual(
      expect.arrayContaining([
        'opened',
        'channel_created',
        'snapshot_started',
        'snapshot_ready',
        'approval_given',
        'rollback_started',
        'step_done',
        'rollback_succeeded',
      ]),
    );
    // The fingerprint's reference was built while the snapshot was taken, before any approval.
    expect(events.indexOf('expected_schema_built')).toBeGreaterThan(events.indexOf('snapshot_started'));
    expect(events.indexOf('expected_schema_built')).toBeLessThan(events.indexOf('snapshot_ready'));
    await expect(query(h.stateDb.url, 'DELETE FROM incident_events')).rejects.toThrow(/append-only/);

    // The pg_dump snapshot exists and was recorded.
    const [snap] = await query<{ snapshot: { id: string; sha256: string; sizeBytes: number } }>(
      h.stateDb.url,
      'SELECT snapshot FROM incidents WHERE id = $1',
      [incidentId],
    );
    expect(snap!.snapshot.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(snap!.snapshot.sizeBytes).toBeGreaterThan(0);

    // Status updates stop once resolved.
    const count = h.slack.callsTo('chat.postMessage').filter((c) => textOf(c).includes('Status update')).length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(h.slack.callsTo('chat.postMessage').filter((c) => textOf(c).includes('Status update')).length).toBe(count);
  });

  it('loses nothing when the process restarts between two approvals', async ({ bot }) => {
    const h = await bot();
    await h.command('rollback 007');
    const { incidentId } = await planCard(h);
    await posted(h, 'Snapshot saved');
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await posted(h, '(1 of 2)');
    await h.restart();
    const again = await h.press('incident_approve', incidentId, APPROVERS[0]);
    expect((await h.slack.waitForResponse((r) => r.key === again.key)).body.text).toMatch(/already approved/);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await posted(h, 'Rollback complete.', 30_000);
    expect(await existingTables(h, TABLES_OF_007)).toEqual([]);
  });

  it('a rejected incident changes nothing in the service database', async ({ bot }) => {
    const h = await bot();
    const before = await appliedNames(h);
    await h.command('rollback 006 --service ticket-service');
    const { incidentId } = await planCard(h);
    await h.press('incident_reject', incidentId, APPROVERS[0]);
    await posted(h, 'is *cancelled*');
    const [row] = await query<{ state: string }>(h.stateDb.url, 'SELECT state FROM incidents WHERE id = $1', [
      incidentId,
    ]);
    expect(row!.state).toBe('cancelled');
    // Approving after rejection is refused and nothing runs.
    const late = await h.press('incident_approve', incidentId, APPROVERS[1]);
    expect((await h.slack.waitForResponse((r) => r.key === late.key)).body.text).toMatch(/cancelled/);
    expect(await appliedNames(h)).toEqual(before);
    expect(await existingTables(h, TABLES_OF_007)).toHaveLength(3);
  });

  it('refuses bad input with a clear ephemeral answer and records nothing', async ({ bot }) => {
    const h = await bot();
    const cases: Array<[string, RegExp]> = [
      ['rollback 999', /No applied migration matches `999`/],
      ['rollback 007; DROP TABLE x', /Too many arguments/],
      ['rollback ../../etc', /a migration is a version like 007/],
      ['rollback 007 --service nope', /no service `nope`/],
      ['frobnicate', /Unknown command 'frobnicate'/],
    ];
    for (const [text, expected] of cases) {
      const { key } = await h.command(text);
      const res = await h.slack.waitForResponse((r) => r.key === key);
      expect(res.body.response_type, text).toBe('ephemeral');
      expect(String(res.body.text), text).toMatch(expected);
    }
    const bad = await h.command('rollback 007', REQUESTER, { signature: 'bad' });
    expect(bad.status).toBe(401);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.slack.callsTo('conversations.create')).toHaveLength(0);
    expect(await query(h.stateDb.url, 'SELECT 1 FROM incidents')).toHaveLength(0);
    expect(await appliedNames(h)).toContain('007_add_security_tables.ts');
  });

  it('points a second rollback of the same service to the open incident', async ({ bot }) => {
    const h = await bot();
    await h.command('rollback 007');
    const { channel } = await planCard(h);
    const { key } = await h.command('rollback 006');
    const res = await h.slack.waitForResponse((r) => r.key === key);
    expect(String(res.body.text)).toContain(`already open in <#${channel}>`);
    expect(h.slack.callsTo('conversations.create')).toHaveLength(1);
  });

  it('opens the incident and says so when the service database is unreachable; nothing runs', async ({ bot }) => {
    const h = await bot({}, { ticketDatabaseUrl: 'postgres://postgres:hunter2secret@127.0.0.1:1/ticket' });
    const { key } = await h.command('rollback 007');
    const res = await h.slack.waitForResponse((r) => r.key === key, 20_000);
    expect(String(res.body.text)).toMatch(/could not proceed: The database of \*ticket-service\* is unreachable/);
    expect(String(res.body.text)).not.toContain('hunter2secret');
    await h.slack.waitForResponse((r) => r.key === key && /Incident opened in <#C/.test(String(r.body.text)), 20_000);
    const failure = await posted(h, 'unreachable');
    expect(textOf(failure)).not.toContain('hunter2secret');
    const [row] = await query<{ state: string }>(h.stateDb.url, 'SELECT state FROM incidents');
    expect(row!.state).toBe('failed');
    // No secret ever reached Slack.
    expect(JSON.stringify(h.slack.calls)).not.toContain('hunter2secret');
  });
});
