import { slackDate } from './limits.js';
import { wordsPlain } from '../../../shared/words.js';
import { DEFAULT_TEMPLATES, renderTemplate, type MessageTemplates } from '../templates.js';
import type { types } from '@slack/bolt';
import type { KnownBlock, SlackMessage } from './block-kit.js';
import type { ServiceConfig } from '../../../config/services.js';
import type { ApprovalProgress, VerificationResult } from '../../../domain/incident/ports/notifier.js';
import { approverWords } from '../../../domain/incident/ports/approvers.js';
import { wordsMrkdwn } from './words-mrkdwn.js';
import {
  shortId,
  type Incident,
  type IncidentFailure,
  type StepOutcome,
} from '../../../domain/incident/model/incident.js';
import type { SnapshotRecord } from '../../../domain/snapshots/snapshot-provider.js';
import { formatDuration } from '../../../shared/clock.js';
import { redactSecrets } from '../../../shared/redact.js';
import { clip, LIMITS } from './limits.js';
import { restoreAdviceBlocks, riskBlocks } from './risk-blocks.js';
import { checksBlock } from './verification-blocks.js';
import {
  restoreDialogs,
  restoreFailureMessage,
  restoreOpenedMessage,
  restoreSource,
  restoreSummary,
  restoreTargetNoun,
} from './restore-messages.js';

export type { SlackMessage } from './block-kit.js';

/** `action_id`s of the plan card's buttons; the value is {@link planButtonValue}. */
export const ACTION_APPROVE = 'incident_approve';
export const ACTION_REJECT = 'incident_reject';
/** The plan card's *Rehearse* button (value: the incident id): the plan runs on a scratch copy of the snapshot. */
export const ACTION_REHEARSE = 'incident_rehearse';

/** A plan-card button's value: `<incident uuid>:<first 12 hex of the plan digest>` (just the uuid for restores), so a stale card is recognised. */
export function planButtonValue(incidentId: string, digest: string | null | undefined): string {
  return digest ? `${incidentId}:${digest.slice(0, 12)}` : incidentId;
}

const STATE_LABEL: Record<Incident['state'], string> = {
  opened: ':large_blue_circle: opened',
  snapshotting: ':camera: taking the snapshot',
  awaiting_approval: ':raised_hand: awaiting approval',
  rolling_back: ':arrow_backward: rolling back',
  resolved: ':white_check_mark: resolved',
  resolved_with_warnings: ':warning: resolved with warnings — verification failed, needs a look',
  failed: ':red_circle: failed — needs a human',
  cancelled: ':no_entry_sign: cancelled',
};

const section = (text: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: clip(redactSecrets(text), LIMITS.sectionText) },
});
const context = (text: string): KnownBlock => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: clip(redactSecrets(text), LIMITS.sectionText) }],
});
const header = (text: string): KnownBlock => ({
  type: 'header',
  text: { type: 'plain_text', text: clip(text, LIMITS.headerText), emoji: true },
});
const users = (ids: string[]): string => ids.map((u) => `<@${u}>`).join(', ');

function snapshotLine(s: SnapshotRecord | null): string {
  if (!s) return ':warning: *No snapshot* (waived in services.yaml)';
  if (s.provider === 'none') return ':warning: *No snapshot* (waived in services.yaml)';
  return `Snapshot \`${s.id}\` (${s.provider}) ${s.status}`;
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
        `<@${incident.requestedBy}> asked to roll back \`${incident.migration}\` on *${service.name}* (${incident.plan.length} down migration${incident.plan.length === 1 ? '' : 's'}).\n` +
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
    snapshot: snapshot ? `\`${snapshot.id}\`` : '*none — waived in services.yaml*',
    eta: etaMinutes,
    service: incident.service,
  });
  const details: string[] = [];
  if (snapshot?.arn) details.push(`ARN \`${snapshot.arn}\``);
  if (snapshot?.sha256) details.push(`sha256 \`${snapshot.sha256.slice(0, 16)}…\``);
  if (snapshot?.sizeBytes !== undefined) details.push(`${snapshot.sizeBytes} bytes`);
  if (snapshot?.latestRestorableTime)
    details.push(`latest restorable ${slackDate(new Date(snapshot.latestRestorableTime))}`);
  return {
    text,
    blocks: [section(`:rotating_light: ${text}`), ...(details.length ? [context(details.join(' · '))] : [])],
  };
}

/** A button with a confirmation dialog (https://api.slack.com/reference/block-kit/composition-objects#confirm). */
function confirmButton(
  actionId: string,
  label: string,
  style: 'primary' | 'danger',
  value: string,
  dialog: { title: string; text: string; deny: string },
): types.Button {
  return {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text: label },
    style,
    value,
    confirm: {
      title: { type: 'plain_text', text: dialog.title },
      text: { type: 'mrkdwn', text: dialog.text },
      confirm: { type: 'plain_text', text: label },
      deny: { type: 'plain_text', text: dialog.deny },
    },
  };
}

/**
 * The Approve button's confirm dialog. A plan that reverts a dirty (partially applied) version
 * or a migration whose file changed since it was applied makes the approver acknowledge that
 * in the dialog before the approval counts (runbook 001 "Dirty Migration Recovery" and
 * "Checksum Mismatch").
 */
function approveDialog(
  incident: Incident,
  service: ServiceConfig,
  progress: ApprovalProgress,
): { title: string; text: string; deny: string } {
  if (incident.kind === 'restore') return restoreDialogs(incident, service).approve;
  const typed = progress.destructive
    ? ` This plan destroys data or security: next you confirm by typing *${service.name}*.`
    : '';
  const base = `${incident.plan.length} down migration(s) will run on *${service.name}* once the snapshot is available.${typed}`;
  const dirty = incident.plan.filter((s) => s.dirty).map((s) => `\`${s.migration}\``);
  const modified = incident.plan.filter((s) => s.modified).map((s) => `\`${s.migration}\``);
  if (!dirty.length && !modified.length)
    return { title: progress.destructive ? 'Destructive plan' : 'Approve this rollback?', text: base, deny: 'Not yet' };
  const ack = [
    dirty.length
      ? `${dirty.join(', ')} ${dirty.length === 1 ? 'is' : 'are'} *partially applied* (dirty): its down may meet objects its up never created.`
      : '',
    modified.length
      ? `${modified.join(', ')} changed since ${modified.length === 1 ? 'it was' : 'they were'} applied: the down on disk may not match what ran.`
      : '',
  ].filter(Boolean);
  return {
    title: 'Acknowledge and approve?',
    text: clip(`${base}\n:warning: ${ack.join(' ')} Approve only if you checked the schema by hand.`, 300),
    deny: 'Not yet',
  };
}

/** The plan with Approve / Reject buttons (runbook 003 "Mandatory pre-action checklist"), or the decision once made. */
export function planCardMessage(incident: Incident, service: ServiceConfig, progress: ApprovalProgress): SlackMessage {
  const steps = incident.plan.map((s, i) => {
    const sql = s.sql.filter((q) => !/^set\b/i.test(q.trim())).map((q) => clip(q.replace(/\s+/g, ' '), 140));
    const notes = [
      s.group,
      s.transactional ? null : '*no transaction*',
      s.modified ? '*file changed since applied*' : null,
    ]
      .filter(Boolean)
      .join(', ');
    const dirty = s.dirty
      ? `\n      :warning: *partially applied* (dirty): its down may meet objects the up never created (runbook 001 "Dirty Migration Recovery")`
      : '';
    return `${i + 1}. \`${s.migration}\`${notes ? ` (${notes})` : ''}${dirty}${sql.length ? `\n${sql.map((q) => `      \`${q}\``).join('\n')}` : ''}`;
  });
  const approvedBy = progress.approvals.map((a) => a.userId);
  const r = incident.kind === 'restore' ? incident.restore : null;
  const tier = progress.destructive ? ' (destructive plan: each approver confirms by typing the service name)' : '';
  const blocks: KnownBlock[] = r
    ? [
        header(`Restore plan — ${service.name}`),
        section(
          `${restoreSummary(incident, service)}, then wait until it is available. The source is never overwritten; cut-over stays with people.`,
        ),
        context(
          `needs ${progress.required} approvals from ${wordsMrkdwn(approverWords(service.approvals.approvers))} · the requester cannot approve`,
        ),
      ]
    : [
        header(`${progress.superseded ? 'Superseded plan' : 'Rollback plan'} — ${service.name}`),
        ...(incident.breakGlass
          ? [
              section(
                `:rotating_light: *BREAK GLASS* invoked by <@${incident.breakGlass.by}>: _${incident.breakGlass.reason}_ — one approval from a listed approver suffices.`,
              ),
            ]
          : []),
        ...riskBlocks(progress.risk),
        section(
          `Reverting *${incident.plan.length}* migration${incident.plan.length === 1 ? '' : 's'}, newest first, down to and including \`${incident.migration}\`:\n${steps.join('\n')}`,
        ),
        context(
          `lock_timeout ${service.lock_timeout.text} per step · snapshot before any change · needs ${progress.required} approvals${tier} from ${wordsMrkdwn(approverWords(service.approvals.approvers))} · the requester cannot approve` +
            (incident.basis ? ` · plan \`${incident.basis.digest.slice(0, 12)}\`` : ''),
        ),
      ];
  for (const w of progress.warnings ?? []) blocks.push(section(`:warning: ${w}`));
  const rh = progress.rehearsal;
  if (rh) {
    blocks.push(
      section(
        rh.passed
          ? `:test_tube: *Rehearsal passed* on a scratch copy (${slackDate(new Date(rh.at))}): every down migration ran.`
          : `:test_tube: *Rehearsal FAILED* on a scratch copy (${slackDate(new Date(rh.at))})${rh.failedStep ? ` at \`${rh.failedStep}\`` : ''}${rh.error ? `: ${wordsMrkdwn(rh.error)}` : ''} — the same would happen in production.`,
      ),
    );
  }
  if (progress.superseded) {
    blocks.push(
      context(
        ':recycle: This plan was superseded: the migration files or the tracking table changed after it was posted. Its approvals were voided; the new plan card is below.',
      ),
    );
    return { text: `Superseded rollback plan for ${service.name}`, blocks };
  }
  blocks.push(
    section(
      `*Approvals:* ${approvedBy.length} of ${progress.required}${approvedBy.length ? ` — ${users(approvedBy)}` : ''}`,
    ),
  );
  const open =
    incident.state === 'opened' || incident.state === 'snapshotting' || incident.state === 'awaiting_approval';
  if (open && !r) blocks.push(...restoreAdviceBlocks(incident.id, progress.risk, progress.unapprovable));
  if (open) {
    if (approvedBy.length < progress.required) {
      const value = planButtonValue(incident.id, incident.basis?.digest);
      const reject = confirmButton(ACTION_REJECT, 'Reject', 'danger', value, {
        ...(r
          ? restoreDialogs(incident, service).reject
          : {
              title: 'Reject this rollback?',
              text: 'The incident ends as cancelled. Nothing is changed in the database.',
              deny: 'Keep it',
            }),
      });
      blocks.push({
        type: 'actions',
        block_id: `plan_${shortId(incident.id)}`,
        // An irreversible step: no Approve at all (restore instead); Reject still ends the incident.
        elements: [
          ...(progress.unapprovable
            ? []
            : [confirmButton(ACTION_APPROVE, 'Approve', 'primary', value, approveDialog(incident, service, progress))]),
          reject,
          ...(progress.canRehearse
            ? [
                {
                  type: 'button' as const,
                  action_id: ACTION_REHEARSE,
                  text: { type: 'plain_text' as const, text: 'Rehearse on a copy' },
                  value: incident.id,
                },
              ]
            : []),
        ],
      });
    } else {
      blocks.push(
        context(
          r
            ? ':white_check_mark: Approved. The restore runs now.'
            : ':white_check_mark: Approved. The rollback runs once the snapshot is available.',
        ),
      );
    }
  } else {
    blocks.push(context(`Decision: ${STATE_LABEL[incident.state]}`));
  }
  const summary = r
    ? `Restore plan for ${service.name}: new ${restoreTargetNoun(service)} ${r.target}`
    : `Rollback plan for ${service.name}: ${incident.plan.length} down migration(s)`;
  return { text: `${summary}; ${approvedBy.length}/${progress.required} approvals`, blocks };
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
    incident.kind === 'restore' ? `restore of ${restoreSource(incident)}` : `rollback of \`${incident.migration}\``;
  const state =
    incident.kind === 'restore' && incident.state === 'rolling_back'
      ? ':arrows_counterclockwise: restoring'
      : STATE_LABEL[incident.state];
  const lines = [
    ...(incident.kind === 'restore' ? [] : [`• ${snapshotLine(incident.snapshot)}`]),
    `• Approvals: ${progress.approvals.length} of ${progress.required}${progress.approvals.length ? ` (${users(progress.approvals.map((a) => a.userId))})` : ''}`,
    incident.kind === 'restore'
      ? `• Restore into the new \`${incident.restore?.target}\``
      : `• Down migrations: ${done} of ${incident.plan.length} done`,
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

function stepsList(steps: StepOutcome[]): string {
  const icon = { done: ':white_check_mark:', failed: ':x:', not_run: ':white_circle:' } as const;
  const label = { done: 'done', failed: 'FAILED', not_run: 'not run' } as const;
  return steps
    .map(
      (s) =>
        `${icon[s.status]} \`${s.migration}\` — ${label[s.status]}${s.durationMs !== undefined ? ` (${s.durationMs} ms)` : ''}`,
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
        `${failed.length ? ':warning:' : ':white_check_mark:'} *${text}*\nTracking table head is now ${verification.head ? `\`${verification.head}\`` : '(empty)'}.`,
      ),
      section(stepsList(incident.steps)),
      checksBlock(verification),
      context(
        `${ticketUrl ? `Incident ticket: <${ticketUrl}|${shortId(incident.id)}> · ` : ''}Artifacts: ${incident.snapshot && incident.snapshot.provider !== 'none' ? `snapshot \`${incident.snapshot.id}\`` : 'no snapshot'}` +
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
    text: `${what} failed: ${wordsPlain(failure.message)}`,
    blocks: [
      section(
        `:red_circle: *${what} of \`${incident.migration}\` on ${incident.service} failed.*\n${wordsMrkdwn(failure.message)}${failure.hint ? `\n:bulb: ${wordsMrkdwn(failure.hint)}` : ''}`,
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
          `${snapshotLine(incident.snapshot)}. Code: \`${failure.code}\``,
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
        `:no_entry_sign: <@${byUserId}> ended this incident${reason ? `: _${reason}_` : ''}. ${incident.kind === 'restore' ? 'Restore' : 'Rollback'} of \`${incident.migration}\` is *${anyDone ? 'closed' : 'cancelled'}*; ${changed}.`,
      ),
    ],
  };
}
