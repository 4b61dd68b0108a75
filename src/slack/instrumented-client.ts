import { webApi } from '@slack/bolt';
import type { Counter } from 'prom-client';

/**
 * The label a failed Web API call is counted under: Slack's own `error` string for a
 * platform error (`channel_not_found`, `not_in_channel`), `ratelimited` for HTTP 429
 * (`slack_webapi_rate_limited_error`), `http_<status>` for another HTTP failure and
 * `network` when no answer came (the @slack/web-api error codes).
 */
export function slackCallErrorLabel(err: unknown): string {
  const e = err as { code?: string; data?: { error?: string }; statusCode?: number };
  if (e.code === 'slack_webapi_platform_error') return e.data?.error ?? 'platform_error';
  if (e.code === 'slack_webapi_rate_limited_error') return 'ratelimited';
  if (e.code === 'slack_webapi_http_error') return `http_${e.statusCode ?? 'error'}`;
  return 'network';
}

/**
 * The bot's Web API client with every call counted by method and outcome
 * (`migrate_bot_slack_api_calls_total`). Every method of the client (`chat.postMessage`,
 * `files.uploadV2`'s two calls, …) goes through `apiCall`, so counting there sees them all.
 */
export class InstrumentedWebClient extends webApi.WebClient {
  private readonly callCounter: Counter<'method' | 'error'>;

  constructor(token: string, options: webApi.WebClientOptions, calls: Counter<'method' | 'error'>) {
    super(token, options);
    this.callCounter = calls;
  }

  override async apiCall(method: string, options?: Record<string, unknown>): Promise<webApi.WebAPICallResult> {
    try {
      const result = await super.apiCall(method, options);
      this.callCounter.inc({ method, error: 'ok' });
      return result;
    } catch (err) {
      this.callCounter.inc({ method, error: slackCallErrorLabel(err) });
      throw err;
    }
  }
}
