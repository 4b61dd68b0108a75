import { quote, words } from '../../../shared/words.js';
import { slackDate } from './limits.js';
import type { types } from '@slack/bolt';
import { context, header, type KnownBlock, section, type SlackMessage } from './block-kit.js';
import type { ServiceConfig } from '../../../config/services.js';
import type { ApprovalProgress } from '../../../domain/incident/ports/notifier.js';
import { approverWords } from '../../../domain/incident/ports/approvers.js';
import { codeSpan, people, wordsMrkdwn } from './words-mrkdwn.js';
import { shortId, type Incident } from '../../../domain/incident/model/incident.js';
import { clip, escapeMrkdwn } from './limits.js';
import { restoreAdviceBlocks, riskBlocks } from './risk-blocks.js';
import { unarchiveLead, unarchiveStepNote } from './unarchive-blocks.js';
import { optionsBlocks } from './options-blocks.js';
import { restoreDialogs, restoreSummary, restoreTargetNoun } from './restore-messages.js';
import { archiveBlocks, computedPlanButton, schemaCheckBlocks } from './schema-check-blocks.js';

/** An incident state as the channel shows it: emoji and words. */
export const STATE_LABEL: Record<Incident['state'], string> = {
  opened: ':large_blue_circle: opened',
  snapshotting: ':camera: taking the snapshot',
  awaiting_approval: ':raised_hand: awaiting approval',
  rolling_back: ':arrow_backward: rolling back',
  resolved: ':white_check_mark: resolved',
  resolved_with_warnings: ':warning: resolved with warnings — verification failed, needs a look',
  failed: ':red_circle: failed — needs a human',
  cancelled: ':no_entry_sign: cancelled',
};

/** " (approvers as of <time>)" when the incident's approvers were read at its opening (user groups are not re-read at each press). */
const asOf = (incident: Pick<Incident, 'approvers'>): string =>
  incident.approvers ? ` (approvers as of ${slackDate(new Date(incident.approvers.asOf))})` : '';

/** `action_id`s of the plan card's buttons; the value is {@link planButtonValue}. */
export const ACTION_APPROVE = 'incident_approve';
export const ACTION_REJECT = 'incident_reject';
/** The plan card's *Rehearse* button (value: the incident id): the plan runs on a scratch copy of the snapshot. */
export const ACTION_REHEARSE = 'incident_rehearse';

/** A plan-card button's value: `<incident uuid>:<first 12 hex of the plan digest>` (just the uuid for restores), so a stale card is recognised. */
export function planButtonValue(incidentId: string, digest: string | null | undefined): string {
  return digest ? `${incidentId}:${digest.slice(0, 12)}` : incidentId;
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
  const base =
    incident.kind === 'unarchive'
      ? `${incident.plan.length} archive table(s) will be written back on *${service.name}* once the snapshot is available.${typed}`
      : `${incident.plan.length} down migration(s) will run on *${service.name}* once the snapshot is available.${typed}`;
  const dirty = incident.plan.filter((s) => s.dirty).map((s) => `${codeSpan(s.migration)}`);
  const modified = incident.plan.filter((s) => s.modified).map((s) => `${codeSpan(s.migration)}`);
  if (!dirty.length && !modified.length)
    return {
      title: progress.destructive ? 'Destructive plan' : `Approve this ${incident.kind}?`,
      text: base,
      deny: 'Not yet',
    };
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

/**
 * How a plan card's round ended (or that it runs), in place of its buttons: a card is never left
 * saying "Approved" after its round failed, was cancelled or completed.
 */
export function planOutcome(incident: Pick<Incident, 'state' | 'kind' | 'attempt'>): string {
  const round = incident.attempt > 1 ? `Round ${incident.attempt}` : 'This plan';
  const restore = incident.kind === 'restore';
  switch (incident.state) {
    case 'rolling_back':
      return `:arrow_forward: Approved — ${{ restore: 'restoring', rollback: 'rolling back', unarchive: 'writing the archive back' }[incident.kind]} now; progress in the summary's thread.`;
    case 'resolved':
      return `:white_check_mark: ${round} completed — see the ${restore ? 'restore' : 'resolution'} message below.`;
    case 'resolved_with_warnings':
      return `:warning: ${round} completed, but verification failed — see the resolution below.`;
    case 'failed':
      return `:red_circle: ${round} failed — see the failure below; \`/migrate retry\` posts a new plan.`;
    case 'cancelled':
      return `:no_entry_sign: ${round} was cancelled — nothing more runs from this card.`;
    default:
      return `Decision: ${STATE_LABEL[incident.state]}`;
  }
}

/** Statements shown per step on the card; the rest are in the card's thread ({@link planSqlMessage}). */
export const CARD_STATEMENTS_PER_STEP = 3;

/** A down's statements as the card lists them: `SET` lines (lock_timeout and the like) left out. */
const shownSql = (sql: readonly string[]): string[] => sql.filter((q) => !/^set\b/i.test(q.trim()));

/**
 * Every statement of every down, for the plan card's thread when the card had to cut some (more
 * than {@link CARD_STATEMENTS_PER_STEP} in a step); null when the card shows them all.
 */
export function planSqlMessage(incident: Incident): SlackMessage | null {
  if (!incident.plan.some((s) => shownSql(s.sql).length > CARD_STATEMENTS_PER_STEP)) return null;
  const blocks = incident.plan.map((s, i) =>
    section(
      clip(
        `${i + 1}. ${codeSpan(s.migration)}\n\`\`\`${shownSql(s.sql)
          .map((q) => escapeMrkdwn(q.trim()).replace(/```/g, "'''"))
          .join(';\n')}\`\`\``,
        2900,
      ),
    ),
  );
  return { text: `Every statement of the plan for ${incident.service}`, blocks: blocks.slice(0, 49) };
}

/** The plan with Approve / Reject buttons (runbook 003 "Mandatory pre-action checklist"), or the decision once made. */
export function planCardMessage(incident: Incident, service: ServiceConfig, progress: ApprovalProgress): SlackMessage {
  const steps = incident.plan.map((s, i) => {
    const all = shownSql(s.sql);
    const sql = all.slice(0, CARD_STATEMENTS_PER_STEP).map((q) => clip(q.replace(/\s+/g, ' '), 140));
    const more =
      all.length > sql.length ? `\n      _+${all.length - sql.length} more statements — every one in the thread_` : '';
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
    return `${i + 1}. ${codeSpan(s.migration)}${notes ? ` (${notes})` : ''}${dirty}${unarchiveStepNote(s)}${sql.length ? `\n${sql.map((q) => `      ${codeSpan(q)}`).join('\n')}` : ''}${more}`;
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
          `needs ${progress.required} approvals from ${wordsMrkdwn(approverWords(service.approvals.approvers))}${asOf(incident)} · the requester cannot approve`,
        ),
      ]
    : [
        header(
          `${progress.superseded ? 'Superseded plan' : incident.kind === 'unarchive' ? 'Unarchive plan' : 'Rollback plan'}${incident.attempt > 1 ? ` (round ${incident.attempt})` : ''} — ${service.name}`,
        ),
        ...(incident.breakGlass
          ? [
              section(
                `:rotating_light: *BREAK GLASS* invoked by <@${incident.breakGlass.by}>: ${wordsMrkdwn(words`${quote(incident.breakGlass.reason)}`)} — one approval from a listed approver suffices.`,
              ),
            ]
          : []),
        ...riskBlocks(progress.risk),
        ...archiveBlocks(incident.plan),
        ...optionsBlocks(incident, progress, service),
        section(
          incident.kind === 'unarchive'
            ? unarchiveLead(incident, steps)
            : incident.plan.some((s) => s.computed)
              ? `Reverting ${codeSpan(incident.migration)} and what came after it with the *computed plan*:\n${steps.join('\n')}`
              : `Reverting *${incident.plan.length}* migration${incident.plan.length === 1 ? '' : 's'}, newest first, down to and including ${codeSpan(incident.migration)}:\n${steps.join('\n')}`,
        ),
        ...(incident.kind === 'rollback' ? schemaCheckBlocks(incident) : []),
        context(
          `lock_timeout ${service.lock_timeout.text} and step_timeout ${service.step_timeout.text} per step · snapshot before any change · needs ${progress.required} approvals${tier} from ${wordsMrkdwn(approverWords(service.approvals.approvers))}${asOf(incident)} · the requester cannot approve${service.access.requesters === 'anyone' ? ' · anyone in the workspace may open incidents on this service (`access.requesters: anyone`)' : ''}` +
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
          : `:test_tube: *Rehearsal FAILED* on a scratch copy (${slackDate(new Date(rh.at))})${rh.failedStep ? ` at ${codeSpan(rh.failedStep)}` : ''}${rh.error ? `: ${wordsMrkdwn(rh.error)}` : ''} — the same would happen in production.`,
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
      `*Approvals:* ${approvedBy.length} of ${progress.required}${approvedBy.length ? ` — ${people(approvedBy)}` : ''}`,
    ),
  );
  const open =
    incident.state === 'opened' || incident.state === 'snapshotting' || incident.state === 'awaiting_approval';
  if (open && !r) blocks.push(...restoreAdviceBlocks(incident.id, progress.risk, progress.unapprovable));
  if (open) {
    if (approvedBy.length < progress.required) {
      const value = planButtonValue(incident.id, incident.basis?.digest);
      const computed = r ? null : computedPlanButton(incident);
      const reject = confirmButton(ACTION_REJECT, 'Reject', 'danger', value, {
        ...(r
          ? restoreDialogs(incident, service).reject
          : {
              title: `Reject this ${incident.kind}?`,
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
          ...(computed ? [computed] : []),
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
            : `:white_check_mark: Approved. The ${incident.kind} runs once the snapshot is available.`,
        ),
      );
    }
  } else {
    blocks.push(context(planOutcome(incident)));
  }
  const summary = r
    ? `Restore plan for ${service.name}: new ${restoreTargetNoun(service)} ${r.target}`
    : incident.kind === 'unarchive'
      ? `Unarchive plan for ${service.name}: ${incident.plan.length} archive table(s)`
      : `Rollback plan for ${service.name}: ${incident.plan.length} down migration(s)`;
  return { text: `${summary}; ${approvedBy.length}/${progress.required} approvals`, blocks };
}
