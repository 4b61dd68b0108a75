import { statusUpdateMinutes } from '../../../domain/incident/process/severity.js';
import type { RollbackEta } from '../../../domain/incident/model/eta.js';
import { formatBytes } from '../../../domain/triage/safe-value.js';
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

export {
  ACTION_APPROVE,
  ACTION_REHEARSE,
  ACTION_REJECT,
  planButtonValue,
  planCardMessage,
  planSqlMessage,
} from './plan-card.js';

function snapshotLine(s: SnapshotRecord | null): string {
  if (!s) return ':warning: *No snapshot* (waived in services.yaml)';
  if (s.provider === 'none') return ':warning: *No snapshot* (waived in services.yaml)';
  return `Snapshot ${codeSpan(s.id)} (${s.provider}) ${s.status}`;
}

/**
 * First message in the channel: what was asked, by whom, and what happens next — `next`, from
 * the incident's state once the live summary is drawn ({@link nextLine}), else what opening means.
 */
export function openedMessage(incident: Incident, service: ServiceConfig, next?: string): SlackMessage {
  const waiver = service.snapshot.provider === 'none' ? service.snapshot.waiver_reason : null;
  if (incident.kind === 'restore') return restoreOpenedMessage(incident, service, next);
  return {
    text: `Incident opened: rollback of ${incident.migration} on ${service.name}`,
    blocks: [
      header(`Rollback of ${incident.migration} — ${service.name}`),
      section(
        `<@${incident.requestedBy}> asked to roll back ${codeSpan(incident.migration)} on *${service.name}* (${incident.plan.length} down migration${incident.plan.length === 1 ? '' : 's'}).\n` +
          (next ??
            `*Next:* triage, the plan for ${service.approvals.required} approvals from ${wordsMrkdwn(approverWords(service.approvals.approvers))}, and a snapshot — nothing runs before the snapshot is available and the approvals are in.`),
      ),
      ...(waiver
        ? [section(`:warning: *NO SNAPSHOT WILL BE TAKEN for ${service.name}.* Waiver in services.yaml: _${waiver}_`)]
        : []),
      // Drawn with the live summary, whose own context line says the same (and more).
      ...(next
        ? []
        : [
            context(
              `Incident \`${shortId(incident.id)}\` · opened ${slackDate(incident.createdAt)} · status updates every ${statusUpdateMinutes(service, incident.severity)} min`,
            ),
          ]),
    ],
  };
}

/**
 * Runbook 003 "Communication & coordination — Initial notice", posted when the rollback starts:
 * the template's sentence, and a context line with the snapshot's facts and what the ETA rests on.
 */
export function initialNoticeMessage(
  incident: Incident,
  snapshot: SnapshotRecord | null,
  eta: RollbackEta,
  templates: MessageTemplates = DEFAULT_TEMPLATES,
): SlackMessage {
  const savedAs = snapshot ? `${codeSpan(snapshot.id)}` : '*none — waived in services.yaml*';
  // The template speaks of a rollback; an unarchive says what it is.
  const text =
    incident.kind === 'unarchive'
      ? `Unarchive ${codeSpan(incident.migration.replace(/^unarchive of /, ''))} initiated: ${incident.plan.length} archive table(s) written back in one transaction. Snapshot saved: ${savedAs}.`
      : renderTemplate(templates['initial-notice'], {
          migration: incident.migration,
          snapshot: savedAs,
          eta: eta.minutes,
          service: incident.service,
        });
  const details: string[] = [
    incident.kind === 'unarchive'
      ? 'ETA: the write and a row-by-row check, seconds to minutes with the archive’s size'
      : eta.basis === 'rehearsal'
        ? `ETA from the rehearsal of this plan (its downs took ${formatDuration(eta.rehearsalMs ?? 0)} on the copy)`
        : 'ETA: about a minute per down migration (no rehearsal of this plan)',
  ];
  if (snapshot?.sizeBytes !== undefined) details.push(`snapshot ${formatBytes(snapshot.sizeBytes)}`);
  if (snapshot?.latestRestorableTime)
    details.push(`latest restorable ${slackDate(new Date(snapshot.latestRestorableTime))}`);
  return {
    text,
    blocks: [section(`:rotating_light: ${text}`), context(details.join(' · '))],
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
      : incident.kind === 'unarchive'
        ? codeSpan(incident.migration)
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
      : `• ${incident.kind === 'unarchive' ? 'Archive tables written back' : 'Down migrations'}: ${done} of ${incident.plan.length} done${runningStep(incident, now)}`,
  ];
  // One line: the failure message itself is in the channel already (a status update never repeats it).
  if (incident.failure) lines.push(`• Issue: ${codeSpan(incident.failure.code)} — see the failure message above`);
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
    text: `Status update: ${incident.service} ${incident.kind} is ${incident.kind === 'restore' && incident.state === 'rolling_back' ? 'restoring' : incident.state.replace(/_/g, ' ')}`,
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

/** A verification check's name as words for a headline: `schema_fingerprint` → "schema fingerprint". */
export const checkWords = (name: string): string =>
  name === 'health_urls' ? 'health endpoints' : name.replace(/_/g, ' ');

/** What on-call does after a rollback that verified (runbook 004 "Post-rollback"). */
const WATCH_NEXT =
  '*Next* (runbook 004): restart the service, check its health endpoints, run smoke tests, and watch error rates for 30–60 minutes.';

/**
 * Runbook 003 "Resolution message", as two messages: a top-level headline that fits a phone
 * screen — "Rollback complete. Validation passed: 4 checks." (said only when every check passed;
 * otherwise the rollback completed *with warnings* and the failed checks are named), what ran and
 * how long it took, and what on-call does next — and a thread reply with the steps, each check
 * with its figures and times, and the artifacts.
 */
export function resolutionMessages(
  incident: Incident,
  verification: VerificationResult,
  ticketUrl: string | null = null,
  templates: MessageTemplates = DEFAULT_TEMPLATES,
): { headline: SlackMessage; details: SlackMessage } {
  const failed = verification.checks.filter((c) => c.status === 'failed');
  const passed = verification.checks.filter((c) => c.status === 'passed');
  const rendered = renderTemplate(templates.resolution, {
    passed: failed.length === 0,
    passed_count: passed.length,
    passed_checks: passed.map((c) => checkWords(c.name)).join(', '),
    failed_count: failed.length,
    check_count: verification.checks.length,
    failed_checks: failed.map((c) => checkWords(c.name)).join(', '),
    migration: incident.migration,
    service: incident.service,
  });
  // The template speaks of a rollback; an unarchive's steps ran in one transaction (each has its time).
  const unarchive = incident.kind === 'unarchive';
  const text = unarchive ? rendered.replace(/^Rollback\b/, 'Unarchive') : rendered;
  const done = incident.steps.filter((s) => s.status === 'done');
  const tookMs = unarchive
    ? Math.max(0, ...done.map((s) => s.durationMs ?? 0))
    : done.reduce((sum, s) => sum + (s.durationMs ?? 0), 0);
  const ran = unarchive
    ? `Wrote back ${done.length} archive table${done.length === 1 ? '' : 's'} on *${incident.service}* in ${formatDuration(tookMs)}: ${verification.checks[0]?.detail ?? ''}.`
    : `Rolled back ${done.length} migration${done.length === 1 ? '' : 's'} on *${incident.service}* in ${formatDuration(tookMs)}; the tracking table's newest entry is now ${verification.head ? codeSpan(verification.head) : '(none)'}.`;
  const archived = incident.steps.flatMap((s) => s.archived ?? []);
  const kept = archived.length
    ? `\n:file_cabinet: Archived before the downs: ${archived
        .map((a) => `${codeSpan(a.table)} (${a.rows.toLocaleString('en-US')} rows, ${formatBytes(a.bytes)})`)
        .join(', ')}.`
    : '';
  const next = failed.length
    ? `*Next:* look at the failed check${failed.length === 1 ? '' : 's'} in the thread, then \`/migrate close --service ${incident.service} --reason "…"\` acknowledges ${failed.length === 1 ? 'it' : 'them'}.`
    : WATCH_NEXT;
  return {
    headline: {
      text,
      blocks: [section(`${failed.length ? ':warning:' : ':white_check_mark:'} *${text}*\n${ran}${kept}\n${next}`)],
    },
    details: {
      text: `Resolution details: ${incident.service}`,
      blocks: [
        section(stepsList(incident.steps)),
        checksBlock(verification),
        context(
          `${ticketUrl ? `Incident ticket: <${ticketUrl}|${shortId(incident.id)}> · ` : ''}${snapshotLine(incident.snapshot)}` +
            `${incident.basis ? ` · plan \`${incident.basis.digest.slice(0, 12)}\`` : ''} · verification took ${formatDuration(verification.durationMs)} · incident \`${shortId(incident.id)}\` · timeline and postmortem draft in the channel`,
        ),
      ],
    },
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
  const what = incident.kind === 'unarchive' ? 'Unarchive' : 'Rollback';
  const retry = 'roll back what is still applied';
  return {
    text: `${what} failed: ${escapeMrkdwn(wordsPlain(failure.message))}`,
    blocks: [
      section(
        `:red_circle: *${what} of ${codeSpan(incident.migration)} on ${incident.service} failed.*\n${wordsMrkdwn(failure.message)}${failure.hint ? `\n:bulb: ${wordsMrkdwn(failure.hint)}` : ''}`,
      ),
      ...(steps.length ? [section(stepsList(steps))] : []),
      section(
        `*What now* (runbook 003 "Partial down failure"):\n` +
          `• \`/migrate status --service ${incident.service}\` — the tracking table now\n` +
          `• \`/migrate retry --service ${incident.service}\` — ${retry}, with new approvals\n` +
          `• \`/migrate close --service ${incident.service} --reason "…"\` — once handled by hand\n` +
          (incident.snapshot && incident.snapshot.provider !== 'none'
            ? `• \`/migrate restore ${incident.snapshot.id}\` — if the state cannot be recovered`
            : '• restore a backup by hand if the state cannot be recovered (this incident took no snapshot)'),
      ),
      context(
        `${steps.length === 0 ? '' : done === 0 ? 'No down migration completed · ' : `${done} of ${steps.length} down migration(s) completed · `}` +
          `code ${codeSpan(failure.code)}`,
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
