import type { webApi } from '@slack/bolt';
import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import { slackErrorCode } from './slack-errors.js';

/** Slack's answers to `auth.test` that mean the token itself is wrong (Web API "auth.test" errors). */
const BAD_TOKEN = new Set([
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'no_permission',
]);

/** A successful check is reused this long, ms, so readiness probes do not call Slack on every scrape. */
const SUCCESS_TTL_MS = 15_000;
const lastSuccess = new WeakMap<object, number>();

/**
 * Checks that Slack answers and accepts the bot token (`auth.test`). Called once at start-up
 * (role app/all) and by `/readyz`.
 * @param apiUrl SLACK_API_URL, named in the error when set
 * @throws AppError `slack_auth_failed` (the token was refused: what to copy where) or
 *   `slack_unreachable` (no answer: the host and the network error), never with the token
 */
export async function slackReachable(client: webApi.WebClient, apiUrl: string | undefined): Promise<void> {
  if (Date.now() - (lastSuccess.get(client) ?? 0) < SUCCESS_TTL_MS) return;
  try {
    await client.auth.test();
    lastSuccess.set(client, Date.now());
  } catch (err) {
    const code = slackErrorCode(err);
    if (code && BAD_TOKEN.has(code)) {
      throw new AppError({
        code: 'slack_auth_failed',
        message: `Slack refused SLACK_BOT_TOKEN (${code}). Copy the Bot User OAuth Token (xoxb-…) again from your app's OAuth & Permissions page, and reinstall the app if it was removed.`,
        cause: err,
      });
    }
    const reason =
      code ?? redactSecrets((err as { original?: Error }).original?.message ?? (err as Error).message ?? String(err));
    throw new AppError({
      code: 'slack_unreachable',
      message: `Slack's Web API at ${apiUrl ?? 'https://slack.com/api/'} did not answer auth.test (${reason}). Check the network or proxy${apiUrl ? ' and SLACK_API_URL' : ''}; to try the bot without Slack, leave SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET empty and run a drill.`,
      cause: err,
      retryable: true,
    });
  }
}
