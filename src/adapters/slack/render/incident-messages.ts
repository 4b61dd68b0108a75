import { escapeMrkdwn, slackDate } from './limits.js';
import { quote, words, wordsPlain } from '../../../shared/words.js';
import { DEFAULT_TEMPLATES, renderTemplate, type MessageTemplates } from '../templates.js';
import { context, header, section, type SlackMessage } from './block-kit.js';
import type { ServiceConfig } from '../../../config/services.js';
import type { ApprovalProgress, VerificationResult } from '../../../domain/incident/ports/notifier.js';
import { approverWords } from '../../../domain/incident/ports/approvers.js';
import { codeSpan, people, wordsMrkdwn } from './words-mrkdwn.js';
import { STATE_LABEL } from './plan-card.js';
import { STEP_ICON } from './notice-text.js';
import {
  shortId,
  type Incident,
  type IncidentFailure,
  type StepOutcome,
} from '../../../domain/incident/model/incident.js';
import type { SnapshotRecord } from '../../../domain/snapshots/snapshot-provider.js';
import { formatDuration } from '../../../shared/clock.js';
import { checksBlock } from './verification-blocks.js';
import { restoreFailureMessage, restoreOpenedMessage, restoreSource } from './restore-messages.js';

export type { SlackMessage } from './block-kit.js';

export { ACTION_APPROVE, ACTION_REHEARSE, ACTION_REJECT, planButtonValue, planCardMessage } from './plan-card.js';

function snapshotLine(s: SnapshotRecord | null): string {
  if (!s) return ':warning: *No snapshot* (waived in services.yaml)';
  if (s.provider === 'none') return ':warning: *No snapshot* (waived in services.yaml)';
  return `Snapshot ${codeSpan(s.id)} (${s.provider}) ${s.status}`;
}

/** First message in the channel: what was asked, by whom, what happens next. */
export function openedMessage(incident: Incident, service: ServiceConfig): SlackMessage {
  const waiver = service.snapshot.provider === 'none' ? service.snapshot.waiver_reason : null;
  if (incident.kind === 'restore') return restoreOpenedMessage(incident, service);
  return {
    text: `Incident opened: rollback of ${incident.migration} on ${service.name}`,
    blocks: [
      header(`Rollback of ${incident.migration} — ${service.name}`),
      section(
        `<@${incident.requestedBy}> asked to roll back ${codeSpan(incident.migration)} on *${service.name}* (${incident.plan.length} down migration${incident.plan.length === 1 ? '' : 's'}).\n` +
          `Next: triage, the plan for ${service.approvals.required} approvals from ${wordsMrkdwn(approverWords(service.approvals.approvers))}, and a snapshot — nothing runs before the snapshot is available and the approvals are in.`,
      ),
      ...(waiver
        ? [section(`:warning: *NO SNAPSHOT WILL BE TAKEN for ${service.name}.* Waiver in services.yaml: _${waiver}_`)]
        : []),
      context(
        `Incident \`${shortId(incident.id)}\` · opened ${slackDate(incident.createdAt)} · status updates every ${service.status_update_minutes} min`,
      ),
    ],
  };
}

/** Runbook 003 "Communication & coordination — Initial notice". */
export function initialNoticeMessage(
  incident: Incident,
  snapshot: SnapshotRecord | null,
  etaMinutes: number,
  templates: MessageTemplates = DEFAULT_TEMPLATES,
): SlackMessage {
  const text = renderTemplate(templates['initial-notice'], {
    migration: incident.migration,
    snapshot: snapshot ? `${codeSpan(snapshot.id)}` : '*none — waived in services.yaml*',
    eta: etaMinutes,
    service: incident.service,
  });
  const details: string[] = [];
  if (snapshot?.arn) details.push(`ARN ${codeSpan(snapshot.arn)}`);
  if (snapshot?.sha256) details.push(`sha256 \`${snapshot.sha256.slice(0, 16)}…\``);
  if (snapshot?.sizeBytes !== undefined) details.push(`${snapshot.sizeBytes} bytes`);
  if (snapshot?.latestRestorableTime)
    details.push(`latest restorable ${slackDate(new Date(snapshot.latestRestorableTime))}`);
  return {
    text,
    blocks: [section(`:rotating_light: ${text}`), ...(details.length ? [context(details.join(' · '))] : [])],
  };
}

/**
 * Minutes left, for the status update's ETA (runbook 003 initial notice "ETA: ~<X> minutes"):
 * the steps still to run at the mean measured step time (a minute each before any ran), plus
 * five for approvals still missing. Null once nothing is left to run.
 */
export function etaMinutes(
  incident: Pick<Incident, 'plan' | 'steps' | 'state'>,
  progress: Pick<ApprovalProgress, 'approvals' | 'required'>,
): number | null {
  if (!['opened', 'snapshotting', 'awaiting_approval', 'rolling_back'].includes(incident.state)) return null;
  const measured = incident.steps.filter((s) => s.durationMs !== undefined).map((s) => s.durationMs!);
  const left = incident.plan.length - incident.steps.filter((s) => s.status === 'done').length;
  const perStepMs = measured.length ? measured.reduce((a, b) => a + b, 0) / measured.length : 60_000;
  const approvals = progress.approvals.length < progress.required ? 5 : 0;
  return Math.max(1, Math.ceil((left * perStepMs) / 60_000) + approvals);
}

/** Runbook 003 "Status updates: every 15–30 minutes with progress and any issues encountered." */
export function statusUpdateMessage(
  incident: Incident,
  progress: ApprovalProgress,
  nextInMinutes: number,
  now: Date,
  missedAt: Date | null = null,
  templates: MessageTemplates = DEFAULT_TEMPLATES,
): SlackMessage {
  const done = incident.steps.filter((s) => s.status === 'done').length;
  const what =
    incident.kind === 'restore'
      ? `restore of ${restoreSource(incident)}`
      : `rollback of ${codeSpan(incident.migration)}`;
  const state =
    incident.kind === 'restore' && incident.state === 'rolling_back'
      ? ':arrows_counterclockwise: restoring'
      : STATE_LABEL[incident.state];
  const lines = [
    ...(incident.kind === 'restore' ? [] : [`• ${snapshotLine(incident.snapshot)}`]),
    `• Approvals: ${progress.approvals.length} of ${progress.required}${progress.approvals.length ? ` (${people(progress.approvals.map((a) => a.userId))})` : ''}`,
    incident.kind === 'restore'
      ? `• Restore into the new ${codeSpan(incident.restore?.target)}`
      : `• Down migrations: ${done} of ${incident.plan.length} done${runningStep(incident, now)}`,
  ];
  if (incident.failure) lines.push(`• Issue: ${wordsMrkdwn(incident.failure.message)}`);
  const eta = incident.kind === 'rollback' ? etaMinutes(incident, progress) : null;
  if (eta !== null)
    lines.push(
      `• ETA: ~${eta} minute${eta === 1 ? '' : 's'} (${incident.steps.some((s) => s.durationMs !== undefined) ? 'from the steps measured so far' : 'a minute per down migration'}${progress.approvals.length < progress.required ? ', plus 5 for the approvals still missing' : ''})`,
    );
  if (missedAt) lines.push(`• :warning: The previous status update (${slackDate(missedAt)}) could not be delivered.`);
  const body = renderTemplate(templates['status-update'], {
    what,
    service: incident.service,
    state,
    facts: lines.join('\n'),
    eta: eta ?? '',
  });
  return {
    text: `Status update: ${incident.service} ${incident.kind === 'restore' ? 'restore' : 'rollback'} is ${incident.kind === 'restore' && incident.state === 'rolling_back' ? 'restoring' : incident.state.replace(/_/g, ' ')}`,
    blocks: [
      section(body),
      context(
        `Open for ${formatDuration(now.getTime() - incident.createdAt.getTime())} · next update in ${nextInMinutes} min`,
      ),
    ],
  };
}

/** `; step 2/3 (`x`) running for 12 min` while a down runs (its start is recorded on the step). */
function runningStep(incident: Incident, now: Date): string {
  const i = incident.steps.findIndex((s) => s.status === 'running');
  const step = incident.steps[i];
  if (!step?.startedAt) return '';
  const ran = formatDuration(now.getTime() - new Date(step.startedAt).getTime());
  return `; step ${i + 1}/${incident.plan.length} (${codeSpan(step.migration)}) running for ${ran}`;
}

function stepsList(steps: StepOutcome[]): string {
  const label = { done: 'done', failed: 'FAILED', not_run: 'not run', running: 'was running' } as const;
  return steps
    .map(
      (s) =>
        `${STEP_ICON[s.status]} ${codeSpan(s.migration)} — ${label[s.status]}${s.durationMs !== undefined ? ` (${s.durationMs} ms)` : ''}`,
    )
    .join('\n');
}

/**
 * Runbook 003 "Resolution message": "Rollback complete. Validation passed. …" — said only when
 * every verification check passed; otherwise the rollback completed *with warnings*, and the
 * failed checks are listed, each named and timed.
 */
export function resolutionMessage(
  incident: Incident,
  verification: VerificationResult,
  ticketUrl: string | null = null,
  templates: MessageTemplates = DEFAULT_TEMPLATES,
): SlackMessage {
  const failed = verification.checks.filter((c) => c.status === 'failed');
  const passed = verification.checks.filter((c) => c.status === 'passed');
  const text = renderTemplate(templates.resolution, {
    passed: failed.length === 0,
    passed_count: passed.length,
    passed_checks: passed.map((c) => c.name).join(', '),
    failed_count: failed.length,
    check_count: verification.checks.length,
    failed_checks: failed.map((c) => c.name).join(', '),
    migration: incident.migration,
    service: incident.service,
  });
  return {
    text,
    blocks: [
      section(
        `${failed.length ? ':warning:' : ':white_check_mark:'} *${text}*\nTracking table head is now ${verification.head ? `${codeSpan(verification.head)}` : '(empty)'}.`,
      ),
      section(stepsList(incident.steps)),
      checksBlock(verification),
      context(
        `${ticketUrl ? `Incident ticket: <${ticketUrl}|${shortId(incident.id)}> · ` : ''}Artifacts: ${incident.snapshot && incident.snapshot.provider !== 'none' ? `snapshot ${codeSpan(incident.snapshot.id)}` : 'no snapshot'}` +
          `${incident.basis ? ` · plan \`${incident.basis.digest.slice(0, 12)}\`` : ''} · timeline and postmortem draft (file below)`,
      ),
      context(
        `${snapshotLine(incident.snapshot)} · took ${formatDuration(verification.durationMs)} · incident \`${shortId(incident.id)}\` ${failed.length ? `resolved with warnings — \`/migrate close --service ${incident.service} --reason "…"\` acknowledges them` : 'resolved'}. ` +
          'Next (runbook 004): restart the service, check health endpoints, run smoke tests, watch error rates for 30–60 minutes.',
      ),
    ],
  };
}

/** A failed incident: the error in plain words, the steps that did and did not complete, and what people can do next. */
export function failureMessage(
  incident: Incident,
  failure: IncidentFailure,
  steps: StepOutcome[],
  service?: ServiceConfig,
): SlackMessage {
  if (incident.kind === 'restore' && service) return restoreFailureMessage(incident, service, failure);
  const done = steps.filter((s) => s.status === 'done').length;
  const what = 'Rollback';
  const retry = 'roll back what is still applied';
  return {
    text: `${what} failed: ${escapeMrkdwn(wordsPlain(failure.message))}`,
    blocks: [
      section(
        `:red_circle: *${what} of ${codeSpan(incident.migration)} on ${incident.service} failed.*\n${wordsMrkdwn(failure.message)}${failure.hint ? `\n:bulb: ${wordsMrkdwn(failure.hint)}` : ''}`,
      ),
      ...(steps.length ? [section(stepsList(steps))] : []),
      section(
        `*What now* (runbook 003 "Partial down failure": stop automated actions, capture diagnostics):\n` +
          `• \`/migrate status --service ${incident.service}\` — the tracking table as it is now\n` +
          `• \`/migrate retry --service ${incident.service}\` — re-plan and ${retry}; needs new approvals (press *Rehearse on a copy* on the new card to try it on a restored copy first)\n` +
          `• \`/migrate close --service ${incident.service} --reason "…"\` — once people handled it by hand\n` +
          `• \`/migrate restore <snapshot-id>\` — when the state cannot be recovered (runbook 003, Option B)`,
      ),
      context(
        `${steps.length === 0 ? '' : done === 0 ? 'No down migration completed. ' : `${done} of ${steps.length} down migration(s) completed. `}` +
          `${snapshotLine(incident.snapshot)}. Code: ${codeSpan(failure.code)}`,
      ),
    ],
  };
}

/** Reject pressed or `/migrate close` before the rollback started: the incident ends; `reason` as the person gave it. */
export function cancelledMessage(incident: Incident, byUserId: string, reason?: string): SlackMessage {
  const anyDone = incident.steps.some((s) => s.status === 'done');
  const changed =
    incident.kind === 'restore'
      ? 'nothing was restored and production was not touched'
      : anyDone
        ? `some down migrations had run before it stopped (see above)`
        : `nothing was changed in the *${incident.service}* database`;
  return {
    text: `${incident.kind === 'restore' ? 'Restore' : 'Rollback'} of ${incident.migration} cancelled`,
    blocks: [
      section(
        `:no_entry_sign: <@${byUserId}> ended this incident${reason ? `: ${wordsMrkdwn(words`${quote(reason)}`)}` : ''}. ${incident.kind === 'restore' ? 'Restore' : 'Rollback'} of ${codeSpan(incident.migration)} is *${anyDone ? 'closed' : 'cancelled'}*; ${changed}.`,
      ),
    ],
  };
}
