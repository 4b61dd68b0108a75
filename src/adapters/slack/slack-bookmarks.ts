import type { webApi } from '@slack/bolt';
import type { ServicesConfig } from '../../config/services.js';
import type { TicketRef } from '../../domain/incident/process/followup.js';
import { resolveService } from '../../domain/incident/use-cases/resolve-service.js';
import type { Logger } from '../../shared/logger.js';
import { regionOfArn } from '../rds/rds-arn.js';
import type { SlackIncident } from './slack-incident-store.js';
import { slackError } from './slack-errors.js';

/** What an incident channel's header bookmarks: the runbook, the plan card, the snapshot, a follow-up's ticket. */
export type BookmarkKind = 'runbook' | 'plan' | 'snapshot' | 'ticket';

/**
 * Adds a bookmark to the incident channel's header (Slack `bookmarks.add`): the runbook
 * (`runbook_url`), the plan card (its permalink, `ts`), the snapshot (the AWS console for
 * RDS/Aurora, in the region of the snapshot's ARN) or a follow-up's ticket. Best effort: a
 * refusal is logged, nothing is thrown.
 */
export async function addBookmark(
  client: webApi.WebClient,
  services: ServicesConfig,
  logger: Logger,
  incident: SlackIncident,
  what: BookmarkKind,
  ts?: string,
  ticket?: TicketRef,
): Promise<void> {
  if (!incident.channelId) return;
  const service = resolveService(services, incident.service);
  let link: string | undefined;
  let title = '';
  try {
    if (what === 'ticket' && ticket && /^https?:\/\/\S+$/.test(ticket.url)) {
      link = ticket.url;
      title = `Ticket ${ticket.key}`.slice(0, 80);
    } else if (what === 'runbook') {
      link = service.runbook_url;
      title = 'Rollback runbook';
    } else if (what === 'plan' && ts) {
      link = (await client.chat.getPermalink({ channel: incident.channelId, message_ts: ts })).permalink;
      title = `${incident.kind === 'restore' ? 'Restore plan' : 'Rollback plan'}${incident.attempt > 1 ? ` (round ${incident.attempt})` : ''}`;
    } else if (
      what === 'snapshot' &&
      incident.snapshot &&
      service.snapshot.provider !== 'pg_dump' &&
      service.snapshot.provider !== 'none' &&
      regionOfArn(incident.snapshot.arn)
    ) {
      const region = regionOfArn(incident.snapshot.arn)!;
      const kind = service.snapshot.provider === 'rds' ? 'db-snapshot' : 'db-cluster-snapshot';
      link = `https://${region}.console.aws.amazon.com/rds/home?region=${region}#${kind}:id=${encodeURIComponent(incident.snapshot.id)}`;
      title = `Snapshot ${incident.snapshot.id}`.slice(0, 80);
    }
    if (!link) return;
    await client.bookmarks.add({ channel_id: incident.channelId, title, type: 'link', link });
  } catch (err) {
    logger.warn({ err: slackError(err, 'bookmarks.add'), what }, 'could not bookmark');
  }
}
