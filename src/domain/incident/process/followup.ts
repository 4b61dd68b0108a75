/** A ticket in the company's tracker (Jira issue key `OPS-123`, Linear identifier `DBA-42`) and its web link. */
export interface TicketRef {
  key: string;
  url: string;
}

/**
 * Where a follow-up stands: `proposed` (suggested at resolution, not taken yet), `open` (recorded;
 * a checklist item, or waiting for its ticket), `exported` (the ticket exists), `export_failed`
 * (the tracker refused it; kept here with the tracker's error).
 */
export type FollowUpState = 'proposed' | 'open' | 'exported' | 'export_failed';

/** Work that must happen after the incident (runbook 003 "Post-incident: postmortem & corrective actions"). */
export interface FollowUp {
  id: number;
  incidentId: string;
  /** What to do, as a person typed it or as the runbook says it (data: escaped wherever shown). */
  text: string;
  /** Slack user id of who owns it, or null. */
  owner: string | null;
  /** Who recorded it (Slack user id, CLI operator, or `migrate-bot` for proposals). */
  createdBy: string;
  /** For runbook proposals, which one (`postmortem`, `fix_forward`, …); null for typed ones. */
  slug: string | null;
  state: FollowUpState;
  ticket: TicketRef | null;
  /** The tracker's refusal, in its words, when `export_failed`. */
  error: string | null;
  createdAt: Date;
}

/** A follow-up the bot suggests: its key and text. */
export interface ProposedFollowUp {
  slug: string;
  text: string;
}

/**
 * Runbook 003's post-incident tasks for this incident, as follow-ups to propose at resolution:
 * the postmortem, the fix-forward migration, a down for a step that had none, and a look at the
 * snapshot's retention (it is the way back until the fix is out).
 */
export function proposedFollowUps(incident: {
  migration: string;
  service: string;
  plan: ReadonlyArray<{ migration: string; irreversible?: string }>;
  snapshot: { id: string } | null;
}): ProposedFollowUp[] {
  const out: ProposedFollowUp[] = [
    {
      slug: 'postmortem',
      text: `Write the postmortem of the ${incident.migration} rollback on ${incident.service}: timeline, root cause, detection, mitigation, permanent fixes`,
    },
    {
      slug: 'fix_forward',
      text: `Write the fix-forward migration that replaces ${incident.migration} (add → backfill → enforce)`,
    },
  ];
  const missing = incident.plan.filter((s) => s.irreversible);
  if (missing.length)
    out.push({
      slug: 'add_down',
      text: `Add a tested down migration to ${missing.map((s) => s.migration).join(', ')}`,
    });
  if (incident.snapshot)
    out.push({
      slug: 'snapshot_retention',
      text: `Check the retention of snapshot ${incident.snapshot.id}: keep it until the fix-forward is deployed`,
    });
  return out;
}
