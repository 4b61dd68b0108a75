import type { RollbackEta } from '../../domain/incident/model/eta.js';
import { codeSpan } from '../../adapters/slack/render/words-mrkdwn.js';
import type { IncidentSummary } from '../../domain/incident/use-cases/summary.js';
import type { PostgresOutbox, StoredNotice } from '../../adapters/postgres/postgres-outbox.js';
import { shortId, type Incident } from '../../domain/incident/model/incident.js';
import type { SlackIncident, SlackIncidentStore } from '../../adapters/slack/slack-incident-store.js';
import type { IncidentRepository } from '../../domain/incident/ports/incident-repository.js';
import { AppError, isAppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { deliveringNotice, type SlackNotifier } from '../../adapters/slack/slack-notifier.js';
import type { SlackPacer } from '../../adapters/slack/slack-pacing.js';
import type { IncidentNotice } from '../../domain/incident/model/notices.js';

/**
 * Delay before the next delivery attempt of a notice, ms: Slack's `Retry-After` when it
 * sent one (docs.slack.dev "Rate limits"), else 1 s doubling up to 30 s.
 */
export function deliveryBackoffMs(attempts: number, err?: unknown): number {
  const retryAfterSec = isAppError(err) ? err.details?.retryAfterSec : undefined;
  if (typeof retryAfterSec === 'number' && retryAfterSec > 0) return retryAfterSec * 1000;
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempts - 1));
}

/**
 * The retryable `notice_delivery_busy` (1 s) of a delivery run that found another run of the same
 * incident's outbox holding its lock: that run delivers what is pending; this one tries again shortly.
 */
export function deliveryBusy(incidentId: string): AppError {
  return new AppError({
    code: 'notice_delivery_busy',
    message: `another delivery of incident ${incidentId} is running`,
    retryable: true,
    details: { retryAfterSec: 1 },
  });
}

/** What notice delivery needs. */
export interface NoticeDelivery {
  outbox: PostgresOutbox;
  slack: SlackNotifier;
  repo: IncidentRepository;
  /** Slack's own bookkeeping of each incident (channel, plan card and summary ts, topic). */
  slackStore: SlackIncidentStore;
  logger: Logger;
  /** The incident's live summary, read fresh; the pinned message is redrawn once per delivery run. */
  summary?: (incidentId: string) => Promise<IncidentSummary | null>;
  /** Slack's limits; channel creation (Tier 2, about 20 a minute) is paced here, before a notice starts. */
  pacer?: SlackPacer;
}

/**
 * Channel creation waits its turn before its notice starts (no attempt spent, no worker slot
 * held): when Slack's Tier 2 pace for `conversations.create` has no room, the notice is put off
 * until there is, and the requester is told once that their channel is queued.
 * @throws AppError `slack_paced` (retryable, `retryAfterSec`) when the channel must wait
 */
async function waitForChannelTurn(d: NoticeDelivery, notice: StoredNotice, current: SlackIncident): Promise<void> {
  if (!d.pacer || notice.method !== 'createIncidentChannel' || current.channelId) return;
  const waitMs = await d.pacer.reserve('conversations.create');
  if (waitMs === 0) return;
  await d.outbox.attemptFailed(notice.id, "waiting for Slack's channel-creation pace", false, waitMs);
  if (!(await d.repo.lastEvent(current.id, ['channel_queued']))) {
    await d.repo.log(current.id, 'channel_queued', 'migrate-bot', { waitMs });
    const responseUrl = notice.args[3] as string | undefined;
    if (responseUrl) {
      const secs = Math.max(1, Math.round(waitMs / 1000));
      await d.slack
        .reply(
          responseUrl,
          `:hourglass_flowing_sand: Your incident channel is queued: Slack lets an app create about 20 channels a minute and other incidents opened just before yours. It should exist in about ${secs} s; its link follows here. Nothing waits on it: triage and the snapshot are already running.`,
        )
        .catch((err: unknown) => d.logger.warn({ err }, 'could not tell the requester their channel is queued'));
    }
  }
  throw new AppError({
    code: 'slack_paced',
    message: `channel of incident ${current.id} waits ${waitMs} ms for conversations.create`,
    retryable: true,
    details: { method: 'conversations.create', waitMs, retryAfterSec: Math.ceil(waitMs / 1000) },
  });
}

/** The requester's ephemeral "where to follow it" once the incident channel exists. */
function openedReply(incident: SlackIncident): string {
  return incident.kind === 'restore'
    ? `Restore incident opened in <#${incident.channelId}>: ${codeSpan(incident.restore?.target)} will be a new copy; approvals happen there.`
    : `Incident opened in <#${incident.channelId}>: rollback of ${codeSpan(incident.migration)} on *${incident.service}*. Triage, snapshot and the plan for approval follow there.`;
}

/** The stored incident as it was when the notice was made, with Dates revived. */
function reviveIncident(json: unknown): Incident {
  const i = json as Incident & { createdAt: string; updatedAt: string; endedAt: string | null; attempt?: number };
  return {
    ...i,
    attempt: i.attempt ?? 1,
    createdAt: new Date(i.createdAt),
    updatedAt: new Date(i.updatedAt),
    endedAt: i.endedAt ? new Date(i.endedAt) : null,
  };
}

/**
 * Sends one notice to Slack. The incident is rendered as it was when the notice was made,
 * but with the channel and plan card it has now (both may have been delivered after).
 * @returns what Slack gave back, kept with the delivered notice
 */
async function deliverOne(
  d: NoticeDelivery,
  notice: StoredNotice,
  current: SlackIncident,
): Promise<Record<string, unknown>> {
  const [first, ...rest] = notice.args;
  const incident: SlackIncident = {
    ...reviveIncident(first),
    conversation: current.conversation,
    channelId: current.channelId,
    channelName: current.channelName,
    planMessageTs: current.planMessageTs,
    summaryTs: current.summaryTs,
    topicState: current.topicState,
  };
  const slack = d.slack as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  switch (notice.method) {
    case 'createIncidentChannel': {
      if (current.channelId) return { channelId: current.channelId, already: true };
      const [baseName, invitees, responseUrl] = rest as [string, string[], string | undefined];
      const channel = await d.slack.createIncidentChannel(
        baseName,
        invitees,
        current.service,
        current.private === true,
      );
      await d.slackStore.setChannel(current.id, channel.id, channel.name);
      await d.repo.log(current.id, 'channel_created', 'migrate-bot', {
        channelId: channel.id,
        channelName: channel.name,
      });
      if (responseUrl) {
        await d.slack
          .reply(responseUrl, openedReply({ ...incident, channelId: channel.id }))
          .catch((err: unknown) => d.logger.warn({ err }, 'could not send the channel link'));
      }
      return { channelId: channel.id, channelName: channel.name };
    }
    case 'channelLink': {
      // A refusal that raced the winner's insert may be stored before the channel notice: it goes behind it.
      const [responseUrl] = rest as [string];
      if (!current.channelId && (await d.outbox.pending(current.id, 'createIncidentChannel'))) {
        await d.outbox.add(current.id, 'channelLink', notice.args);
        return { requeued: true };
      }
      await d.slack
        .reply(
          responseUrl,
          current.channelId
            ? openedReply({ ...incident, channelId: current.channelId })
            : `Incident ${codeSpan(shortId(current.id))} could not get its channel; \`/migrate status\` shows where it stands.`,
        )
        .catch((err: unknown) => d.logger.warn({ err }, 'could not send the channel link'));
      return { channelId: current.channelId ?? null };
    }
    case 'statusUpdate': {
      // Runbook 003 asks for updates every 15–30 minutes: if the last one never reached Slack, this one says so.
      const missed = await d.outbox.abandonedBefore(current.id, 'statusUpdate', notice.id);
      const [progress, next] = rest as [Parameters<SlackNotifier['statusUpdate']>[1], number];
      await d.slack.statusUpdate(incident, progress, next, missed);
      return {};
    }
    case 'opened': {
      if (current.summaryTs) return { ts: current.summaryTs, already: true };
      const ts = await d.slack.opened(incident, (await d.summary?.(current.id)) ?? null);
      await d.slackStore.setSummary(current.id, { ts, topicState: current.state });
      return { ts };
    }
    case 'planCard': {
      const ts = await d.slack.planCard(incident, rest[0] as Parameters<SlackNotifier['planCard']>[1]);
      await d.slackStore.setPlanMessage(current.id, incident.attempt, ts);
      await d.slack.bookmark(incident, 'plan', ts);
      return { ts };
    }
    case 'initialNotice': {
      const [snapshot, eta] = rest as [Parameters<SlackNotifier['initialNotice']>[1], RollbackEta | number];
      // A number: stored by a release that sent minutes only.
      await d.slack.initialNotice(incident, snapshot, typeof eta === 'number' ? { minutes: eta, basis: 'steps' } : eta);
      await d.slack.bookmark({ ...incident, snapshot: current.snapshot }, 'snapshot');
      return {};
    }
    case 'progress': {
      const [n] = rest as [IncidentNotice | string];
      await d.slack.progress(incident, n);
      // A follow-up's ticket joins the channel's bookmarks (runbook 002's "Ticket:").
      if (typeof n !== 'string' && n.kind === 'followup_filed')
        await d.slack.bookmark(incident, 'ticket', undefined, n.ticket);
      return {};
    }
    default:
      await slack[notice.method]!.call(d.slack, incident, ...rest);
      return {};
  }
}

/**
 * Redraws the pinned summary once after a delivery run (coalescing: several notices, one
 * `chat.update`). Best effort: a failure is logged and the next run redraws it.
 */
async function refreshSummary(d: NoticeDelivery, incidentId: string): Promise<void> {
  if (!d.summary) return;
  try {
    const summary = await d.summary(incidentId);
    if (!summary) return;
    const slack = await d.slackStore.get(incidentId, summary.incident.attempt);
    if (!slack.summaryTs) return;
    const { topicState } = await d.slack.refreshSummary(summary, slack);
    if (topicState) await d.slackStore.setSummary(incidentId, { topicState });
  } catch (err) {
    d.logger.warn({ err, incidentId }, 'could not refresh the incident summary');
  }
}

/**
 * Delivers an incident's undelivered notices to Slack, oldest first, under the incident's
 * delivery lock. A notice in its wait after a failed attempt (Slack's `Retry-After`, or
 * backoff) stops the run with a retryable `slack_backoff`; another delivery of the same
 * incident running makes it a retryable `notice_delivery_busy` (1 s), so worker slots never
 * wait on each other. A notice Slack refuses for good (e.g. `channel_not_found`,
 * `invalid_blocks`) is set aside and logged, so it cannot hold back the ones after it; a
 * transient failure (network, 5xx, 429) stops here and is thrown, so the job retries and
 * the channel catches up, in order, once Slack answers again.
 * @returns how many notices were delivered now
 * @throws AppError `slack_api_error` (retryable; `details.retryAfterSec` when Slack rate-limited),
 *   `slack_backoff`, `notice_delivery_busy` (retryable)
 */
export async function deliverNotices(d: NoticeDelivery, incidentId: string): Promise<number> {
  const run = await d.outbox.withDeliveryLock(incidentId, async () => {
    let delivered = 0;
    for (;;) {
      const notice = await d.outbox.next(incidentId);
      if (!notice) return delivered;
      const waitMs = notice.notBefore ? notice.notBefore.getTime() - Date.now() : 0;
      if (waitMs > 0) {
        throw new AppError({
          code: 'slack_backoff',
          message: `notice ${notice.id} waits ${waitMs} ms after a failed attempt`,
          retryable: true,
          details: { retryAfterSec: Math.ceil(waitMs / 1000) },
        });
      }
      const found = await d.repo.get(incidentId);
      const current: SlackIncident | null = found && { ...found, ...(await d.slackStore.get(found.id, found.attempt)) };
      if (!current) {
        await d.outbox.attemptFailed(notice.id, 'incident no longer exists', true);
        continue;
      }
      await waitForChannelTurn(d, notice, current);
      const attempt = await d.outbox.begin(notice.id);
      try {
        // A second attempt may follow one that reached Slack without an answer: look before posting again.
        const result = await deliveringNotice.run({ noticeId: notice.id, uncertain: attempt > 1 }, () =>
          deliverOne(d, notice, current),
        );
        await d.outbox.delivered(notice.id, result);
        delivered++;
      } catch (err) {
        const permanent = !(isAppError(err) && err.retryable);
        await d.outbox.attemptFailed(
          notice.id,
          err instanceof Error ? err.message : String(err),
          permanent,
          deliveryBackoffMs(attempt, err),
        );
        if (!permanent) throw err;
        d.logger.error(
          { err, incidentId, noticeId: notice.id, method: notice.method },
          'Slack refused a notice for good; set aside',
        );
      }
    }
  });
  if (!run.busy && run.value > 0) await refreshSummary(d, incidentId);
  if (run.busy) throw deliveryBusy(incidentId);
  return run.value;
}
