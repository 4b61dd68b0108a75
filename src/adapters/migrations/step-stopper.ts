import type { StepControl } from '../../domain/rollback/migration-tool.js';
import type { PlanStep } from '../../domain/rollback/plan.js';
import { AppError } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import { code, words } from '../../shared/words.js';
import { type ServiceDb, withServiceDb } from './service-db.js';

/**
 * Stopping a running down migration: at its `step_timeout`, or on `/migrate close --force`
 * (PostgreSQL "Server Signaling Functions"), and the failure that says which.
 */

/** Why a step was stopped: its deadline (`step_timeout`), or the signal (with the signal's reason). */
export type StopCause = { kind: 'timeout' } | { kind: 'signal'; reason: unknown };

/** SQLSTATE 57014 (query_canceled) raised by `statement_timeout`, not by a cancel request. */
export function isStatementTimeout(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '57014' && /statement timeout/i.test(e.message ?? '');
}

/**
 * Stops a running down at its deadline or on its signal, on its own session (never another):
 * `pg_cancel_backend(pid)` at once (the statement fails with 57014 and a transactional step
 * rolls back), `pg_terminate_backend(pid)` after `graceMs` when the step has not ended (a JS
 * down awaiting something other than the database), and after another `graceMs` the step is
 * given up for good: {@link abandoned} rejects, so the rollback job is free whatever the JS does.
 * PostgreSQL "Server Signaling Functions".
 */
export class StepStopper {
  /** Set once the step is being stopped. */
  stopped: StopCause | null = null;
  /** Rejects once the step is given up after the cancel and the terminate; never resolves. */
  readonly abandoned: Promise<never>;
  private giveUp!: (err: Error) => void;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly onAbort = () => this.stop({ kind: 'signal', reason: this.control.signal?.reason });

  constructor(
    private readonly db: ServiceDb,
    private readonly pid: number,
    private readonly control: StepControl,
  ) {
    this.abandoned = new Promise<never>((_, reject) => {
      this.giveUp = reject;
    });
    this.abandoned.catch(() => undefined);
    this.timers.push(setTimeout(() => this.stop({ kind: 'timeout' }), control.stepTimeout.ms));
    if (control.signal?.aborted) this.onAbort();
    else control.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private stop(cause: StopCause): void {
    if (this.stopped) return;
    this.stopped = cause;
    const grace = this.control.graceMs ?? 5000;
    void this.signalBackend('pg_cancel_backend');
    this.timers.push(
      setTimeout(() => {
        void this.signalBackend('pg_terminate_backend');
        this.timers.push(
          setTimeout(() => this.giveUp(new Error('the step did not end after its session was terminated')), grace),
        );
      }, grace),
    );
  }

  /** Sends the signal from a short session of its own; the target is the step's own backend. */
  private async signalBackend(fn: 'pg_cancel_backend' | 'pg_terminate_backend'): Promise<void> {
    try {
      await withServiceDb(this.db, (c) => c.query(`SELECT ${fn}($1)`, [this.pid]));
      this.db.logger.warn({ pid: this.pid, fn, cause: this.stopped?.kind }, 'stopping a running down migration');
    } catch (err) {
      this.db.logger.error({ err: redactSecrets(String(err)), pid: this.pid, fn }, 'could not signal the running down');
    }
  }

  dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    this.control.signal?.removeEventListener('abort', this.onAbort);
  }
}

/** The failure of a step that was stopped: its deadline passed, or someone stopped it (`details.reason`). */
export function stoppedStepError(step: PlanStep, control: StepControl, stopped: StopCause, cause: unknown): AppError {
  const partly = step.transactional
    ? 'Its transaction was rolled back, so it changed nothing.'
    : 'It ran outside a transaction and may be partly applied.';
  if (stopped.kind === 'timeout') {
    return new AppError({
      code: 'rollback_step_timeout',
      message: `${step.migration}: ran longer than step_timeout ${control.stepTimeout.text}`,
      cause,
      userMessage: words`${code(step.migration)} ran longer than its ${code('step_timeout')} of ${control.stepTimeout.text} and was cancelled. ${partly}`,
    });
  }
  return new AppError({
    code: 'rollback_step_stopped',
    message: `${step.migration}: stopped while running`,
    cause,
    details: { reason: stopped.reason },
    userMessage: words`${code(step.migration)} was cancelled while it ran. ${partly}`,
  });
}
