import type pg from 'pg';
import { PostgresOutbox } from '../adapters/postgres/postgres-outbox.js';
import { OutboxIntegrations } from '../adapters/postgres/outbox-integrations.js';
import { PostgresProcessRepository } from '../adapters/postgres/postgres-process-repository.js';
import { createPager } from '../adapters/paging/pager-registry.js';
import { createTracker } from '../adapters/followups/tracker-registry.js';
import type { IncidentRepository } from '../domain/incident/ports/incident-repository.js';
import type { IntegrationMethod } from '../domain/incident/ports/integrations.js';
import type { ProcessRepository } from '../domain/incident/ports/process-repository.js';
import { AppError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Metrics } from '../surfaces/ops/metrics.js';
import type { IntegrationDelivery } from '../surfaces/workers/deliver-integrations.js';
import type { IncidentJobs } from '../domain/incident/ports/job-queue.js';
import type { IncidentDeps } from '../domain/incident/ports/deps.js';

/**
 * A Slack channel's web link that needs no API call and no workspace URL (Slack "Deep linking
 * into Slack": `https://slack.com/app_redirect?channel=<id>`).
 */
export const slackChannelUrl = (channelId: string): string =>
  `https://slack.com/app_redirect?channel=${encodeURIComponent(channelId)}`;

/**
 * The process repository with time to approve and time to recover observed into the metrics
 * the moment each is first recorded (so each incident counts once, in the process that recorded it).
 */
function observedMilestones(process: ProcessRepository, repo: IncidentRepository, metrics: Metrics): ProcessRepository {
  const mark = process.markMilestone.bind(process);
  process.markMilestone = async (id, milestone, at) => {
    const set = await mark(id, milestone, at);
    if (set && (milestone === 'approved' || milestone === 'recovered')) {
      const incident = await repo.get(id);
      const from = incident?.milestones.detected
        ? Date.parse(incident.milestones.detected)
        : incident?.createdAt.getTime();
      if (incident && from !== undefined) {
        const labels = { service: incident.service, severity: incident.severity ?? 'none' };
        const seconds = Math.max(0, (at.getTime() - from) / 1000);
        (milestone === 'approved' ? metrics.timeToApprove : metrics.timeToRecover).observe(labels, seconds);
      }
    }
    return set;
  };
  return process;
}

/** The incident process's adapters on the state database: its repository, the integration outbox and its port. */
export function processAdapters(
  pool: pg.Pool,
  lockPool: pg.Pool,
  repo: IncidentRepository,
  jobs: IncidentJobs,
  metrics: Metrics,
  logger: Logger,
) {
  const process = observedMilestones(new PostgresProcessRepository(pool), repo, metrics);
  const outbox = new PostgresOutbox<IntegrationMethod>(pool, lockPool, 'integration_calls');
  const integrations = new OutboxIntegrations(outbox, (id, callId) => jobs.integrations(id, callId), logger);
  return { process, outbox, integrations };
}

/** What the integrations worker needs, from the built ports. */
export function integrationDelivery(
  outbox: PostgresOutbox<IntegrationMethod>,
  deps: IncidentDeps,
): IntegrationDelivery {
  const missing = (what: string, service: string) =>
    new AppError({ code: 'config_services_invalid', message: `${service} has no ${what} configured` });
  return {
    outbox,
    deps,
    pager: (service) => {
      if (!service.process.paging) throw missing('paging', service.name);
      return createPager(service.process.paging);
    },
    tracker: (service) => {
      if (!service.process.followups) throw missing('followups', service.name);
      return createTracker(service.process.followups);
    },
    conversationUrl: slackChannelUrl,
  };
}
