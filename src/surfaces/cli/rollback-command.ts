import { withoutArchive } from '../../domain/rollback/archive.js';
import { planDigest } from '../../domain/rollback/plan-digest.js';
import { formatBytes } from '../../domain/triage/safe-value.js';
import { requireAccess } from '../../domain/incident/use-cases/access.js';
import { resolveService } from '../../domain/incident/use-cases/resolve-service.js';
import type { IncidentDeps } from '../../domain/incident/ports/deps.js';
import { dryRunRollback } from '../../domain/incident/use-cases/describe-rollback.js';
import type { Incident } from '../../domain/incident/model/incident.js';
import { assertBreakGlassReason, openIncident } from '../../domain/incident/use-cases/open-incident.js';
import {
  checkRecordedApprovals,
  recordApprovals,
  type RecordedApprovals,
} from '../../domain/incident/use-cases/recorded-approvals.js';
import { AppError } from '../../shared/errors.js';
import type { Progress } from './progress.js';
import { watchIncident } from './watch-incident.js';

/** What `migrate-bot rollback` asks for. */
export interface CliRollback {
  service: string;
  migration: string;
  requestedBy: string;
  approvals: RecordedApprovals;
  breakGlass?: string;
  /** How long to follow the incident, ms. */
  timeoutMs: number;
}

const ENDED = new Set(['resolved', 'resolved_with_warnings', 'failed', 'cancelled']);

/**
 * `migrate-bot rollback`: the same incident as `/migrate rollback` (channel, triage, snapshot,
 * plan card, status updates, verification, resolution — visible in Slack when it answers),
 * with the approvals given by the named people recorded once the plan is ready. Everything a
 * refusal depends on (approvers, their number for the plan's tier, the destructive
 * confirmation, the break-glass reason) is checked on a dry run of the plan first, so a
 * refused command opens nothing.
 * @returns the incident once it ended (resolved, resolved with warnings, failed, cancelled)
 * @throws AppError `access_refused`, `command_*` (refused, nothing opened), `incident_already_open`, `cli_wait_timeout`
 */
export async function runCliRollback(deps: IncidentDeps, progress: Progress, req: CliRollback): Promise<Incident> {
  // Who may ask first: a refused operator sees no plan (the dry run reads the service database).
  const service = resolveService(deps.services, req.service);
  await requireAccess(deps, service, req.requestedBy, 'request', 'rollback');
  if (req.breakGlass !== undefined) {
    await requireAccess(deps, service, req.requestedBy, 'break_glass', 'rollback --break-glass');
    assertBreakGlassReason(req.breakGlass);
  }
  progress.status('planning (dry run)');
  const dry = await dryRunRollback(deps, req.service, req.migration);
  const breakGlass =
    req.breakGlass !== undefined ? { by: req.requestedBy, reason: req.breakGlass, at: new Date().toISOString() } : null;
  await checkRecordedApprovals(
    deps,
    dry.service,
    { plan: dry.plan, risk: dry.risk, breakGlass },
    req.requestedBy,
    req.approvals,
  );

  const opened = await openIncident(deps, {
    service: req.service,
    migration: req.migration,
    requestedBy: req.requestedBy,
    ...(req.breakGlass !== undefined ? { breakGlass: req.breakGlass } : {}),
  });
  progress.line(
    `Incident ${opened.id} opened: rollback of ${opened.migration} on ${opened.service} (${opened.plan.length} step(s)).`,
  );
  const ready = await watchIncident(
    deps,
    opened.id,
    progress,
    (i) => i.state === 'awaiting_approval' || ENDED.has(i.state),
    { timeoutMs: req.timeoutMs },
  );
  if (ready.incident.state !== 'awaiting_approval') return ready.incident;
  // The prepare job adds the archive copies to the steps: the steps themselves must not have moved.
  const steps = (i: typeof opened) =>
    i.basis ? planDigest(withoutArchive(i.plan), i.basis.head, i.basis.snapshotId) : null;
  if (steps(ready.incident) !== steps(opened)) {
    throw new AppError({
      code: 'command_invalid',
      message: 'plan changed',
      userMessage:
        'The plan changed between the dry run and the incident (files or tracking table moved). Nothing was approved; run the command again to see the new plan.',
    });
  }
  for (const copy of ready.incident.plan.flatMap((s) => s.archive ?? []))
    progress.line(
      `Archive before destroy: ${copy.object} → ${copy.schema}.${copy.table} (est. ${formatBytes(copy.estimatedBytes)}).`,
    );
  await recordApprovals(deps, ready.incident, req.approvals);
  const done = await watchIncident(deps, opened.id, progress, (i) => ENDED.has(i.state), {
    timeoutMs: req.timeoutMs,
    seen: ready.seen,
  });
  return done.incident;
}
