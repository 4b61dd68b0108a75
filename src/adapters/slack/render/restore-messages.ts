import { statusUpdateMinutes } from '../../../domain/incident/process/severity.js';
import { escapeMrkdwn, slackDate } from './limits.js';
import { wordsPlain } from '../../../shared/words.js';
import { approverWords } from '../../../domain/incident/ports/approvers.js';
import { codeSpan, wordsMrkdwn } from './words-mrkdwn.js';
import { context, header, type KnownBlock, section, type SlackMessage } from './block-kit.js';
import type { ServiceConfig } from '../../../config/services.js';
import { shortId, type Incident, type IncidentFailure } from '../../../domain/incident/model/incident.js';
import { formatDuration } from '../../../shared/clock.js';
import { clip } from './limits.js';

/**
 * A restore incident's own words (runbook 003 "Restore from backup"): what is restored, into
 * which NEW database, instance or cluster, never "rollback", never "waived".
 */

/** `action_id` of a failed restore's *Delete* button (value: the incident id). */
export const ACTION_DISCARD = 'restore_discard';

/** What the provider restores into: a new `database` (pg_dump), `instance` (RDS) or `Aurora cluster`. */
export function restoreTargetNoun(service: Pick<ServiceConfig, 'snapshot'>): string {
  switch (service.snapshot.provider) {
    case 'pg_dump':
      return 'database';
    case 'rds-cluster':
      return 'Aurora cluster';
    default:
      return 'instance';
  }
}

/** `snapshot \`id\`` or `the point in time 2026-…`. */
export function restoreSource(incident: Incident): string {
  const r = incident.restore;
  return r?.snapshotId ? `snapshot ${codeSpan(r.snapshotId)}` : `the point in time ${r?.to ?? '?'}`;
}

/** One line: "Restore of snapshot `x` into the new database `y`". */
export function restoreSummary(incident: Incident, service: Pick<ServiceConfig, 'snapshot'>): string {
  return `Restore of ${restoreSource(incident)} into the new ${restoreTargetNoun(service)} \`${incident.restore?.target ?? '?'}\``;
}

/** First message of a restore incident's channel. */
export function restoreOpenedMessage(incident: Incident, service: ServiceConfig, next?: string): SlackMessage {
  return {
    text: `Incident opened: restore of ${service.name} to ${incident.restore?.target}`,
    blocks: [
      header(`Restore — ${service.name}`),
      section(
        `<@${incident.requestedBy}> asked to restore ${restoreSource(incident)} of *${service.name}* into a *new* ${restoreTargetNoun(service)} ${codeSpan(incident.restore?.target)}. ` +
          'Production is not touched (runbook 003: never overwrite production in place).\n' +
          (next ??
            `*Next:* the plan for ${service.approvals.required} approvals from ${wordsMrkdwn(approverWords(service.approvals.approvers))}.`),
      ),
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

/** The Approve and Reject dialogs of a restore plan card. */
export function restoreDialogs(
  incident: Incident,
  service: ServiceConfig,
): { approve: { title: string; text: string; deny: string }; reject: { title: string; text: string; deny: string } } {
  return {
    approve: {
      title: 'Approve this restore?',
      text: `${restoreSummary(incident, service)} will be created for *${service.name}*. Production is not touched.`,
      deny: 'Not yet',
    },
    reject: {
      title: 'Reject this restore?',
      text: 'The incident ends as cancelled. Nothing is created.',
      deny: 'Keep it',
    },
  };
}

/** A failed restore: what failed, whether anything was left behind (named in `failure.message`), and what next. */
export function restoreFailureMessage(
  incident: Incident,
  service: ServiceConfig,
  failure: IncidentFailure,
): SlackMessage {
  const svc = `--service ${incident.service}`;
  return {
    text: `Restore failed: ${escapeMrkdwn(wordsPlain(failure.message))}`,
    blocks: [
      section(
        `:red_circle: *${restoreSummary(incident, service)} on ${incident.service} failed.*\n${wordsMrkdwn(failure.message)}`,
      ),
      section(
        '*What now* (runbook 003 "Restore from backup"):\n' +
          `• \`/migrate retry ${svc}\` — restore again into a new target; needs new approvals\n` +
          `• \`/migrate restore <snapshot-id> ${svc}\` — from another snapshot (\`/migrate restore x\` lists them)\n` +
          `• \`/migrate close ${svc} --reason "…"\` — once people handled it`,
      ),
      ...(failure.leftover
        ? [
            {
              type: 'actions',
              block_id: `discard_${shortId(incident.id)}`,
              elements: [
                {
                  type: 'button',
                  action_id: ACTION_DISCARD,
                  style: 'danger',
                  text: { type: 'plain_text', text: clip(`Delete ${failure.leftover}`, 75) },
                  value: incident.id,
                  confirm: {
                    title: { type: 'plain_text', text: 'Delete the half-made copy?' },
                    text: {
                      type: 'mrkdwn',
                      text: clip(
                        `${codeSpan(failure.leftover)} and its instances will be deleted without a final snapshot, once ${service.approvals.required} approvers ask for it. Production and the snapshot are not touched.`,
                        300,
                      ),
                    },
                    confirm: { type: 'plain_text', text: 'Delete' },
                    deny: { type: 'plain_text', text: 'Keep it' },
                  },
                },
              ],
            } as KnownBlock,
          ]
        : []),
      context(`Production was not touched. Code: ${codeSpan(failure.code)}`),
    ],
  };
}

/** Runbook 003 "Restore from backup": the copy is ready; cut-over steps for people (not automated). */
export function restoreCompleteMessage(incident: Incident, note?: string): SlackMessage {
  const r = incident.restore;
  const text = `Restore complete: \`${r?.result?.identifier ?? r?.target}\` is available at \`${r?.result?.endpoint ?? '?'}\`.`;
  const steps = [
    '1. Run smoke tests on the restored copy: schema, critical row counts, representative flows.',
    '2. Plan the cut-over: put the application in read-only mode or pause ingestion.',
    '3. Point `DATABASE_URL` at the copy through the secrets manager (or switch DNS / proxy).',
    '4. Shift traffic gradually: a few app instances first, validate, then the rest.',
    '5. Handle lost writes: anything written after the snapshot needs a replay or backfill.',
  ];
  return {
    text,
    blocks: [
      section(`:white_check_mark: *${text}*${note ? `\n${note}` : ''}`),
      section(`*Cut-over (runbook 003, by hand — the bot does not switch traffic):*\n${steps.join('\n')}`),
      context(
        `Took ${formatDuration(r?.result?.elapsedMs ?? 0)} · incident \`${shortId(incident.id)}\` resolved · production was not touched.`,
      ),
    ],
  };
}
