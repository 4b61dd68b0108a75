import { strong, words } from '../../../shared/words.js';
import { AppError, isAppError } from '../../../shared/errors.js';
import type { IncidentDeps } from '../ports/deps.js';
import { resolveService } from './resolve-service.js';
import { verifyRollback } from './verify-rollback.js';
import type { VerificationReport } from '../../verify/verification.js';

/**
 * `/migrate verify [--service NAME]` (runbook 001 `--postflight`): the checks that follow every
 * rollback, any time, read-only — against the plan of the service's newest incident, or the
 * generic ones (tracking table, smoke queries, health URLs) when it never had one. The report
 * is posted in that incident's channel when it has one (through the outbox) and returned.
 * @throws AppError `command_unknown_service`, `service_db_unreachable`
 */
export async function verifyService(
  deps: IncidentDeps,
  serviceName: string | undefined,
): Promise<{ report: VerificationReport; posted: string | null }> {
  const service = resolveService(deps.services, serviceName);
  const incident = await deps.repo.latestByService(service.name);
  // Only what ran: a resolved plan whole, the steps a failed one completed, nothing of a plan still waiting.
  const done = new Set(incident?.steps.filter((s) => s.status === 'done').map((s) => s.migration) ?? []);
  const plan =
    incident?.kind !== 'rollback'
      ? []
      : incident.state === 'resolved' || incident.state === 'resolved_with_warnings'
        ? incident.plan
        : incident.plan.filter((s) => done.has(s.migration));
  const tool = deps.migrationTool(service);
  let report: VerificationReport;
  try {
    report = await verifyRollback(deps, service, tool, plan);
  } catch (err) {
    if (isAppError(err)) throw err;
    throw new AppError({
      code: 'verify_failed',
      message: (err as Error).message,
      cause: err,
      userMessage: words`Verification of ${strong(service.name)} could not run. The bot logs have the details.`,
    });
  } finally {
    await tool.close().catch(() => undefined);
  }
  if (incident?.conversation?.id) {
    await deps.repo.log(incident.id, 'verified', 'migrate-bot', {
      passed: report.passed,
      checks: report.checks.map((c) => ({ name: c.name, status: c.status })),
    });
    await deps.notifier.verification(incident, report);
  }
  return { report, posted: incident?.conversation?.id ?? null };
}
