import type { ServiceConfig } from '../../config/services.js';
import { shortId, type Approval, type Incident } from '../../incident/incident.js';
import type { AppliedMigration } from '../../rollback/plan.js';
import { formatDuration, slackDate } from '../../shared/clock.js';
import { clip, LIMITS } from './limits.js';
import type { SlackMessage } from './incident-messages.js';

/** Everything `/migrate status` shows about one service. */
export interface StatusView {
  service: ServiceConfig;
  incident: Incident | null;
  approvals: Approval[];
  /** Job states from the queue, e.g. `{ rollback: 'delayed' }`. */
  jobs: Record<string, string>;
  /** Newest tracking-table rows first, or why they could not be read. */
  head: AppliedMigration[] | string;
  now: Date;
}

/** `/migrate status`: incident state, snapshot, approvals, jobs, and the tracking table's head. */
export function statusMessage(v: StatusView): SlackMessage {
  const lines: string[] = [];
  if (v.incident) {
    const i = v.incident;
    lines.push(
      `*${v.service.name}* — incident \`${shortId(i.id)}\` in <#${i.channelId}>: *${i.state.replace('_', ' ')}* (open ${formatDuration(v.now.getTime() - i.createdAt.getTime())}, since ${slackDate(i.createdAt)})`,
      `• Rollback of \`${i.migration}\`: ${i.plan.length} down migration(s); ${i.steps.filter((s) => s.status === 'done').length} done`,
      `• Snapshot: ${i.snapshot ? `\`${i.snapshot.id}\` (${i.snapshot.provider}) ${i.snapshot.status}` : 'not taken yet'}`,
      `• Approvals: ${v.approvals.length} of ${v.service.approvals.required}${v.approvals.length ? ` (${v.approvals.map((a) => `<@${a.userId}>`).join(', ')})` : ''}`,
      `• Jobs: ${Object.entries(v.jobs).map(([k, s]) => `${k} ${s}`).join(', ') || 'none'}`,
    );
    if (i.failure) lines.push(`• Failure: ${i.failure.message}`);
  } else {
    lines.push(`*${v.service.name}* — no open incident.`);
  }
  const head =
    typeof v.head === 'string'
      ? `Tracking table: ${v.head}`
      : `Tracking table \`${v.service.migrations.table}\`, newest first:\n${v.head.map((m) => `• \`${m.name}\` batch ${m.batch}`).join('\n') || '(empty)'}`;
  return {
    text: `${v.service.name}: ${v.incident ? v.incident.state : 'no open incident'}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), LIMITS.sectionText) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(head, LIMITS.sectionText) } },
    ],
  };
}
