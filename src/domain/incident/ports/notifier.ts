import type { RollbackEta } from '../model/eta.js';
import type { WordsLike } from '../../../shared/words.js';
import type { SnapshotRecord } from '../../snapshots/snapshot-provider.js';
import type { TriageReport } from '../../triage/triage-report.js';
import type { PlanRisk } from '../../rollback/risk.js';
import type { VerificationReport } from '../../verify/verification.js';
import type { Approval, Incident, IncidentFailure, StepOutcome } from '../model/incident.js';
import type { IncidentNotice, StatusChange } from '../model/notices.js';
import type { FollowUp } from '../process/followup.js';

/** Approval progress shown on the plan card and in status updates. */
export interface ApprovalProgress {
  /** Approvals that count for the plan as it is now (given for its digest). */
  approvals: Approval[];
  required: number;
  /** What approvers must know before pressing (e.g. triage found the tool lock held); shown on the plan card. */
  warnings?: string[];
  /** The plan's risk with its figures; the card leads with it. */
  risk?: PlanRisk;
  /** Data loss, security or irreversibility: the stricter tier, confirmed in a modal. */
  destructive?: boolean;
  /** Why no approval is possible (an irreversible step): the card offers a restore instead of buttons. */
  unapprovable?: string;
  /** This card's plan was replaced by a newer one: no buttons, a pointer to the new card. */
  superseded?: boolean;
  /** The newest rehearsal of this plan (same digest) on a scratch copy: passed or not, where it stopped, when (ISO-8601), its downs' time (ms). */
  rehearsal?: { passed: boolean; failedStep?: string; error?: WordsLike; at: string; downsMs?: number };
  /** The service can rehearse (pg_dump, or cloud restores allowed): the card offers *Rehearse*. */
  canRehearse?: boolean;
}

/** What verification found after the down migrations ran (see `domain/verify/verification.ts`). */
export type VerificationResult = VerificationReport;

/**
 * The Notifier port: everything the incident flow says to people. Use cases call it
 * after the state change is committed; the adapter (`adapters/postgres/outbox-notifier.ts`)
 * only records each notice in the state database's outbox and asks for its delivery, so
 * a call returns once the notice is stored — Slack being slow or down never blocks or
 * fails the caller (DESIGN.md "One failure path, one outbox"; the transactional-outbox
 * pattern). Delivery to Slack, in order per incident, is `jobs/deliver-notices.ts` over
 * `slack/slack-notifier.ts`; message wording follows runbook 003 "Communication &
 * coordination".
 * @throws only when the state database refuses the write
 */
export interface Notifier {
  /**
   * Asks for `#<baseName>` (`-2`, `-3`, … when taken) with `invitees`; when delivered, the
   * channel is recorded on the incident, every later notice goes there, and `responseUrl`
   * (the command's) gets "Incident opened in #…".
   */
  createIncidentChannel(incident: Incident, baseName: string, invitees: string[], responseUrl?: string): Promise<void>;
  /**
   * Sends the incident channel's link to `responseUrl` (a refused second command's) once the
   * channel exists: delivered after {@link createIncidentChannel}, in the incident's order.
   */
  channelLink(incident: Incident, responseUrl: string): Promise<void>;
  /** First message: who asked for what, and what happens next. */
  opened(incident: Incident): Promise<void>;
  triage(incident: Incident, report: TriageReport): Promise<void>;
  /** A notice in the incident's conversation (snapshot creating…, waiting for the snapshot, step 2/3 done…), as facts. */
  progress(incident: Incident, notice: IncidentNotice): Promise<void>;
  /**
   * Runbook 003 "Initial notice" ("Rollback of migration ‹file› initiated. Snapshot saved: ‹id›.
   * ETA: ~‹X› minutes."), posted when the rollback starts, after approval; `eta` from the plan.
   */
  initialNotice(incident: Incident, snapshot: SnapshotRecord | null, eta: RollbackEta): Promise<void>;
  /** The plan and its Approve / Reject buttons; its ts is recorded on the incident when delivered. One per retry round. */
  planCard(incident: Incident, progress: ApprovalProgress): Promise<void>;
  /** Re-renders the plan card in place (approvals so far, or the final decision). */
  updatePlanCard(incident: Incident, progress: ApprovalProgress): Promise<void>;
  /** Runbook 003 "Status updates: every 15–30 minutes with progress and any issues encountered." */
  statusUpdate(incident: Incident, progress: ApprovalProgress, nextInMinutes: number): Promise<void>;
  /** Runbook 003 "Resolution message": "Rollback complete. Validation passed. …" — or, when a check failed, the rollback completed with what failed. */
  resolution(incident: Incident, verification: VerificationResult): Promise<void>;
  /** Archives the incident channel (`conversations.archive`); the channel keeps its history. */
  archiveChannel(incident: Incident): Promise<void>;
  /** The timeline and postmortem draft (Markdown) as a file in the incident channel (`files.uploadV2`). */
  timeline(incident: Incident, markdown: string): Promise<void>;
  /** `/migrate verify`: the checks, named and timed, in the incident channel. */
  verification(incident: Incident, verification: VerificationResult): Promise<void>;
  /** A restore finished: the new copy's endpoint and runbook 003's cut-over steps (not automated). */
  restoreComplete(incident: Incident, note?: string): Promise<void>;
  /** The error in plain words, the steps that did and did not complete, and what people can do next. */
  failure(incident: Incident, failure: IncidentFailure, steps: StepOutcome[]): Promise<void>;
  /**
   * Runbook 003's post-incident tasks proposed as follow-ups, each with a *Create* button
   * (`tracker`: where *Create* files the ticket, or null: it becomes a checklist item).
   */
  followUps(incident: Incident, followUps: FollowUp[], tracker: string | null): Promise<void>;
  /** The incident ended without a rollback (Reject, or `/migrate close` before it started). */
  cancelled(incident: Incident, byUserId: string, reason?: string): Promise<void>;
  /**
   * A status change for stakeholders: posted in the service's `announce_channel` (when
   * configured) with a link to the incident's conversation, e.g. break glass invoked.
   */
  announce(incident: Incident, change: StatusChange): Promise<void>;
  /**
   * Ephemeral answer through a command's `response_url` (valid 30 minutes, 5 uses; Slack
   * "Handling user interaction"). Not part of an incident, so sent at once, best effort. A
   * notice is rendered by the chat surface; a string is words the surface already wrote.
   */
  reply(responseUrl: string, message: IncidentNotice | string): Promise<void>;
}

/** The notifier methods whose calls are stored in the outbox and delivered in order. */
export type NoticeMethod = Exclude<keyof Notifier, 'reply'>;
