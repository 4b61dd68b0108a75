import { webApi } from '@slack/bolt';
import type { Counter } from 'prom-client';
import { isAppError } from '../../shared/errors.js';
import type { SlackPacer } from './slack-pacing.js';

/**
 * The label a failed Web API call is counted under: Slack's own `error` string for a
 * platform error (`channel_not_found`, `not_in_channel`), `ratelimited` for HTTP 429
 * (`slack_webapi_rate_limited_error`), `http_<status>` for another HTTP failure and
 * `network` when no answer came (the @slack/web-api error codes).
 */
export function slackCallErrorLabel(err: unknown): string {
  if (isAppError(err, 'slack_paced')) return 'paced';
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number };
  if (e.code === 'slack_webapi_platform_error') return e.data?.error ?? 'platform_error';
  if (e.code === 'slack_webapi_rate_limited_error') return 'ratelimited';
  if (e.code === 'slack_webapi_http_error') return `http_${e.statusCode ?? 'error'}`;
  return 'network';
}

/**
 * The bot's Web API client: every call paced to Slack's limits first ({@link SlackPacer}:
 * its method's tier, one new message a second per channel), then counted by method and outcome
 * (`migrate_bot_slack_api_calls_total`, `paced` when it was deferred or skipped). Every method of
 * the client (`chat.postMessage`, `files.uploadV2`'s two calls, …) goes through `apiCall`, so
 * pacing and counting there see them all.
 */
export class InstrumentedWebClient extends webApi.WebClient {
  private readonly callCounter: Counter<'method' | 'error'>;
  private readonly pacer: SlackPacer | undefined;

  constructor(token: string, options: webApi.WebClientOptions, calls: Counter<'method' | 'error'>, pacer?: SlackPacer) {
    super(token, options);
    this.callCounter = calls;
    this.pacer = pacer;
  }

  override async apiCall(method: string, options?: Record<string, unknown>): Promise<webApi.WebAPICallResult> {
    try {
      await this.pacer?.acquire(method, options);
      const result = await super.apiCall(method, options);
      this.callCounter.inc({ method, error: 'ok' });
      return result;
    } catch (err) {
      this.callCounter.inc({ method, error: slackCallErrorLabel(err) });
      throw err;
    }
  }
}
