import type { ProcessNotice } from '../../../domain/incident/process/process-notices.js';
import { ROLE_WORDS } from '../../../domain/incident/process/roles.js';
import type { TicketRef } from '../../../domain/incident/process/followup.js';
import { slackDate, escapeMrkdwn } from './limits.js';
import { codeSpan, people } from './words-mrkdwn.js';
import { redactSecrets } from '../../../shared/redact.js';

const person = (id: string): string => people([id]);
const typed = (text: string): string => escapeMrkdwn(text.trim());

/**
 * A ticket as a Slack link `<url|KEY>`; the URL came from a tracker (data), so only an https
 * URL without spaces or `|` is linked, escaped like any text; anything else shows the key alone.
 */
export function ticketLink(ticket: TicketRef): string {
  const key = escapeMrkdwn(ticket.key);
  return /^https?:\/\/[^\s|<>]+$/.test(ticket.url) ? `<${escapeMrkdwn(ticket.url)}|${key}>` : codeSpan(ticket.key);
}

type Render<K extends ProcessNotice['kind']> = (n: Extract<ProcessNotice, { kind: K }>) => string;

/** Slack mrkdwn of the incident-process notices (merged into `notice-text.ts`'s table). */
export const PROCESS_NOTICE_TEXT: { [K in ProcessNotice['kind']]: Render<K> } = {
  severity_changed: (n) =>
    `:rotating_light: ${person(n.by)} changed the severity ${n.from ? `from *${escapeMrkdwn(n.from)}* ` : ''}to *${escapeMrkdwn(n.to)}*${n.reason ? `: _${typed(n.reason)}_` : ''}.${n.paged ? ' The on-call is being paged.' : ''}`,
  role_assigned: (n) =>
    `:busts_in_silhouette: ${person(n.user)} is now the ${ROLE_WORDS[n.role]}${n.previous && n.previous !== n.user ? `, taking over from ${person(n.previous)}` : ''}${n.by !== n.user ? ` (set by ${person(n.by)})` : ''}.`,
  comms_reminder: (n) =>
    `:loudspeaker: ${person(n.commander)}, this ${escapeMrkdwn(n.severity)} incident has had no comms lead for ${n.minutes} minutes. Name one so stakeholders hear from someone: \`/migrate role comms @someone\`.`,
  impact_started_set: (n) =>
    `:clock3: ${person(n.by)} set when the impact started: ${slackDate(new Date(n.at))}. Recovery times count from there.`,
  followup_added: (n) =>
    `:pushpin: Follow-up recorded by ${person(n.by)}${n.owner ? ` for ${person(n.owner)}` : ''}: _${typed(n.text)}_${n.tracker ? ` — filing it in ${escapeMrkdwn(n.tracker)}…` : ' (on the checklist; no tracker is configured).'}`,
  followup_filed: (n) =>
    `:ticket: ${escapeMrkdwn(n.tracker)} ${ticketLink(n.ticket)} filed for the follow-up _${typed(n.text)}_${n.owner ? ` (owner ${person(n.owner)})` : ''}.`,
  followup_export_failed: (n) =>
    `:warning: ${escapeMrkdwn(n.tracker)} refused the ticket for _${typed(n.text)}_: ${codeSpan(redactSecrets(n.error).slice(0, 300))}. The follow-up is kept here and in the postmortem, marked *not exported*; fix the setting and press *Create* again, or file it by hand.`,
  paged: (n) =>
    `:pager: Paged the on-call through ${escapeMrkdwn(n.provider)}${n.reason === 'approvals' ? ' because the plan still waits for approvals' : n.reason === 'severity' ? ' after the severity was raised' : ''}: _${typed(n.summary)}_`,
  page_failed: (n) =>
    `:warning: The ${n.action} page could not be sent: ${codeSpan(redactSecrets(n.error).slice(0, 300))}. Nothing else is affected; page the on-call by hand and fix \`paging:\` in services.yaml.`,
};
