import { group, words } from '../../shared/words.js';
import type { webApi } from '@slack/bolt';
import type { ApproverDirectory } from '../../domain/incident/ports/approvers.js';
import { AppError } from '../../shared/errors.js';
import { slackError } from './slack-errors.js';

/**
 * Approver user groups through Slack's `usergroups.users.list` (scope `usergroups:read`),
 * asked on every press with no cache, so a rota change in Slack applies at once.
 */
export class SlackDirectory implements ApproverDirectory {
  constructor(private readonly client: webApi.WebClient) {}

  /** @throws AppError `slack_api_error` with a userMessage naming the group */
  async usergroupMembers(groupId: string): Promise<string[]> {
    try {
      const res = await this.client.usergroups.users.list({ usergroup: groupId });
      return res.users ?? [];
    } catch (err) {
      const e = slackError(err, 'usergroups.users.list');
      throw new AppError({
        code: e.code,
        message: e.message,
        cause: err,
        retryable: e.retryable,
        userMessage: words`Slack did not say who is in the approver group ${group(groupId)} (${e.message}). Nothing was recorded; press again in a moment.`,
      });
    }
  }

  /** Slack `users.info`: `user_not_found` (and a malformed id) is no; a deactivated account or a bot is no. */
  async isActiveUser(userId: string): Promise<boolean> {
    if (!/^[UW][A-Z0-9]{2,}$/.test(userId)) return false;
    try {
      const res = await this.client.users.info({ user: userId });
      return Boolean(res.user && !res.user.deleted && !res.user.is_bot);
    } catch (err) {
      const e = slackError(err, 'users.info');
      if (/user_not_found|user_not_visible/.test(e.message)) return false;
      throw new AppError({
        code: e.code,
        message: e.message,
        cause: err,
        retryable: e.retryable,
        userMessage: words`Slack could not say who that is (${e.message}). Nothing was changed; try again in a moment.`,
      });
    }
  }
}
