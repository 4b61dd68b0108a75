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
  /** Plain-words message safe to post to Slack: what went wrong and what to do. */
  userMessage?: string;
  /** Structured, secret-free context for logs. */
  details?: Record<string, unknown>;
}

export class AppError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly userMessage: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(options: AppErrorOptions) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = options.code;
    this.retryable = options.retryable ?? false;
    this.userMessage = options.userMessage;
    this.details = options.details;
  }
}

/** True when `err` is an AppError, optionally with the given code. */
export function isAppError(err: unknown, code?: string): err is AppError {
  return err instanceof AppError && (code === undefined || err.code === code);
}

/**
 * The text a Slack reader sees for any thrown value: the AppError's `userMessage`,
 * or a generic line that never leaks internals.
 */
export function userMessageOf(err: unknown): string {
  if (err instanceof AppError && err.userMessage) return err.userMessage;
  return 'Something went wrong inside migrate-bot; the error is in the bot logs. `/migrate status` shows what was recorded and what you can do next.';
}
