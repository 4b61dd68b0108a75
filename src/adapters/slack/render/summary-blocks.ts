import { codeSpan } from './words-mrkdwn.js';
import { slackDate } from './limits.js';
import type { KnownBlock } from './block-kit.js';
import type { ServiceConfig } from '../../../config/services.js';
import type { IncidentSummary } from '../../../domain/incident/use-cases/summary.js';
import { shortId, type Incident } from '../../../domain/incident/model/incident.js';
import { clip, LIMITS } from './limits.js';
import { redactSecrets } from '../../../shared/redact.js';

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
  const what = incident.kind === 'restore' ? incident.migration : `rollback of ${incident.migration}`;
  return clip(
    `${stateWords(incident).replace(/^:[a-z_]+: /, '')} · ${what} on ${incident.service} · incident ${shortId(incident.id)}`,
    250,
  );
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
  return `*Checklist* (runbook 003):\n${items.map(([done, text]) => `${done ? ':ballot_box_with_check:' : ':white_large_square:'} ${text}`).join('\n')}`;
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
  const next = field(
    'Next status update',
    s.nextStatusUpdateAt ? `${slackDate(s.nextStatusUpdateAt)} (every ${service.status_update_minutes} min)` : '—',
  );
  const fields =
    i.kind === 'restore'
      ? [
          field('State', stateWords(i)),
          field('Source', `\`${i.restore?.snapshotId ?? i.restore?.to ?? '?'}\``),
          field('New copy', `\`${i.restore?.target ?? '?'}\``),
          approvals,
          next,
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
          field(
            'Down migrations',
            `${done} of ${i.plan.length} done${failedStep ? ` · :x: ${codeSpan(failedStep.migration)} failed` : ''}${runningStep?.startedAt ? ` · :hourglass_flowing_sand: ${codeSpan(runningStep.migration)} running since ${slackDate(new Date(runningStep.startedAt))} (step_timeout ${service.step_timeout.text})` : ''}`,
          ),
          field(
            'Verification',
            s.verification
              ? s.verification.failed.length
                ? `:x: failed: ${s.verification.failed.join(', ')}`
                : ':white_check_mark: passed'
              : '—',
          ),
          next,
        ];
  return [
    { type: 'section', fields },
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
            `Involved: ${s.involved.map((u) => `<@${u}>`).join(', ')} · updated ${slackDate(now)} · progress in the thread below`,
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
