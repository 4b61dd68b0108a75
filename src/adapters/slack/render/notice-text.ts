import { formatBytes } from '../../../domain/triage/safe-value.js';
import { slackDate } from './limits.js';
import type { RecordedBy } from '../../../domain/incident/model/incident.js';
import { codeSpan, people, wordsMrkdwn } from './words-mrkdwn.js';
import type { Incident } from '../../../domain/incident/model/incident.js';
import { actionNoun } from '../../../domain/incident/model/incident.js';
import type { IncidentNotice, StatusChange } from '../../../domain/incident/model/notices.js';
import type { RehearsalResult } from '../../../domain/incident/model/rehearsal-policy.js';
import { formatDuration } from '../../../shared/clock.js';
import { redactSecrets } from '../../../shared/redact.js';
import { escapeMrkdwn } from './limits.js';
import { PROCESS_NOTICE_TEXT } from './process-notice-text.js';

/** What a person typed, as data: `&`, `<` and `>` escaped, so no `<!channel>`, link or mention survives. */
const typed = (text: string): string => escapeMrkdwn(text.trim());

const person = (id: string): string => people([id]);
/** "recorded by <operator> on behalf of <approver> (CLI, Slack unavailable): _reason_". */
const recorded = (approver: string, r: RecordedBy): string =>
  `recorded by ${person(r.operator)} on behalf of ${person(approver)} (CLI, Slack unavailable): _${typed(r.reason)}_`;
const because = (reason: string | null): string => (reason ? `: _${typed(reason)}_` : '');

/** The rehearsal's result: a head line, one line per step with its duration (ms) or error. */
function rehearsalText(r: RehearsalResult): string {
  const head = r.passed
    ? `:test_tube: *Rehearsal passed* on a scratch copy in ${formatDuration(r.elapsedMs)}: every down migration ran.`
    : `:test_tube: *Rehearsal failed*${r.error ? `: ${wordsMrkdwn(r.error)}` : ' on a scratch copy: the plan would stop in production too.'}`;
  const lines = r.steps.map(
    (s) =>
      `${STEP_ICON[s.status]} ${codeSpan(s.migration)}${s.durationMs !== undefined ? ` — ${s.durationMs} ms` : ''}${s.error ? ` — ${wordsMrkdwn(s.error)}` : ''}`,
  );
  return [head, ...lines, 'The copy was dropped; production was not touched.'].join('\n');
}

/** The emoji of a down migration's outcome, wherever steps are listed. */
export const STEP_ICON = {
  done: ':white_check_mark:',
  failed: ':x:',
  not_run: ':white_circle:',
  running: ':hourglass_flowing_sand:',
} as const;

type Render<K extends IncidentNotice['kind']> = (n: Extract<IncidentNotice, { kind: K }>) => string;

const NOTICE_TEXT: { [K in IncidentNotice['kind']]: Render<K> } = {
  ...PROCESS_NOTICE_TEXT,
  approvals_recorded: (n) =>
    `:memo: Approvals recorded from the command line by \`${escapeMrkdwn(n.operator)}\` for ${people(n.approvers)}: _${typed(n.reason)}_`,
  break_glass: (n) =>
    `:rotating_light: *BREAK GLASS* — ${person(n.by)} opened the rollback of ${codeSpan(n.migration)} on *${n.service}* with one approval instead of the usual set: _${typed(n.reason)}_`,
  warnings_acknowledged: (n) =>
    `:ballot_box_with_check: ${person(n.by)} acknowledged the failed verification checks${because(n.reason)}. The incident is resolved.`,
  stop_requested: (n) =>
    n.force
      ? `:octagonal_sign: ${person(n.by)} stopped the rollback *now*${because(n.reason)}: the running down migration is being cancelled (its transaction rolls back), then the incident fails with the steps that completed.`
      : `:octagonal_sign: ${person(n.by)} asked to stop the rollback${because(n.reason)}. It stops after the step in progress, then the incident fails with the steps that completed. A step that hangs: \`/migrate close --force\` (approvers).`,
  human_update: (n) => `:speech_balloon: *Status update from ${person(n.by)}:* ${typed(n.text)}`,
  triage_failed: () =>
    ':warning: Triage could not run; the rollback plan follows anyway. Run `/migrate triage` to retry.',
  provider_progress: (n) => `${n.rehearsal ? ':test_tube: ' : ''}${escapeMrkdwn(redactSecrets(n.text))}`,
  rehearsal_started: (n) =>
    `:test_tube: ${person(n.by)} started a rehearsal: the snapshot ${codeSpan(n.snapshotId)} is restored to a scratch copy and the plan runs there with lock_timeout ${n.lockTimeout}. Production is not touched.`,
  rehearsal_done: (n) => rehearsalText(n.result),
  rehearsal_copy_left: (n) =>
    `:warning: The rehearsal copy ${codeSpan(n.copy)} could not be dropped; remove it by hand.`,
  approval_given: (n) =>
    n.recordedBy
      ? `:memo: Approval ${recorded(n.by, n.recordedBy)} (${n.count} of ${n.required}).`
      : `${person(n.by)} approved (${n.count} of ${n.required}).${n.confirmedAs ? ` Typed ${codeSpan(n.confirmedAs)} to confirm the destructive plan.` : ''}`,
  approvals_complete: (n) =>
    `:white_check_mark: Approved by ${people(n.approvers, ' and ')}. ` +
    (n.queued
      ? `${n.noun[0]!.toUpperCase()}${n.noun.slice(1)} queued${n.waitsForSnapshot ? '; it starts once the snapshot is available' : ''}.`
      : `The job queue is unreachable right now; the bot queues the ${n.noun} as soon as it answers (checked every minute).`) +
    (n.confirmedAs ? ` Each approver typed ${codeSpan(n.confirmedAs)} to confirm the destructive plan.` : '') +
    (n.recordedBy ? ` The last approval was ${recorded(n.approvers.at(-1) ?? '', n.recordedBy)}.` : ''),
  approvers_refreshed: (n) =>
    `:busts_in_silhouette: ${person(n.by)} had the approvers read again (as of ${slackDate(new Date(n.asOf))}): ` +
    `${n.added.length ? `added ${people(n.added)}` : 'nobody added'}; ${n.removed.length ? `removed ${people(n.removed)}` : 'nobody removed'}.`,
  discard_approval_given: (n) =>
    `${person(n.by)} approved deleting ${codeSpan(n.leftover)} (${n.count} of ${n.required}).`,
  discard_approved: (n) =>
    `:wastebasket: Deleting ${codeSpan(n.leftover)} approved by ${people(n.approvers, ' and ')}. ${n.queued ? 'Deletion queued.' : 'The job queue is unreachable; press Delete again once it answers.'}`,
  discard_failed: (n) =>
    `:warning: Deleting ${codeSpan(n.leftover)} failed: ${n.detail ? wordsMrkdwn(n.detail) : 'see the bot logs'}`,
  discard_done: (n) =>
    `:wastebasket: ${codeSpan(n.leftover)} was deleted. Production was not touched; \`/migrate close --reason "…"\` ends the incident.`,
  rollback_resumed: () =>
    ':arrows_counterclockwise: The rollback job ended before it could record the outcome, but the tracking table shows every down migration committed: verifying and resolving now.',
  state_db_back: (n) =>
    `:warning: migrate-bot's own state database was unreachable for ${formatDuration(n.downForMs)}; the rollback waited and resumed where the tracking table shows it stopped. Service databases were not affected.`,
  rollback_requeued: () =>
    ':arrows_counterclockwise: The approvals were complete but the rollback was never queued (the job queue was unreachable); it is queued now.',
  round_started: (n) =>
    n.restoreTarget !== null
      ? `:repeat: ${person(n.by)} started round ${n.attempt}: the restore into ${codeSpan(n.restoreTarget)} runs again after ${n.approvalsRequired} new approvals; earlier approvals do not carry over.`
      : `:repeat: ${person(n.by)} started round ${n.attempt}: ${n.steps} down migration(s) still applied will get a new snapshot and need new approvals; earlier approvals do not carry over.`,
  plan_superseded: (n) =>
    `:recycle: *The plan changed after it was approved*, so it did not run and its approvals (${people(n.voided) || 'none'}) were voided:\n${n.changes.map((c) => `• ${c}`).join('\n')}\nA new plan card follows; it needs new approvals.`,
  tool_lock_taken_over: (n) =>
    `:unlock: Found the tool lock (${n.toolLock}) still set by this incident's earlier run, which stopped without releasing it; no other rollback is alive, so the bot took it over.`,
  step_started: (n) =>
    `:arrow_backward: Step ${n.index}/${n.total}: running the down migration of ${codeSpan(n.migration)} (lock_timeout ${n.lockTimeout})…`,
  step_done: (n) =>
    `:white_check_mark: Step ${n.index}/${n.total}: ${codeSpan(n.migration)} reverted in ${n.durationMs} ms.`,
  rollback_waiting: (n) => `:hourglass_flowing_sand: ${wordsMrkdwn(n.reason)}`,
  channel_archiving: (n) =>
    `:file_cabinet: Archiving this channel ${n.afterMinutes ?? '?'} minutes after the incident ended (\`archive_after_minutes\`); its history stays searchable.`,
  snapshot_ready: (n) =>
    n.record.provider === 'none'
      ? ':warning: No snapshot: waived in services.yaml. The rollback can run once the plan is approved.'
      : `:camera: Snapshot saved: ${codeSpan(n.record.id)} (${n.record.provider}${n.record.sizeBytes !== undefined ? `, ${formatBytes(n.record.sizeBytes)}` : ''}${n.record.elapsedMs !== undefined ? `, taken in ${formatDuration(n.record.elapsedMs)}` : ''})${n.record.arn ? ` ${codeSpan(n.record.arn)}` : ''}. Nothing runs before the plan is approved.`,
  snapshot_taken: (n) =>
    `:camera: On-demand snapshot ${codeSpan(n.record.id)} of *${n.service}* is ${n.record.status}${n.record.arn ? ` (${codeSpan(n.record.arn)})` : ''}${n.record.location ? ` at ${codeSpan(n.record.location)}` : ''}, requested by ${person(n.by)}.`,
  snapshot_failed: (n) =>
    `:red_circle: Snapshot ${codeSpan(n.name)} of *${n.service}* failed: ${n.detail ? wordsMrkdwn(n.detail) : 'see the bot logs'}`,
};

/**
 * A notice as one Slack mrkdwn line (or a few, for a rehearsal or a superseded plan), the way
 * the incident channel shows it. What people typed is escaped; user ids become mentions.
 */
export function noticeText(notice: IncidentNotice): string {
  return (NOTICE_TEXT[notice.kind] as (n: IncidentNotice) => string)(notice);
}

/** The status change, after the service and migration prefix of the announce line. */
function statusText(change: StatusChange): string {
  switch (change.kind) {
    case 'break_glass':
      return noticeText(change);
    case 'human_update':
      return `:speech_balloon: update from ${person(change.by)}: ${typed(change.text)}`;
    case 'opened':
      return `:large_blue_circle: opened by ${person(change.by)}: ${change.steps} down migration(s) to roll back, awaiting approval.`;
    case 'initiated':
      return `:rotating_light: rollback initiated. Snapshot saved: ${codeSpan(change.snapshotId)}. ETA: ~${change.etaMinutes} minutes. Awaiting approval.`;
    case 'rollback_started':
      return `:arrow_backward: approved; running ${change.steps} down migration(s).`;
    case 'resolved':
      return change.validationPassed
        ? ':white_check_mark: rollback complete. Validation passed.'
        : ':warning: rollback complete, but validation failed; responders are looking at it.';
    case 'failed':
      // One line: the why is in the incident channel (the link follows).
      return ':red_circle: failed; nothing more runs until responders decide (retry, close or restore).';
    case 'rejected':
      return ':no_entry_sign: rejected; nothing was changed in the database.';
    case 'cancelled':
      return ':no_entry_sign: cancelled; nothing was changed in the database.';
    case 'closed':
      return ':ballot_box_with_check: closed by responders.';
    case 'severity_changed':
      return `:rotating_light: severity ${change.from ? `${escapeMrkdwn(change.from)} → ` : ''}*${escapeMrkdwn(change.to)}* (${person(change.by)})${change.reason ? `: _${typed(change.reason)}_` : ''}.`;
  }
}

/**
 * The announce channel's line for a status change (runbook 003 "Communication & coordination"):
 * `*<service>* — rollback of `<migration>`: <what changed>`; the link to the incident channel is
 * added by the notifier.
 */
export function announceText(incident: Pick<Incident, 'service' | 'migration' | 'kind'>, change: StatusChange): string {
  return `*${incident.service}* — ${actionNoun(incident)} of ${codeSpan(incident.migration)}: ${statusText(change)}`;
}
