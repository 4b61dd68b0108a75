import type { TicketRef } from './followup.js';
import type { RoleName } from './roles.js';

/**
 * What the incident process tells the incident's conversation, as facts (rendered by each
 * surface like every other notice): severity changes, role handoffs, reminders, follow-ups and
 * their tickets, pages that failed. People are Slack user ids or CLI operator names; `text`,
 * `reason` and `error` are data (what a person or a provider wrote), escaped by the renderer.
 */
export type ProcessNotice =
  /** `/migrate sev`: from `from` (null: none recorded) to `to`, with the reason given. */
  | { kind: 'severity_changed'; by: string; from: string | null; to: string; reason: string | null; paged: boolean }
  /** `/migrate role` or *Take command*: `user` now holds `role`, handed over from `previous`. */
  | { kind: 'role_assigned'; by: string; role: RoleName; user: string; previous: string | null }
  /** Nobody took comms on a SEV1/SEV2 incident within `minutes`: the commander is asked once. */
  | { kind: 'comms_reminder'; commander: string; minutes: number; severity: string }
  /** When the impact started was given or corrected; `at` ISO-8601 UTC. */
  | { kind: 'impact_started_set'; by: string; at: string }
  /** A follow-up was recorded; `tracker` names where its ticket is being filed, or null (a checklist item). */
  | { kind: 'followup_added'; by: string; text: string; owner: string | null; tracker: string | null }
  /** A follow-up's ticket exists. */
  | { kind: 'followup_filed'; text: string; owner: string | null; ticket: TicketRef; tracker: string }
  /** The tracker refused the ticket: the follow-up is kept here, not exported; `error` quotes the tracker. */
  | { kind: 'followup_export_failed'; text: string; tracker: string; error: string }
  /** The pager accepted a trigger: who was paged and why. */
  | { kind: 'paged'; provider: string; reason: 'opened' | 'approvals' | 'severity'; summary: string }
  /** The pager refused an event for good (e.g. an invalid routing key); the incident goes on. */
  | { kind: 'page_failed'; action: string; error: string };
