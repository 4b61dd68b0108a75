import { mayAct, requireAccess } from './access.js';
import type { WordsLike } from '../../../shared/words.js';
import type { ServiceConfig } from '../../../config/services.js';
import type { AppliedMigration } from '../../rollback/plan.js';
import { isAppError } from '../../../shared/errors.js';
import type { IncidentDeps } from '../ports/deps.js';
import type { Approval, Incident } from '../model/incident.js';
import { resolveService } from './resolve-service.js';
import { approvalTier, countedApprovals } from '../model/approval-tier.js';

/** Everything `/migrate status` shows about one service. */
export interface StatusView {
  service: ServiceConfig;
  incident: Incident | null;
  /** Approvals that count for the plan as it is (given for its digest). */
  approvals: Approval[];
  /** Approvals the plan needs (its tier: required, destructive or break glass). */
  required: number;
  /** Job states from the queue, e.g. `{ rollback: 'delayed' }`; `{ queue: 'unreachable' }` when Redis did not answer. */
  jobs: Record<string, string>;
  /** Newest tracking-table rows first (at most 5), or why they could not be read. */
  head: AppliedMigration[] | WordsLike;
  now: Date;
}

/**
 * `/migrate status`: the named service (or the only one) with its open incident, jobs,
 * approvals and tracking-table head; with several services and no `--service`, every open
 * incident. Reads only; a database or queue that does not answer is shown, not thrown.
 * @throws AppError `command_unknown_service`
 */
export async function incidentStatus(deps: IncidentDeps, serviceName: string | undefined): Promise<StatusView[]> {
  if (serviceName === undefined && deps.services.services.size > 1) {
    const open = await deps.repo.listOpen();
    // Resolved with warnings stays in view until acknowledged.
    const warned = (
      await Promise.all(
        [...deps.services.services.keys()].map((s) => deps.repo.latestByService(s, ['resolved_with_warnings'])),
      )
    ).filter((i): i is Incident => i !== null);
    return Promise.all(
      [...open, ...warned]
        .filter((i) => deps.services.services.has(i.service))
        .map((i) => viewOf(deps, deps.services.services.get(i.service)!, i)),
    );
  }
  const service = resolveService(deps.services, serviceName);
  return [
    await viewOf(
      deps,
      service,
      (await deps.repo.findOpenByService(service.name)) ??
        (await deps.repo.latestByService(service.name, ['resolved_with_warnings'])),
    ),
  ];
}

async function viewOf(deps: IncidentDeps, service: ServiceConfig, incident: Incident | null): Promise<StatusView> {
  const tool = deps.migrationTool(service);
  const [head, approvals, jobs] = await Promise.all([
    tool
      .listApplied()
      .then((rows) => rows.slice(-5).reverse())
      .catch((err: unknown) => (isAppError(err) ? (err.userMessage ?? err.code) : 'unavailable'))
      .finally(() => tool.close().catch(() => undefined)),
    incident ? deps.repo.listApprovals(incident.id) : Promise.resolve([]),
    incident
      ? deps.jobs.describe(incident).catch((): Record<string, string> => ({ queue: 'unreachable' }))
      : Promise.resolve({}),
  ]);
  const required = incident ? (await approvalTier(incident, service)).required : service.approvals.required;
  return {
    service,
    incident,
    approvals: incident ? countedApprovals(incident, approvals) : approvals,
    required,
    jobs,
    head,
    now: deps.clock.now(),
  };
}

/**
 * {@link incidentStatus} as `userId` may see it (services.yaml `access.readers`): a named service
 * the user may not read is refused; without a name, only the services they may read are shown,
 * and the answer is a refusal when that leaves none. `userId` is asked only when a service does
 * not let anyone read (the CLI's operator may be unset).
 * @throws AppError `command_unknown_service`, `access_refused`, or what `userId` throws
 */
export async function readableStatus(
  deps: IncidentDeps,
  serviceName: string | undefined,
  userId: () => string,
): Promise<StatusView[]> {
  const mayRead = async (service: ServiceConfig): Promise<boolean> =>
    service.access.readers === 'anyone' || (await mayAct(deps, service, userId(), 'read'));
  if (serviceName) {
    const service = resolveService(deps.services, serviceName);
    if (!(await mayRead(service))) await requireAccess(deps, service, userId(), 'read', 'status');
  }
  const all = await incidentStatus(deps, serviceName);
  const views: StatusView[] = [];
  for (const v of all) if (await mayRead(v.service)) views.push(v);
  if (!views.length && all[0]) await requireAccess(deps, all[0].service, userId(), 'read', 'status');
  return views;
}
