import PQueue from 'p-queue';

/** How long the receiver must be quiet (no request from Slack) before held work starts, ms. */
export const ACKS_FIRST_QUIET_MS = 30;
/** The longest a piece of work is held for acks still arriving, ms: a steady stream cannot starve it. */
export const ACKS_FIRST_MAX_HOLD_MS = 1500;

/**
 * The work that follows an ack (opening an incident, triage, lookups), run so that acks come
 * first. Slack wants every request acknowledged within 3 seconds ("Acknowledge within 3
 * seconds", Slack's interactivity docs), and in a burst — a hundred `/migrate` commands in one
 * second on the worst day — the requests still arriving would otherwise queue on the event loop
 * behind the work of the ones already acked. So work is held while requests are arriving and
 * starts once none has arrived for `quietMs`, or once it has waited `maxHoldMs`; at most
 * `concurrency` pieces run at a time (p-queue, paused while requests arrive).
 *
 * Fair between users: a piece's priority is minus the number of its `key`'s pieces already
 * waiting or running (p-queue `priority`), so one user's flood of commands runs behind every
 * other user's first command instead of ahead of it.
 */
export interface AcksFirstQueue {
  /**
   * Runs `work` after the ack, under the rules above; resolves or rejects with it.
   * @param key whose work it is (a Slack user id); pieces of a key with many pending go last
   */
  run<T>(work: () => Promise<T>, key?: string): Promise<T>;
  /** Notes that a request from Slack arrived: held work waits another `quietMs`. */
  arrived(): void;
  /** Pieces of work waiting to start. */
  readonly waiting: number;
  /** Pieces of work running. */
  readonly running: number;
}

/** Options of {@link createAcksFirstQueue}; times in ms, `now` in ms since the epoch. */
export interface AcksFirstOptions {
  concurrency: number;
  /** Told the counts whenever work is queued, starts or ends (e.g. to set a gauge). */
  onChange?: (counts: { waiting: number; running: number }) => void;
  quietMs?: number;
  maxHoldMs?: number;
  now?: () => number;
}

/** Builds an {@link AcksFirstQueue}. Its timer never keeps the process alive. */
export function createAcksFirstQueue(options: AcksFirstOptions): AcksFirstQueue {
  const quietMs = options.quietMs ?? ACKS_FIRST_QUIET_MS;
  const maxHoldMs = options.maxHoldMs ?? ACKS_FIRST_MAX_HOLD_MS;
  const now = options.now ?? Date.now;
  const queue = new PQueue({ concurrency: options.concurrency });
  if (options.onChange) {
    const tell = () => options.onChange!({ waiting: queue.size, running: queue.pending });
    for (const event of ['add', 'active', 'next'] as const) queue.on(event, tell);
  }
  /** When each waiting piece was queued, oldest first (by priority p-queue may start a younger one). */
  const queuedAt: number[] = [];
  /** Pieces waiting or running per key. */
  const pending = new Map<string, number>();
  let lastArrival = -Infinity;
  let timer: NodeJS.Timeout | undefined;

  const overdue = (t: number) => queuedAt.length > 0 && t - queuedAt[0]! >= maxHoldMs;
  const check = (): void => {
    timer = undefined;
    const t = now();
    const quietFor = t - lastArrival;
    if (quietFor >= quietMs || overdue(t)) {
      queue.start();
      return;
    }
    const untilOverdue = queuedAt.length ? maxHoldMs - (t - queuedAt[0]!) : Infinity;
    schedule(Math.min(quietMs - quietFor, untilOverdue));
  };
  const schedule = (delayMs: number): void => {
    if (timer) return;
    timer = setTimeout(check, Math.max(1, delayMs));
    timer.unref();
  };

  return {
    run<T>(work: () => Promise<T>, key = ''): Promise<T> {
      const at = now();
      queuedAt.push(at);
      const ahead = pending.get(key) ?? 0;
      pending.set(key, ahead + 1);
      const done = (): void => {
        const left = (pending.get(key) ?? 1) - 1;
        if (left > 0) pending.set(key, left);
        else pending.delete(key);
      };
      return queue.add(
        async () => {
          queuedAt.splice(queuedAt.indexOf(at), 1);
          try {
            return await work();
          } finally {
            done();
          }
        },
        { priority: -ahead },
      ) as Promise<T>;
    },
    arrived(): void {
      lastArrival = now();
      if (overdue(lastArrival)) return;
      queue.pause();
      schedule(quietMs);
    },
    get waiting() {
      return queue.size;
    },
    get running() {
      return queue.pending;
    },
  };
}
