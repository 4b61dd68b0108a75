import { asWords, code, type Words, type WordsLike, words } from './words.js';

/**
 * The one error type of migrate-bot. Foreign errors (pg, AWS SDK, Slack Web API,
 * BullMQ) are wrapped at the adapter boundary with `cause`, so every edge maps
 * errors exactly once:
 *  - Slack shows `userMessage` (never `message`, never `cause`) or a generic line;
 *  - BullMQ workers throw `UnrecoverableError` when `retryable` is false.
 *
 * Codes are snake_case and namespaced by area, e.g. `snapshot_quota_exceeded`,
 * `rollback_lock_timeout`, `command_unknown_migration` (DESIGN.md, "Conventions").
 */
export interface AppErrorOptions {
  /** snake_case, namespaced code, stable: tests and mappers match on it. */
  code: string;
  /** Operator-facing message for logs. May name hosts and identifiers, never secrets. */
  message: string;
  /** The foreign error this wraps. */
  cause?: unknown;
  /** True when the same call may succeed if repeated (throttling, transient state). Default false. */
  retryable?: boolean;
  /**
   * Message for people, safe to show on any surface: what went wrong and what to do. Words as
   * data (see `words.ts`); a plain string is plain text.
   */
  userMessage?: WordsLike;
  /** Structured, secret-free context for logs. */
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly userMessage: Words | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(options: AppErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = options.code;
    this.retryable = options.retryable ?? false;
    this.userMessage = options.userMessage === undefined ? undefined : asWords(options.userMessage);
    this.details = options.details;
  }
}

/** True when `err` is an AppError, optionally with the given code. */
export function isAppError(err: unknown, code?: string): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}

/** The words shown for an error that has no user message: it never leaks internals. */
export const INTERNAL_ERROR_WORDS: Words = words`Something went wrong inside migrate-bot; the error is in the bot logs. ${code('/migrate status')} shows what was recorded and what you can do next.`;

/**
 * What a person is told for any thrown value: the AppError's `userMessage`, or
 * {@link INTERNAL_ERROR_WORDS}. Surfaces render it (Slack mrkdwn, CLI plain text).
 */
export function userMessageOf(err: unknown): Words {
  if (err instanceof AppError && err.userMessage) return err.userMessage;
  return INTERNAL_ERROR_WORDS;
}
