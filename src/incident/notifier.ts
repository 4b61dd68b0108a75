import type { ServiceConfig } from '../config/services.js';
import type { SnapshotRecord } from '../snapshots/snapshot-provider.js';
import type { TriageReport } from '../triage/triage-report.js';
import type { Approval, Incident, IncidentFailure, StepOutcome } from './incident.js';

/** Approval progress shown on the plan card and in status updates. */
export interface ApprovalProgress {
  approvals: Approval[];
  required: number;
}

/** What verification found after the down migrations ran. */
export interface VerificationResult {
  passed: boolean;
  /** Migrations of the plan still listed in the tracking table (should be none). */
  stillApplied: string[];
  /** Newest migration left in the tracking table, or null when none. */
  head: string | null;
  /** Total time of the rollback, ms. */
  durationMs: number;
}

/**
 * The Notifier port: everything the incident flow says to people. Implemented by
 * `slack/slack-notifier.ts`; message wording follows runbook 003
 * "Communication & coordination". Every method posts to the incident's channel.
 * @throws AppError `slack_api_error` when Slack refuses a call
 */
export interface Notifier {
  /**
   * Creates `#<baseName>` (appending `-2`, `-3`, … on `name_taken`) and invites `invitees`.
   * @returns the channel's ID and the name it got
   */
  createIncidentChannel(baseName: string, invitees: string[]): Promise<{ id: string; name: string }>;
  /** First message: who asked for what, and what happens next. */
  opened(incident: Incident, service: ServiceConfig): Promise<void>;
  triage(incident: Incident, report: TriageReport): Promise<void>;
  /** Plain progress line (snapshot creating…, waiting for the snapshot, step 2/3 done…). */
  progress(incident: Incident, text: string): Promise<void>;
  /** Runbook 003 "Initial notice": "Rollback of migration `<file or version>` initiated. Snapshot saved: `<id>`. ETA: ~<X> minutes." */
  initialNotice(incident: Incident, snapshot: SnapshotRecord | null, etaMinutes: number): Promise<void>;
  /** The plan and its Approve / Reject buttons. @returns the message ts */
  planCard(incident: Incident, progress: ApprovalProgress): Promise<string>;
  /** Re-renders the plan card in place (approvals so far, or the final decision). */
  updatePlanCard(incident: Incident, progress: ApprovalProgress): Promise<void>;
  /** Runbook 003 "Status updates: every 15–30 minutes with progress and any issues encountered." */
  statusUpdate(incident: Incident, progress: ApprovalProgress, nextInMinutes: number): Promise<void>;
  /** Runbook 003 "Resolution message": "Rollback complete. Validation passed. …" */
  resolution(incident: Incident, verification: VerificationResult): Promise<void>;
  /** A restore finished: the new copy's endpoint and runbook 003's cut-over steps (not automated). */
  restoreComplete(incident: Incident, note?: string): Promise<void>;
  /** The error in plain words, the steps that did and did not complete; the incident stays open. */
  failure(incident: Incident, failure: IncidentFailure, steps: StepOutcome[]): Promise<void>;
  cancelled(incident: Incident, byUserId: string): Promise<void>;
  /** Ephemeral answer through a command's `response_url` (valid 30 minutes, 5 uses; Slack "Handling user interaction"). */
  reply(responseUrl: string, text: string): Promise<void>;
}
