import type { ServiceConfig } from '../../../config/services.js';
import { isOpen, type Incident } from '../../../domain/incident/model/incident.js';
import { recoveryDurations, shortDuration } from '../../../domain/incident/process/lifecycle.js';
import { severityOf } from '../../../domain/incident/process/severity.js';
import type { IncidentSummary } from '../../../domain/incident/use-cases/summary.js';
import { redactSecrets } from '../../../shared/redact.js';
import type { KnownBlock } from './block-kit.js';
import { followUpLine } from './followup-blocks.js';
import { clip, escapeMrkdwn } from './limits.js';
import { people } from './words-mrkdwn.js';

/** The pinned summary's *Take command* button: the presser becomes the incident commander. */
export const ACTION_TAKE_COMMAND = 'incident_take_command';

/** "SEV2 (major: …)" for the summary; "no severity" for incidents from before severities. */
export function severityWords(incident: Pick<Incident, 'severity'>, service: Pick<ServiceConfig, 'process'>): string {
  if (!incident.severity) return 'no severity';
  const level = severityOf(incident.severity, service.process.severities);
  return `*${escapeMrkdwn(incident.severity)}*${level ? ` (${escapeMrkdwn(level.description.split(':')[0] ?? '')})` : ''}`;
}

/** Time to approve, to recover and the impact so far, as one line (only what is known). */
export function durationsLine(incident: Pick<Incident, 'milestones'>): string {
  const d = recoveryDurations(incident.milestones);
  const parts = [
    d.timeToApproveMs !== undefined ? `approved in ${shortDuration(d.timeToApproveMs)}` : null,
    d.timeToRecoverMs !== undefined ? `recovered in ${shortDuration(d.timeToRecoverMs)}` : null,
    d.impactMs !== undefined && (incident.milestones.recovered || incident.milestones.resolved)
      ? `impact ${shortDuration(d.impactMs)}${incident.milestones.impactStarted ? '' : ' (from detection)'}`
      : null,
  ].filter(Boolean);
  return parts.join(' · ');
}

/**
 * The pinned summary's incident-process lines: severity, who holds the incident (commander, comms
 * lead), pages, recovery times and follow-ups; and, while the incident is open, *Take command*.
 */
export function processBlocks(s: IncidentSummary, service: ServiceConfig): KnownBlock[] {
  const i = s.incident;
  const roles = `commander ${people([i.roles.commander])} · comms ${i.roles.comms ? people([i.roles.comms]) : '_nobody yet_ (`/migrate role comms @someone`)'}`;
  const paging = s.pageFailed
    ? ` · :warning: page failed: ${escapeMrkdwn(redactSecrets(s.pageFailed).slice(0, 120))}`
    : s.pagesSent
      ? ` · :pager: paged (${s.pagesSent})`
      : '';
  const times = durationsLine(i);
  const lines = [
    `${severityWords(i, service)}${i.private ? ' · :lock: private' : ''} · ${roles}${paging}${times ? ` · ${times}` : ''}`,
    ...(s.followUps.length ? [`*Follow-ups:* ${s.followUps.map(followUpLine).join(' · ')}`] : []),
  ];
  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: clip(lines.join('\n'), 2900) } }];
  if (isOpen(i.state))
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: ACTION_TAKE_COMMAND,
          text: { type: 'plain_text', text: 'Take command' },
          value: i.id,
        },
      ],
    } as KnownBlock);
  return blocks;
}
