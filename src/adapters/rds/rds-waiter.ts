import type { RDSClient, waitUntilDBSnapshotAvailable } from '@aws-sdk/client-rds';
import { mapRdsError, isWaiterTimeout } from './rds-errors.js';

/**
 * Runs one of the SDK's `waitUntil…Available` waiters with a bounded wait and fail-fast checks
 * the SDK waiters lack ("wait until the snapshot is available with the SDK's waiters…
 * fail fast on failed, deleted, incompatible-*").
 *
 * What the installed SDK waiters do (client-rds 3.1169, `dist-es/waiters/*`): they poll
 * `Describe…` with exponential backoff and jitter between `minDelay` and `maxDelay` seconds
 * until `maxWaitTime` seconds; they return FAILURE (and `waitUntil…` throws a plain `Error`)
 * when a status is `deleted`, `deleting`, `failed`, `incompatible-restore` or
 * `incompatible-parameters`; they throw `TimeoutError` on timeout and `AbortError` when the
 * abort signal fires. But they treat EVERY error from `Describe…` as "retry", so a snapshot
 * that disappears (`DBSnapshotNotFound`) or a permission error would poll until the timeout,
 * and other `incompatible-*` statuses are not recognised. This helper hands the waiter a thin
 * client wrapper that inspects each `Describe…` answer and aborts the waiter at once on a
 * terminal status, on "not found" after the resource was seen once (a just-created resource may
 * be briefly invisible: RDS is eventually consistent), or on a non-retryable error.
 */

/** The configuration every RDS waiter takes (`WaiterConfiguration<RDSClient>`). */
export type RdsWaiterConfig = Parameters<typeof waitUntilDBSnapshotAvailable>[0];

/** Any SDK `waitUntil…` function of the RDS client. */
export type RdsWaiter<I> = (params: RdsWaiterConfig, input: I) => Promise<unknown>;

/** One resource as seen by a poll: its RDS status and, for snapshots, `PercentProgress` (0–100). */
export interface PolledState {
  status: string;
  percent?: number;
}

/** How a wait ended. `elapsedMs` is wall time spent waiting, milliseconds. */
export type WaitOutcome =
  | { kind: 'available'; elapsedMs: number }
  | { kind: 'terminal'; status: string; elapsedMs: number }
  | { kind: 'gone'; elapsedMs: number }
  | { kind: 'error'; error: unknown; elapsedMs: number; operation?: string }
  | { kind: 'timeout'; lastStatus: string | undefined; elapsedMs: number; error: unknown };

export interface WaitWithFailFastOptions<I> {
  client: RDSClient;
  /** e.g. `waitUntilDBSnapshotAvailable`. */
  waiter: RdsWaiter<I>;
  /** The `Describe…` input the waiter polls with. */
  input: I;
  /** Upper bound on the wait, seconds (> 0). */
  maxWaitSeconds: number;
  /** Waiter backoff floor, seconds (SDK default 30; ours 15; tests 1). */
  minDelaySeconds: number;
  /** Waiter backoff ceiling, seconds. */
  maxDelaySeconds: number;
  /** Reads the polled resource from a `Describe…` output; undefined when the list is empty. */
  read: (output: unknown) => PolledState | undefined;
  /** True for statuses that can never become `available` (`failed`, `deleted`, `incompatible-*`…). */
  isTerminal: (status: string) => boolean;
  /** True when the error means the polled resource does not exist (e.g. `DBSnapshotNotFound`). */
  isNotFound: (err: unknown) => boolean;
  /** Called after every successful poll (progress reporting); anything it throws is ignored. */
  onPoll?: (state: PolledState) => void;
  /** Wall clock for `elapsedMs`, ms since epoch; default `Date.now`. */
  now?: () => number;
}

/**
 * Waits with `options.waiter` and classifies the end. Never throws for RDS outcomes: the caller
 * maps {@link WaitOutcome} to its own AppError. Throws only on programming errors
 * (e.g. invalid waiter configuration).
 */
export async function waitWithFailFast<I>(options: WaitWithFailFastOptions<I>): Promise<WaitOutcome> {
  const now = options.now ?? Date.now;
  const started = now();
  const maxWaitTime = options.maxWaitSeconds;
  // The SDK requires 0 < minDelay < maxWaitTime and minDelay <= maxDelay.
  const minDelay = Math.max(0.001, Math.min(options.minDelaySeconds, maxWaitTime / 2));
  const maxDelay = Math.max(minDelay, options.maxDelaySeconds);

  const controller = new AbortController();
  let seen = false;
  let lastStatus: string | undefined;
  let terminal: string | undefined;
  let gone = false;
  let fatal: { error: unknown; operation: string | undefined } | undefined;

  const watched = {
    config: options.client.config,
    send: async (command: Parameters<RDSClient['send']>[0]): Promise<unknown> => {
      try {
        const output = await options.client.send(command);
        const state = options.read(output);
        if (state) {
          seen = true;
          lastStatus = state.status;
          try {
            options.onPoll?.(state);
          } catch {
            // Progress reporting must never end a wait.
          }
          if (options.isTerminal(state.status)) {
            terminal = state.status;
            controller.abort();
          }
        }
        return output;
      } catch (err) {
        if (options.isNotFound(err)) {
          if (seen) {
            gone = true;
            controller.abort();
          }
        } else if (!mapRdsError(err, { operation: 'wait', area: 'snapshot' }).retryable) {
          fatal = { error: err, operation: actionOf(command) };
          controller.abort();
        }
        throw err;
      }
    },
  } as unknown as RDSClient;

  try {
    await options.waiter(
      { client: watched, maxWaitTime, minDelay, maxDelay, abortSignal: controller.signal },
      options.input,
    );
    return { kind: 'available', elapsedMs: now() - started };
  } catch (err) {
    const elapsedMs = now() - started;
    if (terminal !== undefined) return { kind: 'terminal', status: terminal, elapsedMs };
    if (gone) return { kind: 'gone', elapsedMs };
    if (fatal)
      return {
        kind: 'error',
        error: fatal.error,
        elapsedMs,
        ...(fatal.operation ? { operation: fatal.operation } : {}),
      };
    if (isWaiterTimeout(err)) return { kind: 'timeout', lastStatus, elapsedMs, error: err };
    // A FAILURE acceptor we did not classify (should not happen: isTerminal covers the waiter's list).
    if (lastStatus !== undefined && lastStatus !== 'available')
      return { kind: 'terminal', status: lastStatus, elapsedMs };
    return { kind: 'error', error: err, elapsedMs };
  }
}

/** `DescribeDBSnapshotsCommand` → `DescribeDBSnapshots` (the RDS action, for messages and IAM hints). */
function actionOf(command: unknown): string | undefined {
  const name = (command as { constructor?: { name?: string } } | undefined)?.constructor?.name;
  return name?.endsWith('Command') ? name.slice(0, -'Command'.length) : undefined;
}

/**
 * Statuses of snapshots, instances and clusters that will never turn `available` by waiting
 * (RDS API reference DBSnapshot.Status / DBInstance.DBInstanceStatus; the SDK waiters' FAILURE
 * acceptors plus every `incompatible-*` and `inaccessible-encryption-credentials*`).
 */
export function isTerminalRdsStatus(status: string): boolean {
  return (
    status === 'failed' ||
    status === 'deleted' ||
    status === 'deleting' ||
    status.startsWith('incompatible-') ||
    status.startsWith('inaccessible-encryption-credentials')
  );
}
