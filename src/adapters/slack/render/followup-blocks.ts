import type { FollowUp } from '../../../domain/incident/process/followup.js';
import type { KnownBlock, SlackMessage } from './block-kit.js';
import { clip, escapeMrkdwn } from './limits.js';
import { ticketLink } from './process-notice-text.js';
import { people } from './words-mrkdwn.js';

/** The *Create* button of a proposed follow-up; its value is the follow-up's id. */
export const ACTION_FOLLOWUP_CREATE = 'followup_create';

/**
 * Runbook 003's post-incident tasks, proposed as follow-ups at the end of an incident: one line
 * each with a *Create* button (files the ticket in `tracker`, or puts it on the checklist).
 */
export function followUpsMessage(followUps: readonly FollowUp[], tracker: string | null): SlackMessage {
  const head = `:clipboard: *Follow-ups* (runbook 003 "Post-incident"): press *Create* to ${tracker ? `file a ${escapeMrkdwn(tracker)} ticket` : 'add it to the checklist (no tracker is configured)'}; \`/migrate followup "…"\` adds your own.`;
  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: head } },
    ...followUps.map(
      (f): KnownBlock => ({
        type: 'section',
        text: { type: 'mrkdwn', text: clip(`• ${escapeMrkdwn(f.text)}`, 2900) },
        accessory: {
          type: 'button',
          action_id: ACTION_FOLLOWUP_CREATE,
          text: { type: 'plain_text', text: 'Create' },
          value: String(f.id),
        },
      }),
    ),
  ];
  return { text: `Follow-ups: ${followUps.length} proposed`, blocks };
}

/** One follow-up as a checklist line: state, text, owner, ticket (the summary and `/migrate status`). */
export function followUpLine(f: FollowUp): string {
  const mark = f.state === 'exported' ? ':ticket:' : f.state === 'export_failed' ? ':warning:' : ':white_large_square:';
  const ticket = f.ticket ? ` — ${ticketLink(f.ticket)}` : f.state === 'export_failed' ? ' — _not exported_' : '';
  return `${mark} ${escapeMrkdwn(f.text)}${f.owner ? ` (${people([f.owner])})` : ''}${ticket}`;
}
