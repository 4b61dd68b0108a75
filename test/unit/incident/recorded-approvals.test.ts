/**
 * Approvals recorded from the CLI on someone's behalf say so everywhere — the channel, the
 * terminal, the timeline and the postmortem — and never claim the approver typed a confirmation.
 */
import { describe, expect, it } from 'vitest';
import { noticeText } from '../../../src/adapters/slack/render/notice-text.js';
import { timelineMarkdown } from '../../../src/domain/incident/model/timeline.js';
import { approve } from '../../../src/domain/incident/use-cases/approvals.js';
import { noticePlainText } from '../../../src/surfaces/cli/notice-text.js';
import { fakeWorld } from '../../support/fakes/fake-deps.js';

const OPERATOR = 'U0REQ001';
const REASON = 'Slack is down <!channel>, approved on the bridge call';

describe('recorded approvals', () => {
  it('log approval_recorded with the operator and reason, and the notices say "recorded by … on behalf of …"', async () => {
    const { deps, repo, notifier } = fakeWorld();
    const incident = repo.seed(
      { service: 'ticket-service', migration: '007_x.ts', requestedBy: OPERATOR, plan: [] },
      { state: 'awaiting_approval', basis: null },
    );
    const recorded = { operator: OPERATOR, reason: REASON };
    expect(await approve(deps, incident.id, 'U0SRE001', { recorded })).toMatchObject({ kind: 'recorded' });
    expect(await approve(deps, incident.id, 'U0OWN001', { recorded })).toMatchObject({ complete: true });

    const types = repo.events.map((e) => e.type);
    expect(types.filter((t) => t === 'approval_recorded')).toHaveLength(2);
    expect(types).not.toContain('approval_given');
    expect(repo.events.find((e) => e.type === 'approval_recorded')).toMatchObject({
      actor: OPERATOR,
      data: { via: 'cli', operator: OPERATOR, approver: 'U0SRE001', reason: REASON },
    });

    const [given, complete] = notifier.notices;
    expect(given).toMatchObject({ kind: 'approval_given', confirmedAs: null, recordedBy: { operator: OPERATOR } });
    expect(noticeText(given!)).toBe(
      `:memo: Approval recorded by <@${OPERATOR}> on behalf of <@U0SRE001> (CLI, Slack unavailable): _Slack is down &lt;!channel&gt;, approved on the bridge call_ (1 of 2).`,
    );
    expect(noticePlainText(given!)).toBe(
      `Approval recorded by ${OPERATOR} on behalf of U0SRE001 (CLI, Slack unavailable): ${REASON} (1 of 2).`,
    );
    expect(noticeText(complete!)).toContain(
      `The last approval was recorded by <@${OPERATOR}> on behalf of <@U0OWN001> (CLI, Slack unavailable)`,
    );
    expect(noticeText(complete!)).not.toContain('typed');

    const markdown = timelineMarkdown((await repo.get(incident.id))!, await repo.listEvents(incident.id));
    expect(markdown).toContain(
      `| ${OPERATOR} | recorded by ${OPERATOR} on behalf of U0SRE001 (CLI, Slack unavailable): Slack is down`,
    );
    expect(markdown).toContain('on behalf of U0OWN001 (CLI, Slack unavailable)');
  });

  it('an approval pressed in Slack stays approval_given', async () => {
    const { deps, repo, notifier } = fakeWorld();
    const incident = repo.seed(
      { service: 'ticket-service', migration: '007_x.ts', requestedBy: OPERATOR, plan: [] },
      { state: 'awaiting_approval' },
    );
    await approve(deps, incident.id, 'U0SRE001');
    expect(repo.events.map((e) => e.type)).toEqual(['approval_given']);
    expect(noticeText(notifier.notices[0]!)).toBe('<@U0SRE001> approved (1 of 2).');
  });
});
