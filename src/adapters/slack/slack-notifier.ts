import type { RollbackEta } from '../../domain/incident/model/eta.js';
import { DEFAULT_TEMPLATES, type MessageTemplates } from './templates.js';
import type { IncidentSummary } from '../../domain/incident/use-cases/summary.js';
import { nextLine, summaryBlocks, topicFor } from './render/summary-blocks.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import type { webApi } from '@slack/bolt';
import type { ServicesConfig } from '../../config/services.js';
import type { IncidentFailure, StepOutcome } from '../../domain/incident/model/incident.js';
import type { SlackIncident, SlackIncidentState } from './slack-incident-store.js';
import type { IncidentNotice, StatusChange } from '../../domain/incident/model/notices.js';
import { announceText, noticeText } from './render/notice-text.js';
import type { ApprovalProgress, VerificationResult } from '../../domain/incident/ports/notifier.js';
import { resolveService } from '../../domain/incident/use-cases/resolve-service.js';
import { shortId } from '../../domain/incident/model/incident.js';
import type { Clock } from '../../shared/clock.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { redactSecrets } from '../../shared/redact.js';
import type { SnapshotRecord } from '../../domain/snapshots/snapshot-provider.js';
import type { TriageReport } from '../../domain/triage/triage-report.js';
import {
  cancelledMessage,
  failureMessage,
  initialNoticeMessage,
  openedMessage,
  planCardMessage,
  planSqlMessage,
  resolutionMessages,
  statusUpdateMessage,
  type SlackMessage,
} from './render/incident-messages.js';
import { restoreCompleteMessage } from './render/restore-messages.js';
import { verificationMessage } from './render/verification-blocks.js';
import { channelTriage } from './render/triage-blocks.js';
import { slackError, slackErrorCode } from './slack-errors.js';
import { ticketUrl } from '../../domain/incident/use-cases/post-timeline.js';
import { IncidentChannelOpener } from './incident-channel-opener.js';
import type { FollowUp, TicketRef } from '../../domain/incident/process/followup.js';
import { addBookmark, type BookmarkKind } from './slack-bookmarks.js';
import { followUpsMessage } from './render/followup-blocks.js';

export { slackErrorCode } from './slack-errors.js';

/**
 * The notice being delivered, for the duration of its delivery: every message it posts
 * carries it as Slack message metadata (`migrate_bot_notice`, docs.slack.dev "Message
 * metadata"), and when an earlier attempt may have reached Slack (`uncertain`: a lost
 * answer, a crash), the channel's recent history is searched for it first, so a notice
 * delivered twice is posted once.
 */
export const deliveringNotice = new AsyncLocalStorage<{ noticeId: number; uncertain: boolean }>();

/** Message metadata event type of the bot's notices. */
export const NOTICE_EVENT_TYPE = 'migrate_bot_notice';

/**
 * Delivers notices on the Slack Web API (chat.postMessage, chat.update,
 * conversations.create, conversations.invite, files.uploadV2): the Notifier's methods,
 * called by the delivery job with the stored notice, returning what Slack gave back
 * (channel id, message ts). Message wording lives in `blocks/`.
 * @throws AppError `slack_api_error` (retryable for network errors, 5xx and rate limits)
 */
export class SlackNotifier {
  constructor(
    private readonly client: webApi.WebClient,
    private readonly services: ServicesConfig,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** Texts people edit (`TEMPLATES_DIR`; runbook 003's as defaults). */
    private readonly templates: MessageTemplates = DEFAULT_TEMPLATES,
  ) {
    this.channels = new IncidentChannelOpener(client, logger);
  }

  private readonly channels: IncidentChannelOpener;

  private async post(incident: SlackIncident, message: SlackMessage, threadTs?: string): Promise<string> {
    if (!incident.channelId)
      throw new AppError({ code: 'slack_no_channel', message: `incident ${incident.id} has no channel yet` });
    const notice = deliveringNotice.getStore();
    if (notice?.uncertain) {
      const already = await this.findNoticeMessage(incident.channelId, notice.noticeId, threadTs);
      if (already) return already;
    }
    try {
      const res = await this.client.chat.postMessage({
        channel: incident.channelId,
        text: message.text,
        blocks: message.blocks,
        thread_ts: threadTs,
        unfurl_links: false,
        ...(notice
          ? { metadata: { event_type: NOTICE_EVENT_TYPE, event_payload: { notice_id: notice.noticeId } } }
          : {}),
      });
      return res.ts as string;
    } catch (err) {
      throw slackError(err, 'chat.postMessage');
    }
  }

  /**
   * The ts of the message that delivered notice `noticeId`, among the channel's newest 50
   * (conversations.history with include_all_metadata; needs `channels:history`), or null.
   * A failed lookup is logged and answers null: the notice is then posted (at least once).
   */
  private async findNoticeMessage(channel: string, noticeId: number, threadTs?: string): Promise<string | null> {
    try {
      const res = threadTs
        ? await this.client.conversations.replies({ channel, ts: threadTs, limit: 200, include_all_metadata: true })
        : await this.client.conversations.history({ channel, limit: 50, include_all_metadata: true });
      const found = (res.messages ?? []).find((m) => {
        if (threadTs && m.ts === threadTs) return false; // the parent, maybe posted by the same notice
        const meta = (m as { metadata?: { event_type?: string; event_payload?: { notice_id?: unknown } } }).metadata;
        return meta?.event_type === NOTICE_EVENT_TYPE && Number(meta.event_payload?.notice_id) === noticeId;
      });
      return found?.ts ?? null;
    } catch (err) {
      this.logger.warn(
        { err: slackError(err, 'conversations.history') },
        'could not check whether a notice was already posted',
      );
      return null;
    }
  }

  /**
   * Creates the incident channel of a `service` incident and invites `invitees` (user groups
   * expanded): a private channel when the service's `access.private` is set. See
   * {@link IncidentChannelOpener.open}.
   */
  /** `isPrivate`: the incident asked for a private channel (`--private`); services with `access.private` always get one. */
  createIncidentChannel(
    baseName: string,
    invitees: string[],
    service: string,
    isPrivate = false,
  ): Promise<{ id: string; name: string }> {
    return this.channels.open(baseName, invitees, isPrivate || resolveService(this.services, service).access.private);
  }

  /**
   * The channel's first message, which is also its live summary (pinned, redrawn in place by
   * {@link refreshSummary}), and the channel topic.
   * @returns its ts
   */
  async opened(incident: SlackIncident, summary?: IncidentSummary | null): Promise<string> {
    const ts = await this.post(incident, this.summaryMessage(incident, summary ?? null));
    await this.client.pins.add({ channel: incident.channelId!, timestamp: ts }).catch((err: unknown) => {
      if (slackErrorCode(err) !== 'already_pinned')
        this.logger.warn({ err: slackError(err, 'pins.add') }, 'could not pin the incident summary');
    });
    await this.setTopic(incident);
    await this.bookmark(incident, 'runbook');
    return ts;
  }

  private summaryMessage(incident: SlackIncident, summary: IncidentSummary | null): SlackMessage {
    const service = resolveService(this.services, incident.service);
    const opened = openedMessage(incident, service, summary ? nextLine(summary, service) : undefined);
    return {
      text: opened.text,
      blocks: [...opened.blocks, ...(summary ? summaryBlocks(summary, service, this.clock.now()) : [])],
    };
  }

  /** Redraws the pinned summary in place (chat.update) and, when the state changed, the channel topic. */
  async refreshSummary(summary: IncidentSummary, slack: SlackIncidentState): Promise<{ topicState?: string }> {
    const incident: SlackIncident = { ...summary.incident, ...slack };
    if (!incident.channelId || !incident.summaryTs) return {};
    const msg = this.summaryMessage(incident, summary);
    try {
      await this.client.chat.update({
        channel: incident.channelId,
        ts: incident.summaryTs,
        text: msg.text,
        blocks: msg.blocks,
      });
    } catch (err) {
      throw slackError(err, 'chat.update');
    }
    if (incident.topicState === incident.state) return {};
    await this.setTopic(incident);
    return { topicState: incident.state };
  }

  /**
   * Bookmarks in the channel header (bookmarks.add, scope `bookmarks:write`): the runbook (at
   * opening, when `runbook_url` is set), the plan card (its permalink), the snapshot (the AWS
   * console for RDS/Aurora, in the region of the snapshot's ARN). Best effort: a refusal is logged.
   */
  bookmark(incident: SlackIncident, what: BookmarkKind, ts?: string, ticket?: TicketRef): Promise<void> {
    return addBookmark(this.client, this.services, this.logger, incident, what, ts, ticket);
  }

  private async setTopic(incident: SlackIncident): Promise<void> {
    await this.client.conversations
      .setTopic({ channel: incident.channelId!, topic: topicFor(incident) })
      .catch((err: unknown) =>
        this.logger.warn({ err: slackError(err, 'conversations.setTopic') }, 'could not set the channel topic'),
      );
  }

  /**
   * Triage in the channel: a short verdict top-level and the tables of the checks that need
   * attention in its thread (with the full results as a file when the reply had to cut them).
   */
  async triage(incident: SlackIncident, report: TriageReport): Promise<void> {
    const msg = channelTriage(report);
    const ts = await this.post(incident, msg.headline);
    if (msg.details) await this.post(incident, msg.details, ts);
    for (const file of msg.files) {
      try {
        await this.client.filesUploadV2({
          channel_id: incident.channelId!,
          thread_ts: ts,
          filename: file.filename,
          title: file.title,
          content: file.content,
        });
      } catch (err) {
        this.logger.warn({ err: slackError(err, 'files.uploadV2') }, 'triage file upload failed');
      }
    }
  }

  /**
   * A notice, in the live summary's thread once it exists (the channel stays readable). A string
   * is a notice stored as mrkdwn by a release before notices were data, delivered as it was.
   */
  async progress(incident: SlackIncident, notice: IncidentNotice | string): Promise<void> {
    const text = typeof notice === 'string' ? notice : noticeText(notice);
    await this.post(
      incident,
      { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: redactSecrets(text).slice(0, 3000) } }] },
      incident.summaryTs ?? undefined,
    );
  }

  async initialNotice(incident: SlackIncident, snapshot: SnapshotRecord | null, eta: RollbackEta): Promise<void> {
    await this.post(incident, initialNoticeMessage(incident, snapshot, eta, this.templates));
  }

  /** The plan card; when it had to cut a down's statements, every statement goes in its thread. */
  async planCard(incident: SlackIncident, progress: ApprovalProgress): Promise<string> {
    const ts = await this.post(
      incident,
      planCardMessage(incident, resolveService(this.services, incident.service), progress),
    );
    const sql = planSqlMessage(incident);
    if (sql) await this.post(incident, sql, ts);
    return ts;
  }

  async updatePlanCard(incident: SlackIncident, progress: ApprovalProgress): Promise<void> {
    if (!incident.channelId || !incident.planMessageTs) return;
    const msg = planCardMessage(incident, resolveService(this.services, incident.service), progress);
    try {
      await this.client.chat.update({
        channel: incident.channelId,
        ts: incident.planMessageTs,
        text: msg.text,
        blocks: msg.blocks,
      });
    } catch (err) {
      throw slackError(err, 'chat.update');
    }
  }

  async statusUpdate(
    incident: SlackIncident,
    progress: ApprovalProgress,
    nextInMinutes: number,
    missedAt: Date | null = null,
  ): Promise<void> {
    await this.post(
      incident,
      statusUpdateMessage(incident, progress, nextInMinutes, this.clock.now(), missedAt, this.templates),
    );
  }

  /** The resolution: a short headline top-level, the steps, checks and artifacts in its thread. */
  async resolution(incident: SlackIncident, verification: VerificationResult): Promise<void> {
    const msg = resolutionMessages(
      incident,
      verification,
      ticketUrl(resolveService(this.services, incident.service), incident),
      this.templates,
    );
    const ts = await this.post(incident, msg.headline);
    await this.post(incident, msg.details, ts);
  }

  async archiveChannel(incident: SlackIncident): Promise<void> {
    if (!incident.channelId) return;
    try {
      await this.client.conversations.archive({ channel: incident.channelId });
    } catch (err) {
      if (slackErrorCode(err) === 'already_archived') return;
      throw slackError(err, 'conversations.archive');
    }
  }

  async timeline(incident: SlackIncident, markdown: string): Promise<void> {
    if (!incident.channelId) return;
    try {
      await this.client.filesUploadV2({
        channel_id: incident.channelId,
        filename: `incident-${shortId(incident.id)}-timeline.md`,
        title: `Timeline and postmortem draft — incident ${shortId(incident.id)}`,
        content: redactSecrets(markdown),
        initial_comment:
          ':spiral_note_pad: Timeline and postmortem draft (runbook 003 "Post-incident"), from the event log.',
      });
    } catch (err) {
      throw slackError(err, 'files.uploadV2');
    }
  }

  async verification(incident: SlackIncident, verification: VerificationResult): Promise<void> {
    await this.post(incident, verificationMessage(incident.service, verification));
  }

  async restoreComplete(incident: SlackIncident, note?: string): Promise<void> {
    await this.post(incident, restoreCompleteMessage(incident, note));
  }

  async failure(incident: SlackIncident, failure: IncidentFailure, steps: StepOutcome[]): Promise<void> {
    await this.post(
      incident,
      failureMessage(incident, failure, steps, resolveService(this.services, incident.service)),
    );
  }

  /** A status change in the service's `announce_channel` (a string: stored mrkdwn of an earlier release). */
  async announce(incident: SlackIncident, change: StatusChange | string): Promise<void> {
    const channel = resolveService(this.services, incident.service).announce_channel;
    if (!channel) return;
    const text = typeof change === 'string' ? change : announceText(incident, change);
    const where = incident.channelId ? ` — follow it in <#${incident.channelId}>` : '';
    const body = redactSecrets(`${text}${where}`).slice(0, 3000);
    try {
      await this.client.chat.postMessage({
        channel,
        text: body,
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: body } }],
        unfurl_links: false,
      });
    } catch (err) {
      throw slackError(err, 'chat.postMessage');
    }
  }

  /** Runbook 003's post-incident tasks with *Create* buttons, at the top level (people act on them). */
  async followUps(incident: SlackIncident, followUps: FollowUp[], tracker: string | null): Promise<void> {
    await this.post(incident, followUpsMessage(followUps, tracker));
  }

  async cancelled(incident: SlackIncident, byUserId: string, reason?: string): Promise<void> {
    await this.post(incident, cancelledMessage(incident, byUserId, reason));
  }

  async reply(responseUrl: string, text: string): Promise<void> {
    const res = await fetch(responseUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: redactSecrets(text) }),
      signal: AbortSignal.timeout(10_000),
    });
    if (!res.ok)
      throw new AppError({
        code: 'slack_api_error',
        message: `response_url answered ${res.status}`,
        retryable: res.status >= 500,
      });
  }
}
