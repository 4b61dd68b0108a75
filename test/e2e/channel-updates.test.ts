import { describe, expect } from 'vitest';
import { APPROVERS, REQUESTER, type Harness } from '../support/bot-harness.js';
import { it } from '../support/bot-test.js';
import { eventually, planCard, posted, query, textOf } from '../support/e2e-helpers.js';

const STAKEHOLDERS = 'C0STAKE001';
const responseText = async (h: Harness, key: string): Promise<string> =>
  String((await h.slack.waitForResponse((r) => r.key === key)).body.text);
const announced = (h: Harness): string[] => h.slack.messages(STAKEHOLDERS).map((m) => m.text);

describe("stakeholders, responders' updates, the resolution's ticket and artifacts, the timeline", () => {
  it('/migrate update suppresses the next scheduled status update; the one after is posted', async ({ bot }) => {
    const h = await bot({ status_update_minutes: 0.03 }); // 1.8 s between status updates
    await h.command('rollback 007');
    const { incidentId } = await planCard(h);
    await posted(h, 'Status update', 15_000);
    const update = await h.command('update "waiting for the second approver"', REQUESTER);
    expect(await responseText(h, update.key)).toMatch(/the next scheduled status update is skipped/);
    const skipped = await eventually(
      'a skipped tick',
      async () =>
        (
          await query<{ at: Date }>(
            h.stateDb.url,
            "SELECT at FROM incident_events WHERE incident_id = $1 AND type = 'status_update_skipped'",
            [incidentId],
          )
        )[0] ?? null,
      15_000,
    );
    const human = (
      await query<{ at: Date }>(
        h.stateDb.url,
        "SELECT at FROM incident_events WHERE incident_id = $1 AND type = 'human_update'",
        [incidentId],
      )
    )[0]!;
    // No scheduled update between the human one and the skipped tick; the next tick posts again.
    const between = await query(
      h.stateDb.url,
      "SELECT 1 FROM incident_events WHERE incident_id = $1 AND type = 'status_update_posted' AND at > $2 AND at < $3",
      [incidentId, human.at, skipped.at],
    );
    expect(between).toHaveLength(0);
    await eventually(
      'the next scheduled update',
      async () =>
        (
          await query(
            h.stateDb.url,
            "SELECT 1 FROM incident_events WHERE incident_id = $1 AND type = 'status_update_posted' AND at > $2",
            [incidentId, skipped.at],
          )
        ).length > 0
          ? true
          : null,
      15_000,
    );
  });

  it('archives the channel archive_after_minutes after the incident ended, and not before', async ({ bot }) => {
    const h = await bot({ archive_after_minutes: 0.05 }); // 3 s
    await h.command('rollback 007');
    const { incidentId, channel } = await planCard(h);
    await posted(h, 'Snapshot saved');
    expect(h.slack.channels.find((c) => c.id === channel)!.is_archived).toBe(false);
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await posted(h, 'Rollback complete. Validation passed', 30_000);
    const endedAt = Date.now();
    await h.slack.waitForCall('conversations.archive', (c) => c.args.channel === channel && c.ok, 20_000);
    expect(Date.now() - endedAt).toBeGreaterThanOrEqual(2000);
    expect(h.slack.channels.find((c) => c.id === channel)!.is_archived).toBe(true);
    expect(h.slack.messages(channel).some((m) => m.text.startsWith(':file_cabinet: Archiving this channel'))).toBe(
      true,
    );
    const events = (
      await query<{ type: string }>(h.stateDb.url, 'SELECT type FROM incident_events WHERE incident_id = $1', [
        incidentId,
      ])
    ).map((e) => e.type);
    expect(events).toContain('channel_archived');
  });

  it('tells the stakeholder channel each status change, posts /migrate update, links the ticket, uploads the timeline', async ({
    bot,
  }) => {
    const h = await bot({
      announce_channel: STAKEHOLDERS,
      ticket_url: 'https://tickets.example.com/browse/{service}/{short_id}',
    });
    h.slack.addChannel({ id: STAKEHOLDERS, name: 'db-stakeholders' });
    await h.command('rollback 007');
    const { incidentId, channel } = await planCard(h);
    await posted(h, 'Snapshot saved');
    await eventually(
      'the opening line for stakeholders',
      async () => announced(h).find((t) => t.includes('opened by <@U0REQ001>')) ?? null,
    );
    expect(announced(h)[0]).toContain(`follow it in <#${channel}>`);

    const update = await h.command('update "checkout errors since 03:05; approvers are on it"', REQUESTER);
    expect(await responseText(h, update.key)).toMatch(/^Update posted in <#C/);
    await posted(h, ':speech_balloon: *Status update from');
    const bad = await h.command('update x', 'U0RAND01');
    expect(await responseText(h, bad.key)).toMatch(/an update needs a few words/);
    const outsider = await h.command('update "I am not part of this incident"', 'U0RAND01');
    expect(await responseText(h, outsider.key)).toMatch(/Only the requester, an approver or an invited responder/);

    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    const resolution = await posted(h, 'Rollback complete. Validation passed', 30_000);
    const short = incidentId.replace(/-/g, '').slice(0, 8);
    expect(resolution.args.thread_ts).toBeUndefined();
    const details = await posted(h, 'Resolution details');
    expect(textOf(details)).toContain(
      `Incident ticket: <https://tickets.example.com/browse/ticket-service/${short}|${short}>`,
    );
    expect(textOf(details)).toMatch(
      /Snapshot `pre-rollback-ticket-service-[0-9-]+` \(pg_dump\) available · plan `[0-9a-f]{12}`/,
    );

    const file = await eventually(
      'the timeline file',
      async () =>
        // Complete: uploaded, then files.completeUploadExternal shared it (a file is uploaded before it is shared).
        h.slack.uploadedFiles.find((f) => f.filename === `incident-${short}-timeline.md` && f.content && f.completed) ??
        null,
    );
    expect(file.channel_id).toBe(channel);
    expect(file.content).toContain('## Timeline (UTC)');
    expect(file.content).toMatch(/\| U0SRE001 \| approved \|/);
    expect(file.content).toMatch(/down migration of `007_add_security_tables.ts` done in \d+ ms/);
    expect(file.content).toContain('update: checkout errors since 03:05; approvers are on it');
    expect(file.content).toContain('| objects | passed |');
    expect(file.content).toContain('## Postmortem draft (runbook 003 "Post-incident")');
    expect(file.content).toContain(`- Ticket: https://tickets.example.com/browse/ticket-service/${short}`);

    await eventually('stakeholders told of the start and the resolution', async () =>
      announced(h).some((t) => t.includes('approved; running 1 down migration(s)')) &&
      announced(h).some((t) => t.includes('rollback complete. Validation passed.'))
        ? true
        : null,
    );
    expect(announced(h).some((t) => t.includes('update from <@U0REQ001>: checkout errors'))).toBe(true);
    // Exactly the opening, the responder's update, the start and the resolution, each once; nothing else.
    expect(announced(h).map((t) => t.replace(/ — follow it in <#C\w+>$/, '').replace(/`[^`]*`/g, '`…`'))).toEqual([
      '*ticket-service* — rollback of `…`: :large_blue_circle: opened by <@U0REQ001>: 1 down migration(s) to roll back, awaiting approval.',
      '*ticket-service* — rollback of `…`: :speech_balloon: update from <@U0REQ001>: checkout errors since 03:05; approvers are on it',
      '*ticket-service* — rollback of `…`: :arrow_backward: approved; running 1 down migration(s).',
      '*ticket-service* — rollback of `…`: :white_check_mark: rollback complete. Validation passed.',
    ]);

    const again = await h.command('timeline');
    expect(await responseText(h, again.key)).toMatch(
      new RegExp(`^Timeline and postmortem draft of incident \`${short}\` posted in <#${channel}>`),
    );
    await eventually('a second timeline file', async () =>
      h.slack.uploadedFiles.filter((f) => f.filename === `incident-${short}-timeline.md`).length === 2 ? true : null,
    );
    const events = (
      await query<{ type: string }>(h.stateDb.url, 'SELECT type FROM incident_events WHERE incident_id = $1', [
        incidentId,
      ])
    ).map((e) => e.type);
    expect(events).toContain('human_update');
  });
});
