import type { IncidentKind, RecordedBy } from './incident.js';
import type { WordsLike } from '../../../shared/words.js';
import type { SnapshotRecord } from '../../snapshots/snapshot-provider.js';
import type { RehearsalResult } from './rehearsal-policy.js';
import type { ProcessNotice } from '../process/process-notices.js';

/**
 * Everything the incident tells people as it goes, as facts: ids, names, numbers and times, never
 * markup. Use cases emit them through the Notifier (`progress` for the incident's conversation,
 * `announce` for the stakeholders' channel); each surface renders them in its own words: Slack
 * mrkdwn through the one escaping renderer (`adapters/slack/render/notice-text.ts`), plain text in
 * the terminal (`surfaces/cli/notice-text.ts`).
 *
 * People are Slack user ids or CLI operator names (`U0SRE001`, `cli:alice`); `reason` and `text`
 * are what a person typed (data, escaped by the renderer). `detail` fields carry an error's user
 * message from the bot's own error vocabulary. Wording follows runbook 003 "Communication &
 * coordination".
 */
export type IncidentNotice =
  /** Severity, roles, follow-ups and pages (`process/process-notices.ts`). */
  | ProcessNotice
  /** Approvals given outside Slack, recorded by the CLI's operator with the reason (runbook 003: two approvals). */
  | { kind: 'approvals_recorded'; operator: string; approvers: string[]; reason: string }
  /** The requester invoked break glass: one approval instead of the usual set. */
  | { kind: 'break_glass'; by: string; reason: string; migration: string; service: string }
  /** Someone acknowledged failed verification checks; the incident is resolved. */
  | { kind: 'warnings_acknowledged'; by: string; reason: string | null }
  /** `/migrate close` while the rollback runs: it stops after the step in progress. */
  | { kind: 'stop_requested'; by: string; reason: string | null; force?: boolean }
  /** A responder's own status update (`/migrate update`). */
  | { kind: 'human_update'; by: string; text: string }
  /** Triage could not run; the plan follows anyway. */
  | { kind: 'triage_failed' }
  /**
   * A line from a snapshot provider or restorer as it works (creating, percent, available, …);
   * `text` marks names as code spans with backticks and nothing else. `rehearsal` when it is the
   * rehearsal's scratch copy.
   */
  | { kind: 'provider_progress'; text: string; rehearsal?: boolean }
  /** A rehearsal of the plan on a scratch copy started. `lockTimeout` as configured, e.g. `5s`. */
  | { kind: 'rehearsal_started'; by: string; snapshotId: string; lockTimeout: string }
  /** A rehearsal finished: passed or where it stopped, each step with its duration (ms). */
  | { kind: 'rehearsal_done'; result: RehearsalResult }
  /** The rehearsal's scratch copy could not be dropped. */
  | { kind: 'rehearsal_copy_left'; copy: string }
  /**
   * One approval of several. `confirmedAs`: the service name the approver typed for a destructive
   * plan (never set for an approval recorded from the CLI); `recordedBy`: the operator who
   * recorded it on the approver's behalf, and why, or null when the approver pressed Approve.
   */
  | {
      kind: 'approval_given';
      by: string;
      count: number;
      required: number;
      confirmedAs: string | null;
      recordedBy?: RecordedBy | null;
    }
  /** The last approval: the rollback (or restore) is queued, or waits for the job queue. */
  | {
      kind: 'approvals_complete';
      approvers: string[];
      noun: IncidentKind;
      queued: boolean;
      /** The snapshot is not available yet: the job starts once it is. */
      waitsForSnapshot: boolean;
      /** Set only when every approval was typed-confirmed in Slack. */
      confirmedAs: string | null;
      /** The last approval was recorded from the CLI on the approver's behalf. */
      recordedBy?: RecordedBy | null;
    }
  /** An approver had the approvers read again: who was added and removed; `asOf` ISO-8601 UTC. */
  | { kind: 'approvers_refreshed'; by: string; added: string[]; removed: string[]; asOf: string }
  /** One approval of deleting what a failed restore left behind. */
  | { kind: 'discard_approval_given'; by: string; leftover: string; count: number; required: number }
  /** Deleting the leftover is approved (and queued, unless the job queue is unreachable). */
  | { kind: 'discard_approved'; approvers: string[]; leftover: string; queued: boolean }
  | { kind: 'discard_failed'; leftover: string; detail: WordsLike | null }
  | { kind: 'discard_done'; leftover: string }
  /** The reconciler queued a rollback whose approvals were complete. */
  | { kind: 'rollback_requeued' }
  /** The reconciler resumed a rollback whose job ended while every down had committed: it verifies and resolves. */
  | { kind: 'rollback_resumed' }
  /** The bot's own state database was unreachable for `downForMs` (ms); the rollback waited and went on. */
  | { kind: 'state_db_back'; downForMs: number }
  /** `/migrate retry`: a new round with a new snapshot and new approvals. */
  | {
      kind: 'round_started';
      by: string;
      attempt: number;
      /** Down migrations still applied (rollbacks). */
      steps: number;
      /** The restore's target (restores). */
      restoreTarget: string | null;
      approvalsRequired: number;
    }
  /** The plan changed after approval: it did not run; `voided` approvers; `changes` in words. */
  | { kind: 'plan_superseded'; voided: string[]; changes: string[] }
  /** The tool lock left set by this incident's crashed run was taken over. */
  | { kind: 'tool_lock_taken_over'; toolLock: string }
  /** A down migration starts (`index` from 1). */
  | { kind: 'step_started'; index: number; total: number; migration: string; lockTimeout: string }
  /** A down migration finished, in `durationMs` (ms). */
  | { kind: 'step_done'; index: number; total: number; migration: string; durationMs: number }
  /** The rollback job waits (snapshot gate, another rollback on the database); `reason` in the bot's words. */
  | { kind: 'rollback_waiting'; reason: WordsLike }
  /** The incident channel is about to be archived, `afterMinutes` after the incident ended. */
  | { kind: 'channel_archiving'; afterMinutes: number | null }
  /** `/migrate snapshot`: the snapshot is taken. */
  | { kind: 'snapshot_taken'; record: SnapshotRecord; service: string; by: string }
  /** The incident's own snapshot is available (runbook 003 "take a fresh snapshot … and record its ID"); nothing ran yet. */
  | { kind: 'snapshot_ready'; record: SnapshotRecord }
  | { kind: 'snapshot_failed'; name: string; service: string; detail: WordsLike | null };

/**
 * What the stakeholders' channel (`announce_channel`) hears: one line per status change of the
 * incident (runbook 003 "Communication & coordination"), with a link to the incident channel
 * added by the surface.
 */
export type StatusChange =
  | Extract<IncidentNotice, { kind: 'break_glass' | 'human_update' }>
  /** An incident opened by `by`: `steps` down migrations wait for approval. */
  | { kind: 'opened'; by: string; steps: number }
  /** Stored by an earlier release (the initial notice at snapshot time); no longer emitted. */
  | { kind: 'initiated'; snapshotId: string; etaMinutes: number }
  /** Approved: the downs run. */
  | { kind: 'rollback_started'; steps: number }
  | { kind: 'resolved'; validationPassed: boolean }
  /** `message`: the failure in the bot's words. */
  | { kind: 'failed'; message: WordsLike }
  | { kind: 'rejected' }
  | { kind: 'cancelled' }
  /** A failed incident closed by responders. */
  | { kind: 'closed' }
  /** The severity changed (`/migrate sev`). */
  | Extract<IncidentNotice, { kind: 'severity_changed' }>;
