import type { PostgresOutbox, StoredNotice } from '../../adapters/postgres/postgres-outbox.js';
import type { ServiceConfig } from '../../config/services.js';
import { shortId, type Incident } from '../../domain/incident/model/incident.js';
import type { IncidentDeps } from '../../domain/incident/ports/deps.js';
import type { IntegrationMethod } from '../../domain/incident/ports/integrations.js';
import type { PageEvent, PageReason, Pager } from '../../domain/incident/ports/paging.js';
import type { NewTicket, TicketTracker } from '../../domain/incident/ports/ticket-tracker.js';
import type { FollowUp } from '../../domain/incident/process/followup.js';
import { resolveService } from '../../domain/incident/use-cases/resolve-service.js';
import { AppError, isAppError } from '../../shared/errors.js';
import { deliveryBackoffMs, deliveryBusy } from './deliver-notices.js';

/** What delivering paging and ticket calls needs. */
export interface IntegrationDelivery {
  outbox: PostgresOutbox<IntegrationMethod>;
  deps: Pick<IncidentDeps, 'repo' | 'process' | 'notifier' | 'services' | 'logger'>;
  /** The pager of a service with `paging:`. */
  pager(service: ServiceConfig): Pager;
  /** The tracker of a service with `followups:`. */
  tracker(service: ServiceConfig): TicketTracker;
  /** A web link to the incident's conversation (Slack's `app_redirect` for a channel id). */
  conversationUrl(conversationId: string): string;
  /** How long a trigger waits for the incident channel to exist, so the page carries its link, ms. Default 10 000. */
  waitForChannelMs?: number;
}

const BOT = 'migrate-bot';

/** A call's payloads as stored by `OutboxIntegrations`. */
type PageCall = { service: string; private: boolean; event: PageEvent; reason?: PageReason };
type TicketCall = { service: string; followUpId: number };

/** Puts a call off by `waitMs` without spending an attempt's worth of backoff. @throws AppError `integration_backoff` (retryable) */
async function putOff(
  d: IntegrationDelivery,
  call: StoredNotice<IntegrationMethod>,
  why: string,
  waitMs: number,
): Promise<never> {
  await d.outbox.attemptFailed(call.id, why, false, waitMs);
  throw backoff(call.id, waitMs, why);
}

/** The retryable `integration_backoff` of a call that must wait `waitMs` (ms) before its next attempt. */
function backoff(callId: number, waitMs: number, why: string): AppError {
  return new AppError({
    code: 'integration_backoff',
    message: `integration call ${callId} waits ${waitMs} ms: ${why}`,
    retryable: true,
    details: { retryAfterSec: Math.max(1, Math.ceil(waitMs / 1000)) },
  });
}

/** Sends one page event, with the incident channel's link; logs `page_sent`, `page_resolved` or `page_acknowledged`. */
async function sendPage(
  d: IntegrationDelivery,
  call: StoredNotice<IntegrationMethod>,
  incident: Incident,
): Promise<Record<string, unknown>> {
  const { event } = call.args[0] as PageCall;
  const service = resolveService(d.deps.services, incident.service);
  if (!service.process.paging) return { skipped: 'paging no longer configured' };
  const age = Date.now() - call.createdAt.getTime();
  if (event.action === 'trigger' && !incident.conversation && age < (d.waitForChannelMs ?? 10_000))
    await putOff(d, call, 'waiting for the incident channel, so the page links to it', 1000);
  const links = incident.conversation
    ? [{ href: d.conversationUrl(incident.conversation.id), text: `#${incident.conversation.name}` }, ...event.links]
    : event.links;
  const pager = d.pager(service);
  const { dedupKey } = await pager.send({ ...event, links });
  const type =
    event.action === 'trigger' ? 'page_sent' : event.action === 'resolve' ? 'page_resolved' : 'page_acknowledged';
  await d.deps.repo.log(incident.id, type, BOT, { dedupKey, provider: pager.name, summary: event.summary });
  if (event.action === 'trigger')
    await d.deps.notifier.progress(incident, {
      kind: 'paged',
      provider: pager.name,
      reason: (call.args[0] as PageCall).reason ?? 'opened',
      summary: event.summary,
    });
  return { dedupKey };
}

/** The ticket of a follow-up: its text as the title, where it came from in the description. */
function ticketFor(incident: Incident, f: FollowUp, channelUrl: string | null): NewTicket {
  const about = incident.private
    ? `Follow-up of private migrate-bot incident ${shortId(incident.id)} on ${incident.service}.`
    : `Follow-up of migrate-bot incident ${shortId(incident.id)}${incident.severity ? ` (${incident.severity})` : ''}: ${incident.kind} of ${incident.migration} on ${incident.service}.`;
  return {
    title: f.text,
    description: [
      about,
      ...(channelUrl ? [`Incident channel: ${channelUrl}`] : []),
      ...(f.owner ? [`Owner (Slack): ${f.owner}`] : []),
      `Recorded by ${f.createdBy} on ${f.createdAt.toISOString()}.`,
    ],
    labels: ['migrate-bot', `incident-${shortId(incident.id)}`],
    confidential: incident.private,
  };
}

/** Files one follow-up's ticket; the link goes to the follow-up, the incident (its first ticket) and the channel. */
async function fileTicket(
  d: IntegrationDelivery,
  call: StoredNotice<IntegrationMethod>,
  incident: Incident,
): Promise<Record<string, unknown>> {
  const { followUpId } = call.args[0] as TicketCall;
  const f = await d.deps.process.getFollowUp(followUpId);
  if (!f || f.state === 'exported') return { already: true };
  const service = resolveService(d.deps.services, incident.service);
  if (!service.process.followups) return { skipped: 'followups no longer configured' };
  const tracker = d.tracker(service);
  try {
    const ticket = await tracker.create(
      ticketFor(incident, f, incident.conversation ? d.conversationUrl(incident.conversation.id) : null),
    );
    await d.deps.process.updateFollowUp(
      f.id,
      ['open', 'proposed', 'export_failed'],
      { state: 'exported', ticket },
      BOT,
    );
    await d.deps.process.setTicket(incident.id, ticket);
    await d.deps.notifier.progress(incident, {
      kind: 'followup_filed',
      text: f.text,
      owner: f.owner,
      ticket,
      tracker: tracker.name,
    });
    return { ticket };
  } catch (err) {
    if (isAppError(err) && !err.retryable) {
      const said = String(err.details?.providerError ?? err.message);
      await d.deps.process.updateFollowUp(
        f.id,
        ['open', 'proposed', 'export_failed'],
        { state: 'export_failed', error: said },
        BOT,
      );
      await d.deps.notifier.progress(incident, {
        kind: 'followup_export_failed',
        text: f.text,
        tracker: tracker.name,
        error: said,
      });
    }
    throw err;
  }
}

/**
 * Delivers an incident's stored paging and ticket calls, oldest first, under the incident's
 * delivery lock for `integration_calls` (its own, so Slack's notices never wait on a provider).
 * A provider's final refusal (a bad routing key, an unknown Jira project) is set aside and
 * reported — a page as `page_failed` in the event log and the channel, a ticket as a follow-up
 * kept locally and marked not exported — so the calls after it still go out; a transient
 * failure (network, 429, 5xx) stops the run and is thrown, and the call waits its backoff
 * (the provider's `Retry-After` when sent, else 1 s doubling to 30 s).
 * @returns how many calls were delivered now
 * @throws AppError `page_unavailable` / `ticket_unavailable` / `integration_backoff` (retryable), `notice_delivery_busy`
 */
export async function deliverIntegrations(d: IntegrationDelivery, incidentId: string): Promise<number> {
  const run = await d.outbox.withDeliveryLock(incidentId, async () => {
    let delivered = 0;
    for (;;) {
      const call = await d.outbox.next(incidentId);
      if (!call) return delivered;
      const waitMs = call.notBefore ? call.notBefore.getTime() - Date.now() : 0;
      if (waitMs > 0) throw backoff(call.id, waitMs, 'after a failed attempt');
      const incident = await d.deps.repo.get(incidentId);
      if (!incident) {
        await d.outbox.attemptFailed(call.id, 'incident no longer exists', true);
        continue;
      }
      const attempt = await d.outbox.begin(call.id);
      try {
        const result = call.method === 'page' ? await sendPage(d, call, incident) : await fileTicket(d, call, incident);
        await d.outbox.delivered(call.id, result);
        delivered++;
      } catch (err) {
        if (isAppError(err, 'integration_backoff')) throw err;
        const permanent = !(isAppError(err) && err.retryable);
        await d.outbox.attemptFailed(
          call.id,
          err instanceof Error ? err.message : String(err),
          permanent,
          deliveryBackoffMs(attempt, err),
        );
        if (!permanent) throw err;
        d.deps.logger.error(
          { err, incidentId, callId: call.id, method: call.method },
          'a provider refused a call for good; set aside',
        );
        if (call.method === 'page') {
          const { event } = call.args[0] as PageCall;
          const said = isAppError(err) ? String(err.details?.providerError ?? err.message) : String(err);
          await d.deps.repo.log(incident.id, 'page_failed', BOT, {
            dedupKey: event.dedupKey,
            action: event.action,
            error: said,
          });
          await d.deps.notifier.progress(incident, { kind: 'page_failed', action: event.action, error: said });
        }
      }
    }
  });
  if (run.busy) throw deliveryBusy(incidentId);
  return run.value;
}
