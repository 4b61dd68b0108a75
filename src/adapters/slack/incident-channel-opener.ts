import type { webApi } from '@slack/bolt';
import { isUserGroup } from '../../domain/incident/ports/approvers.js';
import { AppError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import { SlackDirectory } from './slack-directory.js';
import { slackError, slackErrorCode } from './slack-errors.js';

/** Slack's channel-name rules: lowercase letters, digits, `-`, `_`; at most 80 characters. */
export function toChannelName(base: string, attempt: number): string {
  const suffix = attempt > 1 ? `-${attempt}` : '';
  const clean = base
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-');
  return `${clean.slice(0, 80 - suffix.length)}${suffix}`;
}

/** Opens incident channels on the Slack Web API: a free name, then the right people in it. */
export class IncidentChannelOpener {
  constructor(
    private readonly client: webApi.WebClient,
    private readonly logger: Logger,
  ) {}

  /**
   * Creates a channel (private when `isPrivate`, Slack `is_private`) named from `baseName` (`-2`, `-3`… when the name is taken; Slack
   * `conversations.create`), then invites `invitees` with user groups expanded, the bot left out
   * (`conversations.invite` is all-or-nothing, so on a failure each is invited alone and the ones
   * Slack refused are named in the channel).
   * @throws AppError `slack_api_error` when no free name is found in 50 tries or Slack refuses the channel
   */
  async open(baseName: string, invitees: string[], isPrivate = false): Promise<{ id: string; name: string }> {
    let channel: { id: string; name: string } | null = null;
    for (let attempt = 1; attempt <= 50 && !channel; attempt++) {
      const name = toChannelName(baseName, attempt);
      try {
        const res = await this.client.conversations.create({ name, is_private: isPrivate });
        channel = { id: res.channel!.id!, name: res.channel!.name ?? name };
      } catch (err) {
        if (slackErrorCode(err) !== 'name_taken') throw slackError(err, 'conversations.create');
      }
    }
    if (!channel)
      throw new AppError({
        code: 'slack_api_error',
        message: `no free channel name for ${baseName}`,
        userMessage: 'Could not find a free incident channel name.',
      });

    const botUserId = await this.botUserId();
    const users = (await this.expandGroups(invitees)).filter((u) => u !== botUserId);
    if (users.length) {
      try {
        await this.client.conversations.invite({ channel: channel.id, users: users.join(',') });
      } catch {
        // conversations.invite is all-or-nothing; invite one by one so one bad ID does not keep everyone out.
        const missed: string[] = [];
        for (const u of users) {
          await this.client.conversations.invite({ channel: channel.id, users: u }).catch((err: unknown) => {
            if (slackErrorCode(err) !== 'already_in_channel')
              missed.push(`<@${u}> (${slackErrorCode(err) ?? 'error'})`);
          });
        }
        if (missed.length) {
          this.logger.warn({ channel: channel.id, missed }, 'some people could not be invited');
          await this.client.chat
            .postMessage({
              channel: channel.id,
              text: `:warning: Could not invite ${missed.join(', ')}. Please add them by hand.`,
            })
            .catch(() => undefined);
        }
      }
    }
    return channel;
  }

  /** People of approver user groups (`S…`), asked now; a group Slack cannot list is logged and skipped (its people join by hand). */
  private async expandGroups(ids: string[]): Promise<string[]> {
    const out: string[] = [];
    for (const id of ids) {
      if (!isUserGroup(id)) {
        out.push(id);
        continue;
      }
      try {
        out.push(...(await new SlackDirectory(this.client).usergroupMembers(id)));
      } catch (err) {
        this.logger.warn({ err, usergroup: id }, 'could not list an approver group to invite it');
      }
    }
    return [...new Set(out)];
  }

  private botUser: Promise<string | undefined> | undefined;

  /** The bot's own user ID (never invited: Slack answers `cant_invite_self`); one `auth.test` per process. */
  private botUserId(): Promise<string | undefined> {
    this.botUser ??= this.client.auth.test().then(
      (r) => r.user_id,
      () => {
        this.botUser = undefined; // try again next time
        return undefined;
      },
    );
    return this.botUser;
  }
}
