import { AppError } from './errors.js';

/**
 * Resolves like `promise`, or rejects after `ms` (ms) with `onTimeout()`. The work itself
 * is not cancelled; callers use it where a person is waiting for an answer.
 * @throws whatever `onTimeout` returns, when the deadline passes first
 */
export async function withDeadline<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error of a queue call that did not answer within its deadline (Redis down or unreachable). */
export function queueUnreachable(what: string, ms: number, cause?: unknown): AppError {
  return new AppError({
    code: 'job_queue_unreachable',
    message: `job queue (Redis) ${cause ? `refused: ${cause instanceof Error ? cause.message : String(cause)}` : `did not answer within ${ms} ms`}: ${what}`,
    cause,
    retryable: true,
    userMessage: 'The job queue (Redis) is unreachable right now.',
  });
}
