import type { Incident } from '../../domain/incident/model/incident.js';
import type { NoticeMethod, Notifier } from '../../domain/incident/ports/notifier.js';
import type { Logger } from '../../shared/logger.js';
import type { IncidentNotice, StatusChange } from '../../domain/incident/model/notices.js';
import type { PostgresOutbox } from './postgres-outbox.js';

/** The arguments of a Notifier method after the incident. */
type Rest<M extends NoticeMethod> = Parameters<Notifier[M]> extends [Incident, ...infer R] ? R : never;

/** Asks for delivery of a stored notice (a BullMQ job); may fail when Redis is down — the reconciler's sweep catches up. */
export type DeliveryKick = (incidentId: string, noticeId: number) => Promise<void>;

/**
 * Notices that happen once per incident or per retry round: a retried job asking again
 * stores nothing new (the plan card is not posted twice, the channel not made twice).
 */
function dedupeKey(method: NoticeMethod, incident: Incident): string | undefined {
  switch (method) {
    case 'createIncidentChannel':
    case 'opened':
    case 'resolution':
    case 'restoreComplete':
    case 'followUps':
      return method;
    case 'planCard':
      // A superseded plan gets a new card in the same round: its digest tells the two apart.
      return `${method}:${incident.attempt}${incident.basis ? `:${incident.basis.digest.slice(0, 16)}` : ''}`;
    case 'initialNotice':
      return `${method}:${incident.attempt}`;
    default:
      return undefined;
  }
}

/**
 * The Notifier port on the outbox (DESIGN.md "One failure path, one outbox"): each call
 * stores the notice in the state database and asks for its delivery; it returns as soon
 * as the notice is stored. Slack is never called here, except `reply` (an ephemeral
 * answer that belongs to no incident), which is sent at once and only logged on failure.
 */
export class OutboxNotifier implements Notifier {
  constructor(
    private readonly outbox: PostgresOutbox,
    private readonly kick: DeliveryKick,
    private readonly sendReply: (responseUrl: string, message: IncidentNotice | string) => Promise<void>,
    private readonly logger: Logger,
  ) {}

  private async store(method: NoticeMethod, incident: Incident, ...rest: unknown[]): Promise<void> {
    const id = await this.outbox.add(incident.id, method, [incident, ...rest], dedupeKey(method, incident));
    if (id === null) return;
    // Not awaited: the notice is stored, so the caller is done; a queue that does not answer
    // must not hold up a person waiting on a command (the reconciler's sweep delivers it later).
    void this.kick(incident.id, id).catch((err: unknown) =>
      this.logger.warn(
        { err, incidentId: incident.id, noticeId: id },
        'could not queue notice delivery; the reconciler will',
      ),
    );
  }

  createIncidentChannel(incident: Incident, baseName: string, invitees: string[], responseUrl?: string) {
    return this.store('createIncidentChannel', incident, baseName, invitees, responseUrl);
  }
  channelLink(incident: Incident, responseUrl: string) {
    return this.store('channelLink', incident, responseUrl);
  }
  opened(incident: Incident) {
    return this.store('opened', incident);
  }
  triage(incident: Incident, ...rest: Rest<'triage'>) {
    return this.store('triage', incident, ...rest);
  }
  progress(incident: Incident, notice: IncidentNotice) {
    return this.store('progress', incident, notice);
  }
  initialNotice(incident: Incident, ...rest: Rest<'initialNotice'>) {
    return this.store('initialNotice', incident, ...rest);
  }
  planCard(incident: Incident, ...rest: Rest<'planCard'>) {
    return this.store('planCard', incident, ...rest);
  }
  updatePlanCard(incident: Incident, ...rest: Rest<'updatePlanCard'>) {
    return this.store('updatePlanCard', incident, ...rest);
  }
  statusUpdate(incident: Incident, ...rest: Rest<'statusUpdate'>) {
    return this.store('statusUpdate', incident, ...rest);
  }
  resolution(incident: Incident, ...rest: Rest<'resolution'>) {
    return this.store('resolution', incident, ...rest);
  }
  archiveChannel(incident: Incident) {
    return this.store('archiveChannel', incident);
  }
  timeline(incident: Incident, markdown: string) {
    return this.store('timeline', incident, markdown);
  }
  verification(incident: Incident, ...rest: Rest<'verification'>) {
    return this.store('verification', incident, ...rest);
  }
  restoreComplete(incident: Incident, note?: string) {
    return this.store('restoreComplete', incident, note);
  }
  failure(incident: Incident, ...rest: Rest<'failure'>) {
    return this.store('failure', incident, ...rest);
  }
  announce(incident: Incident, change: StatusChange) {
    return this.store('announce', incident, change);
  }
  followUps(incident: Incident, ...rest: Rest<'followUps'>) {
    return this.store('followUps', incident, ...rest);
  }
  cancelled(incident: Incident, byUserId: string, reason?: string) {
    return this.store('cancelled', incident, byUserId, reason);
  }

  async reply(responseUrl: string, message: IncidentNotice | string): Promise<void> {
    await this.sendReply(responseUrl, message).catch((err: unknown) =>
      this.logger.warn({ err }, 'ephemeral reply failed'),
    );
  }
}
