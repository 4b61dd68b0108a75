import type { ProcessNotice } from '../../domain/incident/process/process-notices.js';
import { ROLE_WORDS } from '../../domain/incident/process/roles.js';

type Render<K extends ProcessNotice['kind']> = (n: Extract<ProcessNotice, { kind: K }>) => string;

/** Plain terminal text of the incident-process notices (merged into `notice-text.ts`'s table). */
export const PROCESS_PLAIN: { [K in ProcessNotice['kind']]: Render<K> } = {
  severity_changed: (n) =>
    `${n.by} changed the severity${n.from ? ` from ${n.from}` : ''} to ${n.to}${n.reason ? `: ${n.reason.trim()}` : ''}.`,
  role_assigned: (n) =>
    `${n.user} is now the ${ROLE_WORDS[n.role]}${n.previous && n.previous !== n.user ? `, taking over from ${n.previous}` : ''}.`,
  comms_reminder: (n) => `${n.commander}: no comms lead for ${n.minutes} minutes on this ${n.severity} incident.`,
  impact_started_set: (n) => `${n.by} set when the impact started: ${n.at}.`,
  followup_added: (n) =>
    `Follow-up recorded by ${n.by}${n.owner ? ` for ${n.owner}` : ''}: ${n.text.trim()}${n.tracker ? ` (filing it in ${n.tracker})` : ''}`,
  followup_filed: (n) => `${n.tracker} ${n.ticket.key} filed: ${n.text.trim()} (${n.ticket.url})`,
  followup_export_failed: (n) => `${n.tracker} refused the ticket for "${n.text.trim()}": ${n.error} (kept locally)`,
  paged: (n) => `Paged the on-call through ${n.provider}: ${n.summary}`,
  page_failed: (n) => `The ${n.action} page could not be sent: ${n.error}`,
};
