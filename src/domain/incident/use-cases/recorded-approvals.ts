import { code, type WordsLike, words, wordsPlain } from '../../../shared/words.js';
import type { ServiceConfig } from '../../../config/services.js';
import type { PlanStep } from '../../rollback/plan.js';
import { AppError } from '../../../shared/errors.js';
import { approve } from './approvals.js';
import { approvalTier } from '../model/approval-tier.js';
import { isApprover } from '../ports/approvers.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { BreakGlass, Incident } from '../model/incident.js';

/** Shortest reason accepted for approvals given outside Slack, characters. */
export const RECORDED_APPROVAL_MIN_REASON = 10;

/**
 * Approvals given outside Slack — the CLI's `--approved-by U…,U… --reason "…"`, for when
 * Slack is down during an incident — recorded as given by the named people. The operator who
 * typed them and the reason go to the event log (`approvals_recorded`) and the channel.
 */
export interface RecordedApprovals {
  /** Slack user IDs of the people who approved (each must be a listed approver, not the requester). */
  approvedBy: string[];
  /** Why they approved outside Slack (at least {@link RECORDED_APPROVAL_MIN_REASON} characters). */
  reason: string;
  /** Who typed the command: a Slack user ID, or `cli:<login>`. */
  operator: string;
  /** For a destructive plan: the service name, typed as each Slack approver types it in the confirmation modal. */
  confirmedAs?: string;
}

function refuse(message: WordsLike): never {
  throw new AppError({
    code: 'command_invalid',
    message: wordsPlain(message),
    userMessage: words`${message} Nothing was recorded.`,
  });
}

/**
 * Checks recorded approvals against the same rules as Slack's buttons before anything is
 * opened: a reason, distinct listed approvers who are not the requester, as many as the
 * plan's tier needs (runbook 003 "Mandatory pre-action checklist"; break glass: one), the
 * service name typed for a destructive plan, and no irreversible step.
 * @throws AppError `command_invalid` saying what to change
 */
export async function checkRecordedApprovals(
  deps: Pick<IncidentDeps, 'directory'>,
  service: ServiceConfig,
  plan: { plan: PlanStep[]; risk: Incident['risk']; breakGlass: BreakGlass | null },
  requestedBy: string,
  input: RecordedApprovals,
): Promise<void> {
  if (input.reason.trim().length < RECORDED_APPROVAL_MIN_REASON) {
    refuse(
      `--reason must say why the approvals were given outside Slack (at least ${RECORDED_APPROVAL_MIN_REASON} characters).`,
    );
  }
  const people = [...new Set(input.approvedBy)];
  for (const id of people) {
    if (!/^[UW][A-Z0-9]{2,}$/.test(id)) refuse(words`${code(id)} is not a Slack user ID (U… or W…).`);
    if (id === requestedBy)
      refuse(`${id} requested this rollback and cannot approve it (runbook 003: SRE + migration owner).`);
    if (!(await isApprover(deps.directory, service, id)))
      refuse(`${id} is not an approver of ${service.name} (services.yaml approvals.approvers).`);
  }
  const tier = await approvalTier({ kind: 'rollback', ...plan }, service);
  if (tier.unapprovable)
    refuse(
      `This plan cannot be approved: ${tier.unapprovable}. Restore from a snapshot instead (runbook 003, Option B).`,
    );
  if (people.length < tier.required) {
    refuse(
      `This plan needs ${tier.required} distinct approver(s)${tier.destructive ? ' (it is destructive)' : ''}${tier.breakGlass ? ' (break glass)' : ''}; --approved-by named ${people.length}.`,
    );
  }
  if (tier.destructive && input.confirmedAs?.trim() !== service.name) {
    refuse(
      `This plan is destructive: confirm with --confirm ${service.name}, as Slack approvers type it in the confirmation modal.`,
    );
  }
}

/**
 * Records {@link RecordedApprovals} on an incident waiting for approval, through the same
 * `approve` use case as the buttons (digest-bound; the last one queues the rollback).
 * @throws AppError `command_invalid` when an approval is refused (e.g. the plan was superseded)
 */
export async function recordApprovals(deps: IncidentDeps, incident: Incident, input: RecordedApprovals): Promise<void> {
  const people = [...new Set(input.approvedBy)];
  await deps.repo.log(incident.id, 'approvals_recorded', input.operator, {
    approvedBy: people,
    reason: input.reason.trim(),
    via: 'cli',
  });
  await deps.notifier.progress(incident, {
    kind: 'approvals_recorded',
    operator: input.operator,
    approvers: people,
    reason: input.reason,
  });
  for (const id of people) {
    const outcome = await approve(deps, incident.id, id, {
      ...(incident.basis ? { digest: incident.basis.digest } : {}),
      ...(input.confirmedAs !== undefined ? { confirmedAs: input.confirmedAs } : {}),
      recorded: { operator: input.operator, reason: input.reason.trim() },
    });
    if (outcome.kind === 'refused') refuse(outcome.message);
    if (outcome.kind === 'confirm') refuse(`This plan is destructive: confirm with --confirm ${outcome.service}.`);
  }
}
