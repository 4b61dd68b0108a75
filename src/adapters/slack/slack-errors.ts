import { AppError, isAppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';

/** The `error` string of a Slack Web API platform error, if that is what `err` is. */
export function slackErrorCode(err: unknown): string | undefined {
  const e = err as { code?: string; data?: { error?: string } };
  return e.code === 'slack_webapi_platform_error' ? e.data?.error : undefined;
}

/** Slack errors worth trying again (Web API "Errors" of chat.postMessage and friends). */
const TRANSIENT = new Set([
  'ratelimited',
  'internal_error',
  'service_unavailable',
  'fatal_error',
  'request_timeout',
  'team_added_to_org',
]);

/**
 * Wraps a Web API failure. Network errors, HTTP 5xx and 429 (which the WebClient already
 * retried, honouring `Retry-After`) are retryable; `details.retryAfterSec` carries Slack's
 * `Retry-After` when it sent one, so the delivery job waits that long.
 */
export function slackError(err: unknown, method: string): AppError {
  if (isAppError(err, 'slack_paced')) return err; // deferred by the bot's own pacing: it keeps its wait
  const code = slackErrorCode(err);
  const retryAfter = (err as { retryAfter?: number }).retryAfter;
  return new AppError({
    code: 'slack_api_error',
    message: `Slack ${method} failed: ${code ?? redactSecrets((err as Error).message)}`,
    cause: err,
    retryable: code === undefined || TRANSIENT.has(code),
    userMessage: `Slack refused \`${method}\` (${code ?? 'network error'}).`,
    details: { method, slackError: code, ...(typeof retryAfter === 'number' ? { retryAfterSec: retryAfter } : {}) },
  });
}
