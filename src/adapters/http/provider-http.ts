import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';

/** A provider's HTTP answer: status, `Retry-After` in seconds when sent, and the body (JSON when it parses, else text). */
export interface ProviderAnswer {
  status: number;
  retryAfterSec: number | null;
  body: unknown;
}

/** How long one call to a paging or ticket provider may take, ms. */
export const PROVIDER_TIMEOUT_MS = 10_000;

/**
 * POSTs JSON to a provider (PagerDuty, Jira, Linear) with a timeout and reads the answer. HTTP
 * errors are returned, not thrown: each adapter knows which of its provider's statuses are final.
 * @throws AppError `${codePrefix}_unavailable` (retryable) when the provider cannot be reached or does not answer within `timeoutMs`
 */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string>,
  codePrefix: string,
  provider: string,
  timeoutMs = PROVIDER_TIMEOUT_MS,
): Promise<ProviderAnswer> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (cause) {
    const reason =
      (cause as Error).name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : String((cause as Error).cause ?? (cause as Error).message);
    throw new AppError({
      code: `${codePrefix}_unavailable`,
      message: redactSecrets(`${provider} unreachable at ${new URL(url).origin}: ${reason}`),
      retryable: true,
      cause,
    });
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a proxy's HTML error page): kept as text.
  }
  const ra = res.headers.get('retry-after');
  const retryAfterSec =
    ra && /^\d+$/.test(ra)
      ? Number(ra)
      : ra
        ? Math.max(1, Math.ceil((Date.parse(ra) - Date.now()) / 1000)) || null
        : null;
  return { status: res.status, retryAfterSec, body: parsed };
}

/**
 * The error for an answer the adapter did not accept: 408, 429 and 5xx are retryable
 * (`${prefix}_unavailable`, with `retryAfterSec`), anything else is final (`${prefix}_refused`,
 * with the provider's words in `details.providerError`).
 */
export function providerError(
  prefix: string,
  provider: string,
  answer: ProviderAnswer,
  providerWords: string,
): AppError {
  const retryable = answer.status === 408 || answer.status === 429 || answer.status >= 500;
  const said = redactSecrets(providerWords).slice(0, 300);
  return new AppError({
    code: retryable ? `${prefix}_unavailable` : `${prefix}_refused`,
    message: `${provider} answered HTTP ${answer.status}: ${said}`,
    retryable,
    details: {
      status: answer.status,
      providerError: said,
      ...(answer.retryAfterSec ? { retryAfterSec: answer.retryAfterSec } : {}),
    },
  });
}
