import { formatBytes } from '../../domain/triage/safe-value.js';
import { wordsPlain } from '../../shared/words.js';
import type { IncidentNotice } from '../../domain/incident/model/notices.js';
import { formatDuration } from '../../shared/clock.js';
import { PROCESS_PLAIN } from './process-notice-text.js';

const why = (reason: string | null): string => (reason ? `: ${reason.trim()}` : '');
const and = (ids: readonly string[]): string => ids.join(' and ');

type Render<K extends IncidentNotice['kind']> = (n: Extract<IncidentNotice, { kind: K }>) => string;

const PLAIN: { [K in IncidentNotice['kind']]: Render<K> } = {
  ...PROCESS_PLAIN,
  approvals_recorded: (n) => `Approvals recorded by ${n.operator} for ${n.approvers.join(', ')}: ${n.reason.trim()}`,
  break_glass: (n) =>
    `BREAK GLASS: ${n.by} opened the rollback of ${n.migration} on ${n.service} with one approval: ${n.reason.trim()}`,
  warnings_acknowledged: (n) => `${n.by} acknowledged the failed verification checks${why(n.reason)}; resolved.`,
  stop_requested: (n) =>
    n.force
      ? `${n.by} stopped the rollback now${why(n.reason)}; the running down migration is being cancelled.`
      : `${n.by} asked to stop the rollback${why(n.reason)}; it stops after the step in progress.`,
  human_update: (n) => `Update from ${n.by}: ${n.text.trim()}`,
  triage_failed: () => 'Triage could not run; the plan follows anyway (migrate-bot triage <service> retries it).',
  provider_progress: (n) => `${n.rehearsal ? 'rehearsal: ' : ''}${n.text}`,
  rehearsal_started: (n) => `${n.by} started a rehearsal of snapshot ${n.snapshotId} (lock_timeout ${n.lockTimeout}).`,
  rehearsal_done: ({ result: r }) =>
    [
      r.passed
        ? `Rehearsal passed in ${formatDuration(r.elapsedMs)}.`
        : `Rehearsal failed${r.error ? `: ${wordsPlain(r.error)}` : '.'}`,
      ...r.steps.map(
        (s) =>
          `  ${s.status.padEnd(7)} ${s.migration}${s.durationMs !== undefined ? ` ${s.durationMs} ms` : ''}${s.error ? ` ${wordsPlain(s.error)}` : ''}`,
      ),
    ].join('\n'),
  rehearsal_copy_left: (n) => `The rehearsal copy ${n.copy} could not be dropped; remove it by hand.`,
  approval_given: (n) =>
    n.recordedBy
      ? `Approval recorded by ${n.recordedBy.operator} on behalf of ${n.by} (CLI, Slack unavailable): ${n.recordedBy.reason} (${n.count} of ${n.required}).`
      : `${n.by} approved (${n.count} of ${n.required}).`,
  approvals_complete: (n) =>
    `Approved by ${and(n.approvers)}; ${n.queued ? `${n.noun} queued${n.waitsForSnapshot ? ' (starts once the snapshot is available)' : ''}` : `the job queue is unreachable; the ${n.noun} is queued once it answers`}.`,
  approvers_refreshed: (n) =>
    `${n.by} had the approvers read again (as of ${n.asOf}): added ${n.added.join(', ') || 'nobody'}; removed ${n.removed.join(', ') || 'nobody'}.`,
  discard_approval_given: (n) => `${n.by} approved deleting ${n.leftover} (${n.count} of ${n.required}).`,
  discard_approved: (n) =>
    `Deleting ${n.leftover} approved by ${and(n.approvers)}; ${n.queued ? 'queued' : 'the job queue is unreachable'}.`,
  discard_failed: (n) => `Deleting ${n.leftover} failed: ${n.detail ? wordsPlain(n.detail) : 'see the bot logs'}`,
  discard_done: (n) => `${n.leftover} was deleted.`,
  rollback_resumed: () => 'Every down migration committed before the job ended; verifying and resolving now.',
  state_db_back: (n) =>
    `The state database was unreachable for ${Math.round(n.downForMs / 1000)} s; the rollback resumed.`,
  rollback_requeued: () => 'The rollback was never queued (job queue unreachable); queued now.',
  round_started: (n) =>
    `${n.by} started round ${n.attempt}: ${n.restoreTarget !== null ? `restore into ${n.restoreTarget}` : `${n.steps} down migration(s)`}; ${n.approvalsRequired} new approvals needed.`,
  plan_superseded: (n) =>
    [
      `The plan changed after approval; approvals voided (${n.voided.join(', ') || 'none'}):`,
      ...n.changes.map((c) => `  - ${c}`),
    ].join('\n'),
  tool_lock_taken_over: (n) => `Took over the tool lock (${n.toolLock}) left by this incident's earlier run.`,
  step_started: (n) => `Step ${n.index}/${n.total}: ${n.migration} (lock_timeout ${n.lockTimeout})…`,
  step_done: (n) => `Step ${n.index}/${n.total}: ${n.migration} reverted in ${n.durationMs} ms.`,
  rollback_waiting: (n) => `Waiting: ${wordsPlain(n.reason)}`,
  channel_archiving: (n) => `Archiving the incident channel (${n.afterMinutes ?? '?'} minutes after the end).`,
  snapshot_ready: (n) =>
    n.record.provider === 'none'
      ? 'No snapshot (waived in services.yaml).'
      : `Snapshot saved: ${n.record.id} (${n.record.provider}${n.record.sizeBytes !== undefined ? `, ${formatBytes(n.record.sizeBytes)}` : ''}${n.record.elapsedMs !== undefined ? `, taken in ${formatDuration(n.record.elapsedMs)}` : ''}). Nothing runs before the plan is approved.`,
  snapshot_taken: (n) =>
    `Snapshot ${n.record.id} of ${n.service} is ${n.record.status}${n.record.arn ? ` (${n.record.arn})` : ''}${n.record.location ? ` at ${n.record.location}` : ''}.`,
  snapshot_failed: (n) =>
    `Snapshot ${n.name} of ${n.service} failed: ${n.detail ? wordsPlain(n.detail) : 'see the bot logs'}`,
};

/** A notice as plain terminal text: no Slack markup, no emoji, people by id or name. */
export function noticePlainText(notice: IncidentNotice): string {
  return (PLAIN[notice.kind] as (n: IncidentNotice) => string)(notice);
}
