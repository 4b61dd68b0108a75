import { slackDate } from './limits.js';
import { codeSpan, wordsMrkdwn } from './words-mrkdwn.js';
import { actionNoun, shortId } from '../../../domain/incident/model/incident.js';
import type { StatusView } from '../../../domain/incident/use-cases/incident-status.js';
import { formatDuration } from '../../../shared/clock.js';
import { clip, LIMITS } from './limits.js';
import type { SlackMessage } from './incident-messages.js';

/** What a person can do next with an incident in this state (runbook 003: every state has a way forward or out). */
export function nextActions(v: Pick<StatusView, 'incident' | 'approvals' | 'service' | 'required'>): string {
  const i = v.incident;
  if (!i) return `\`/migrate rollback ‹migration› --service ${v.service.name}\` opens one.`;
  const svc = `--service ${v.service.name}`;
  switch (i.state) {
    case 'opened':
    case 'snapshotting':
    case 'awaiting_approval':
      return v.approvals.length >= v.required
        ? `Approved; the ${actionNoun(i)} starts ${i.kind === 'restore' || i.snapshot?.status === 'available' ? 'now' : 'once the snapshot is available'}. \`/migrate close ${svc} --reason "…"\` cancels it.`
        : `Approvers press Approve on the plan card in <#${i.conversation?.id}>; Reject or \`/migrate close ${svc} --reason "…"\` cancels it.`;
    case 'rolling_back':
      return `\`/migrate close ${svc} --reason "…"\` stops it after the step in progress.`;
    case 'resolved_with_warnings':
      return `Verification failed after the rollback: \`/migrate verify ${svc}\` runs the checks again; \`/migrate close ${svc} --reason "…"\` acknowledges the warnings.`;
    case 'failed': {
      const snap = i.kind === 'rollback' && i.snapshot && i.snapshot.provider !== 'none' ? i.snapshot.id : null;
      return `\`/migrate retry ${svc}\` re-plans and asks for new approvals; \`/migrate close ${svc} --reason "…"\` once handled by hand${snap ? `; \`/migrate restore ${snap}\` when the state cannot be recovered (runbook 003, Option B)` : ''}.`;
    }
    default:
      return 'Nothing: the incident has ended.';
  }
}

/** `/migrate status`: incident state, snapshot, approvals, jobs, and the tracking table's head. */
export function statusMessage(v: StatusView): SlackMessage {
  const lines: string[] = [];
  if (v.incident) {
    const i = v.incident;
    lines.push(
      `*${v.service.name}* — incident \`${shortId(i.id)}\` in <#${i.conversation?.id}>: *${i.kind === 'restore' && i.state === 'rolling_back' ? 'restoring' : i.state.replace(/_/g, ' ')}* (open ${formatDuration(v.now.getTime() - i.createdAt.getTime())}, since ${slackDate(i.createdAt)})`,
      i.kind === 'restore'
        ? `• Restore ${i.restore?.snapshotId ? `of snapshot ${codeSpan(i.restore.snapshotId)}` : `to ${i.restore?.to ?? '?'}`} into the new \`${i.restore?.target ?? '?'}\`${i.attempt > 1 ? ` (round ${i.attempt})` : ''}`
        : `• Rollback of ${codeSpan(i.migration)}${i.attempt > 1 ? ` (round ${i.attempt})` : ''}: ${i.plan.length} down migration(s); ${i.steps.filter((s) => s.status === 'done').length} done`,
      ...(i.kind === 'restore'
        ? []
        : [
            `• Snapshot: ${i.snapshot ? `${codeSpan(i.snapshot.id)} (${i.snapshot.provider}) ${i.snapshot.status}` : 'not taken yet'}`,
          ]),
      `• Approvals: ${v.approvals.length} of ${v.required}${v.approvals.length ? ` (${v.approvals.map((a) => `<@${a.userId}>`).join(', ')})` : ''}`,
      `• Jobs: ${
        Object.entries(v.jobs)
          .map(([k, s]) => `${k} ${s}`)
          .join(', ') || 'none'
      }`,
    );
    if (i.failure) lines.push(`• Failure: ${wordsMrkdwn(i.failure.message)}`);
    lines.push(`• Next: ${nextActions(v)}`);
  } else {
    lines.push(`*${v.service.name}* — no open incident.`);
  }
  const head = !Array.isArray(v.head)
    ? `Tracking table: ${wordsMrkdwn(v.head)}`
    : `Tracking table ${codeSpan(v.service.migrations.table)}, newest first:\n${v.head.map((m) => `• ${codeSpan(m.name)}${m.group ? ` ${m.group}` : ''}${m.dirty ? ' *dirty*' : ''}`).join('\n') || '(empty)'}`;
  return {
    text: `${v.service.name}: ${v.incident ? v.incident.state : 'no open incident'}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), LIMITS.sectionText) } },
      { type: 'section', text: { type: 'mrkdwn', text: clip(head, LIMITS.sectionText) } },
    ],
  };
}

/** `/migrate status` over several services: one block pair per open incident, or a line saying there is none. */
export function statusOverview(views: StatusView[]): SlackMessage {
  if (views.length === 0)
    return {
      text: 'No open incident.',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'No open incident in any service.' } }],
    };
  const messages = views.map(statusMessage);
  return {
    text: messages.map((m) => m.text).join('; '),
    blocks: messages.flatMap((m) => m.blocks).slice(0, LIMITS.blocks),
  };
}
