import { statusUpdateMinutes } from '../../../domain/incident/process/severity.js';
import { codeSpan, wordsMrkdwn } from './words-mrkdwn.js';
import { nextActions } from './status-blocks.js';
import { approverWords } from '../../../domain/incident/ports/approvers.js';
import { slackDate } from './limits.js';
import type { KnownBlock } from './block-kit.js';
import type { ServiceConfig } from '../../../config/services.js';
import type { IncidentSummary } from '../../../domain/incident/use-cases/summary.js';
import { shortId, type Incident } from '../../../domain/incident/model/incident.js';
import { clip, LIMITS } from './limits.js';
import { redactSecrets } from '../../../shared/redact.js';
import { processBlocks } from './process-blocks.js';

/** The pinned summary's *Stop now* button while a down runs: `/migrate close --force` (approvers). */
export const ACTION_STOP_NOW = 'incident_stop_now';

const STATE_WORDS: Record<Incident['state'], string> = {
  opened: ':large_blue_circle: Opened',
  snapshotting: ':camera: Taking the snapshot',
  awaiting_approval: ':raised_hand: Awaiting approval',
  rolling_back: ':arrow_backward: Rolling back',
  resolved: ':white_check_mark: Resolved',
  resolved_with_warnings: ':warning: Resolved with warnings',
  failed: ':red_circle: Failed — needs a human',
  cancelled: ':no_entry_sign: Cancelled',
};

/** The state in words; a restore incident's running state is "Restoring". */
const stateWords = (i: Incident): string =>
  i.kind === 'restore' && i.state === 'rolling_back' ? ':arrows_counterclockwise: Restoring' : STATE_WORDS[i.state];

/** The channel topic for a state (Slack: at most 250 characters). */
export function topicFor(incident: Incident): string {
  const what = incident.kind === 'rollback' ? `rollback of ${incident.migration}` : incident.migration;
  return clip(
    `${stateWords(incident).replace(/^:[a-z_]+: /, '')} · ${what} on ${incident.service} · incident ${shortId(incident.id)}${incident.severity ? ` · ${incident.severity}` : ''}`,
    250,
  );
}

/**
 * The pinned summary's "Next:" line, from the incident's state, so it is never stale: who must
 * approve while approvals are missing, which step runs, what to watch once resolved (runbook 004
 * "Post-rollback"), and the real commands and snapshot id after a failure (runbook 003 "Partial
 * down failure").
 */
export function nextLine(s: IncidentSummary, service: ServiceConfig): string {
  const i = s.incident;
  const missing = s.progress.required - s.progress.approvals.length;
  const approvers = wordsMrkdwn(approverWords(service.approvals.approvers));
  const snapshotReady = i.snapshot?.status === 'available' || service.snapshot.provider === 'none';
  const restore = i.kind === 'restore';
  switch (i.state) {
    case 'opened':
      return `*Next:* triage, then the plan for ${s.progress.required} approvals from ${approvers}${restore ? '' : ' and a snapshot'}.`;
    case 'snapshotting':
    case 'awaiting_approval': {
      if (missing <= 0)
        return `*Next:* the ${i.kind} starts ${snapshotReady || restore ? 'now' : 'once the snapshot is available'}.`;
      const wait = `${missing} more approval${missing === 1 ? '' : 's'} from ${approvers} on the plan card`;
      return `*Next:* ${wait}${snapshotReady || restore ? '' : '; the snapshot is being taken'}. Nothing runs before ${restore ? 'the approvals are in' : 'both'}.`;
    }
    case 'rolling_back': {
      if (restore)
        return `*Next:* the restore into ${codeSpan(i.restore?.target)} finishes; then point a copy of the service at it.`;
      const n = i.steps.findIndex((x) => x.status === 'running');
      const step = n >= 0 ? i.steps[n] : undefined;
      return step
        ? `*Next:* step ${n + 1}/${i.plan.length} ${codeSpan(step.migration)} is running; verification follows the last step.`
        : i.kind === 'unarchive'
          ? '*Next:* the archive is written back in one transaction; a row-by-row comparison follows.'
          : '*Next:* the down migrations run one by one; verification follows the last step.';
    }
    case 'resolved':
      return restore
        ? '*Next:* check the restored copy, then cut over by hand if it is the one you need.'
        : '*Next* (runbook 004): restart the service, check its health endpoints, run smoke tests, and watch error rates for 30–60 minutes.';
    case 'resolved_with_warnings':
    case 'failed':
      // The same ways forward /migrate status gives, with the real ids.
      return `*Next:* ${nextActions({ incident: i, approvals: s.progress.approvals, service, required: s.progress.required })}`;
    case 'cancelled':
      return i.steps.some((x) => x.status === 'done')
        ? '*Next:* check the service: some down migrations ran before the incident was closed (see the thread).'
        : '*Next:* nothing — the incident was cancelled and nothing ran.';
  }
}

/**
 * Runbook 003's "Condensed rollback checklist (playbook)", ticked as the bot completes each item;
 * "Down tested on staging" ticks on a passed rehearsal on a restored copy.
 */
export function checklist(s: IncidentSummary): string {
  const i = s.incident;
  const approved = s.progress.approvals.length >= s.progress.required;
  const items: Array<[boolean, string]> = [
    [
      i.snapshot?.status === 'available',
      `Snapshot/dump taken and ID recorded${i.snapshot?.status === 'available' ? ` (${codeSpan(i.snapshot.id)})` : ''}`,
    ],
    [i.conversation !== null, 'Incident channel open and approvers available'],
    [approved, 'Strategy chosen: down / restore / revert app (the plan approved)'],
    [s.progress.rehearsal?.passed === true, 'Down tested on a restored copy (*Rehearse on a copy*)'],
    [
      i.plan.length > 0 && i.steps.filter((x) => x.status === 'done').length === i.plan.length,
      'Action executed by the bot, with logs recorded (the event log)',
    ],
    [s.verification !== null && s.verification.failed.length === 0, 'Post-rollback verification passed'],
    [s.documented, 'Communication/incident documentation completed (timeline and postmortem draft)'],
  ];
  // One paragraph, not a line per item: the pinned summary stays short enough to leave the plan card on screen.
  return `*Checklist* (runbook 003): ${items.map(([done, text]) => `${done ? ':ballot_box_with_check:' : ':white_large_square:'} ${text}`).join(' · ')}`;
}

/**
 * The live part of the pinned summary: state, snapshot, approvals, step progress, verification,
 * next status update and who is involved, as Block Kit fields; redrawn in place on every
 * delivery of the incident's notices.
 */
export function summaryBlocks(s: IncidentSummary, service: ServiceConfig, now: Date): KnownBlock[] {
  const i = s.incident;
  const done = i.steps.filter((x) => x.status === 'done').length;
  const failedStep = i.steps.find((x) => x.status === 'failed');
  const runningStep = i.state === 'rolling_back' ? i.steps.find((x) => x.status === 'running') : undefined;
  const field = (label: string, value: string) => ({
    type: 'mrkdwn' as const,
    text: clip(redactSecrets(`*${label}*\n${value}`), 2000),
  });
  const approvals = field(
    'Approvals',
    `${s.progress.approvals.length} of ${s.progress.required}${s.progress.approvals.length ? ` — ${s.progress.approvals.map((a) => `<@${a.userId}>`).join(', ')}` : ''}`,
  );
  const nextUpdate = s.nextStatusUpdateAt
    ? ` · next status update ${slackDate(s.nextStatusUpdateAt)} (every ${statusUpdateMinutes(service, i.severity)} min)`
    : '';
  const fields =
    i.kind === 'restore'
      ? [
          field('State', stateWords(i)),
          field('Source', `\`${i.restore?.snapshotId ?? i.restore?.to ?? '?'}\``),
          field('New copy', `\`${i.restore?.target ?? '?'}\``),
          approvals,
        ]
      : [
          field('State', stateWords(i)),
          field(
            'Snapshot',
            i.snapshot
              ? `${codeSpan(i.snapshot.id)} ${i.snapshot.status}`
              : service.snapshot.provider === 'none'
                ? ':warning: none (waived)'
                : 'not taken yet',
          ),
          approvals,
          // Verification joins the steps' field once it ran: four fields keep the pinned summary short.
          field(
            'Down migrations',
            `${done} of ${i.plan.length} done${failedStep ? ` · :x: ${codeSpan(failedStep.migration)} failed` : ''}${runningStep?.startedAt ? ` · :hourglass_flowing_sand: ${codeSpan(runningStep.migration)} running since ${slackDate(new Date(runningStep.startedAt))} (step_timeout ${service.step_timeout.text})` : ''}${
              s.verification
                ? s.verification.failed.length
                  ? ` · verification :x: failed: ${s.verification.failed.join(', ')}`
                  : ' · verification :white_check_mark: passed'
                : ''
            }`,
          ),
        ];
  return [
    { type: 'section', fields },
    ...processBlocks(s, service),
    ...(runningStep ? [stopNowButton(i, runningStep.migration)] : []),
    ...(i.kind === 'rollback'
      ? [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: checklist(s) } }]
      : []),
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: clip(
            `Incident \`${shortId(i.id)}\` · opened ${slackDate(i.createdAt)} · involved: ${s.involved.map((u) => `<@${u}>`).join(', ')}${nextUpdate} · updated ${slackDate(now)} · progress in the thread below`,
            LIMITS.sectionText,
          ),
        },
      ],
    },
  ];
}

/** *Stop now*, with Slack's confirmation dialog: cancels the running down (its transaction rolls back) and fails the incident. */
function stopNowButton(incident: Incident, migration: string): KnownBlock {
  return {
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: ACTION_STOP_NOW,
        style: 'danger',
        text: { type: 'plain_text', text: 'Stop now' },
        value: incident.id,
        confirm: {
          title: { type: 'plain_text', text: 'Stop the running step?' },
          text: {
            type: 'mrkdwn',
            text: clip(
              `The running down migration ${codeSpan(migration)} is cancelled now: a transactional step rolls back, one outside a transaction may be left partly applied. The incident then fails with the steps that completed. Approvers only.`,
              300,
            ),
          },
          confirm: { type: 'plain_text', text: 'Stop now' },
          deny: { type: 'plain_text', text: 'Let it run' },
        },
      },
    ],
  } as KnownBlock;
}
