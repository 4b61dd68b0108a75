import { afterEach, beforeEach, describe, expect } from 'vitest';
import { APPROVERS, REQUESTER } from '../support/bot-harness.js';
import { it } from '../support/bot-test.js';
import { channelTexts, eventually, planCard, posted, query, reachesState } from '../support/e2e-helpers.js';
import { startProviderStandIns, type ProviderStandIns } from '../support/incident-providers.js';

const ROUTING_KEY = 'R0UTINGKEY0123456789abcdefABCDEF';
const JIRA_TOKEN = 'oncall@example.com:jira-api-token-0123456789';
const JIRA_AUTH = `Basic ${Buffer.from(JIRA_TOKEN).toString('base64')}`;
const STAKEHOLDERS = 'C0STAKE009';

let providers: ProviderStandIns;
beforeEach(async () => {
  providers = await startProviderStandIns(ROUTING_KEY, JIRA_AUTH);
});
afterEach(async () => providers.close());

/** services.yaml overrides: PagerDuty and Jira on the stand-ins; approvals page after `pageAfter` minutes. */
const process = (pageAfter = 60) => ({
  paging: { provider: 'pagerduty', routing_key_env: 'PD_ROUTING_KEY', events_url: `${providers.url}/v2/enqueue` },
  followups: { provider: 'jira', base_url: providers.url, project_key: 'OPS', token_env: 'JIRA_TOKEN' },
  approvals: { required: 2, destructive: 2, approvers: [...APPROVERS], page_after_minutes: pageAfter },
  announce_channel: STAKEHOLDERS,
});
const env = { PD_ROUTING_KEY: ROUTING_KEY, JIRA_TOKEN };

const events = (h: { stateDb: { url: string } }, incidentId: string) =>
  query<{ type: string; data: Record<string, unknown> }>(
    h.stateDb.url,
    'SELECT type, data FROM incident_events WHERE incident_id = $1 ORDER BY id',
    [incidentId],
  );

describe('the incident process: severity, roles, paging, follow-ups, recovery times', () => {
  it('a SEV1 pages on open, pages once more while approvals wait, resolves both pages, and files follow-ups in Jira', async ({
    bot,
  }) => {
    // 0.03 min: the approvals page is due 1.8 s after the plan card.
    const h = await bot(process(0.03), { env });
    h.slack.addChannel({ id: STAKEHOLDERS, name: 'db-stakeholders' });
    await h.command('rollback 007 --sev 1');
    const { incidentId, channel } = await planCard(h);

    // Paged on open: a trigger with the incident as dedup_key, the channel link and the plan digest.
    const opened = await eventually('the trigger on open', async () =>
      providers.pages.find((p) => p.body.dedup_key === incidentId && p.body.event_action === 'trigger'),
    );
    expect(opened.body.routing_key).toBe(ROUTING_KEY);
    const payload = opened.body.payload as {
      summary: string;
      severity: string;
      custom_details: Record<string, string>;
    };
    expect(payload.summary).toMatch(/^SEV1 · Rollback of 007_add_security_tables.ts on ticket-service/);
    expect(payload.severity).toBe('critical');
    expect(payload.custom_details.plan_digest).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(opened.body.links)).toContain(`channel=${channel}`);

    // Approvals wait past page_after_minutes: one page with its own dedup key.
    const waiting = await eventually('the approvals page', async () =>
      providers.pages.find((p) => p.body.dedup_key === `${incidentId}-approvals`),
    );
    expect((waiting.body.payload as { summary: string }).summary).toContain('waits for 2 more approvals');
    await posted(h, 'Paged the on-call through PagerDuty because the plan still waits for approvals');

    // Severity, roles and the announce line.
    await h.command('sev 2 --reason "only the admin pages are affected"');
    await posted(h, 'changed the severity from *SEV1* to *SEV2*');
    await h.command('role comms <@U0OWN001|owner>');
    await posted(h, '<@U0OWN001> is now the comms lead');
    await h.press('incident_take_command', incidentId, APPROVERS[0]);
    await posted(h, '<@U0SRE001> is now the incident commander, taking over from <@U0REQ001>');
    h.slack.removeUser('U0GHOST1');
    const unknown = await h.command('role comms <@U0GHOST1|ghost>');
    const refused = await h.slack.waitForResponse((r) => r.key === unknown.key);
    expect(String(refused.body.text)).toMatch(/not an active member|Nothing was changed/);

    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await reachesState(h, incidentId, 'resolved', 60_000);

    // Both alerts resolved, each once; the approvals page never again.
    await eventually('both pages resolved', async () => {
      const resolved = providers.pages.filter((p) => p.body.event_action === 'resolve').map((p) => p.body.dedup_key);
      return resolved.includes(incidentId) && resolved.includes(`${incidentId}-approvals`) ? resolved : null;
    });
    expect(
      providers.pages.filter(
        (p) => p.body.dedup_key === `${incidentId}-approvals` && p.body.event_action === 'trigger',
      ),
    ).toHaveLength(1);

    // Recovery times recorded and shown.
    const [row] = await query<{ milestones: Record<string, string>; severity: string; roles: Record<string, string> }>(
      h.stateDb.url,
      'SELECT milestones, severity, roles FROM incidents WHERE id = $1',
      [incidentId],
    );
    for (const k of ['detected', 'snapshotReady', 'approved', 'rollbackStarted', 'recovered', 'verified', 'resolved'])
      expect(row!.milestones[k], k).toBeTruthy();
    expect(row!.severity).toBe('SEV2');
    expect(row!.roles).toEqual({ commander: APPROVERS[0], comms: 'U0OWN001' });

    // Runbook 003's follow-ups proposed with Create; Jira answers 503, then 429 with Retry-After, then files it.
    const proposals = await posted(h, 'Follow-ups');
    const create = (proposals.args.blocks as Array<{ accessory?: { action_id: string; value: string } }>)
      .map((b) => b.accessory)
      .filter((a) => a?.action_id === 'followup_create');
    expect(create.length).toBeGreaterThanOrEqual(3);
    providers.script(
      'issues',
      { status: 503, body: { errorMessages: ['Service Unavailable'] } },
      { status: 429, body: { errorMessages: ['Rate limit exceeded'] }, headers: { 'retry-after': '1' } },
    );
    await h.press('followup_create', incidentId, REQUESTER, { value: create[0]!.value });
    const filed = await posted(h, 'filed for the follow-up', 30_000);
    expect(JSON.stringify(filed.args)).toContain(`<${providers.url}/browse/OPS-1|OPS-1>`);
    expect(providers.issues).toHaveLength(3);
    const fields = providers.issues[2]!.body.fields as {
      summary: string;
      description: { type: string };
      labels: string[];
    };
    expect(fields.summary).toMatch(/^Write the postmortem of the 007_add_security_tables.ts rollback/);
    expect(fields.description.type).toBe('doc');
    expect(fields.labels).toContain('migrate-bot');
    expect(providers.issues[2]!.headers.authorization).toBe(JIRA_AUTH);
    await eventually('the ticket bookmarked', async () =>
      h.slack.bookmarks.some((b) => b.channel_id === channel && b.title === 'Ticket OPS-1') ? true : null,
    );
    // A second press changes nothing.
    await h.press('followup_create', incidentId, REQUESTER, { value: create[0]!.value });
    await new Promise((r) => setTimeout(r, 300));
    expect(providers.issues).toHaveLength(3);

    // A follow-up Jira refuses for good is kept locally and said so, quoting Jira.
    providers.script('issues', {
      status: 400,
      body: { errorMessages: [], errors: { issuetype: 'Specify a valid issue type' } },
    });
    await h.command('followup "add a CHECK constraint test for 007" <@U0OWN001|owner>');
    await posted(h, 'Specify a valid issue type');
    const states = await query<{ state: string; error: string | null }>(
      h.stateDb.url,
      'SELECT state, error FROM followups WHERE incident_id = $1 AND slug IS NULL',
      [incidentId],
    );
    expect(states).toEqual([{ state: 'export_failed', error: 'issuetype: Specify a valid issue type' }]);

    // Logged, and the stakeholders heard the severity change; the timeline carries it all.
    const types = (await events(h, incidentId)).map((e) => e.type);
    for (const t of [
      'severity_changed',
      'role_assigned',
      'page_sent',
      'page_resolved',
      'followup_created',
      'followup_export_failed',
    ])
      expect(types, t).toContain(t);
    expect(
      h.slack
        .messages(STAKEHOLDERS)
        .map((m) => m.text)
        .join('\n'),
    ).toContain('severity SEV1 → *SEV2*');
    await h.command('timeline');
    await eventually('the postmortem with the ticket and times', async () => {
      const md = h.slack.uploadedFiles.filter((f) => f.completed).at(-1)?.content ?? '';
      return md.includes('## Follow-ups') && md.includes('OPS-1') && md.includes('Time to recover') ? md : null;
    });
    expect(channelTexts(h, channel).join('\n')).not.toContain(ROUTING_KEY);
  });

  it('a refused routing key marks the page failed and the incident goes on; a private incident stays out of the announce channel', async ({
    bot,
  }) => {
    const h = await bot(process(), { env: { ...env, PD_ROUTING_KEY: 'WRONGKEY000000000000000000000000' } });
    h.slack.addChannel({ id: STAKEHOLDERS, name: 'db-stakeholders' });
    await h.command('rollback 007 --sev SEV2 --private --impact-started 2026-01-01T00:00:00Z');
    const { incidentId, channel } = await planCard(h);
    expect(h.slack.channels.find((c) => c.id === channel)!.is_private).toBe(true);
    await posted(h, 'page could not be sent');
    const failed = (await events(h, incidentId)).find((e) => e.type === 'page_failed');
    expect(failed?.data.error).toContain('Invalid routing key');
    // A private incident's page names no migration.
    expect(JSON.stringify(providers.pages[0]!.body)).not.toContain('007_add');
    // An unknown severity is refused and changes nothing.
    const bad = await h.command('sev 9');
    expect(String((await h.slack.waitForResponse((r) => r.key === bad.key)).body.text)).toContain(
      'is not a severity here',
    );
    expect(
      (
        await query<{ severity: string }>(h.stateDb.url, 'SELECT severity FROM incidents WHERE id = $1', [incidentId])
      )[0]!.severity,
    ).toBe('SEV2');
    await h.press('incident_approve', incidentId, APPROVERS[0]);
    await h.press('incident_approve', incidentId, APPROVERS[1]);
    await reachesState(h, incidentId, 'resolved', 60_000);
    expect(h.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === STAKEHOLDERS)).toHaveLength(0);
    const [row] = await query<{ milestones: Record<string, string> }>(
      h.stateDb.url,
      'SELECT milestones FROM incidents WHERE id = $1',
      [incidentId],
    );
    expect(row!.milestones.impactStarted).toBe('2026-01-01T00:00:00.000Z');
  });
});
