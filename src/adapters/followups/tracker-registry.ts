import type { ServiceFollowups } from '../../config/process-config.js';
import type { TicketTracker } from '../../domain/incident/ports/ticket-tracker.js';
import { JiraTracker } from './jira.js';
import { LinearTracker } from './linear.js';

/** The ticket trackers by services.yaml's `followups.provider` (one entry and one adapter file each). */
const TRACKERS: {
  [P in ServiceFollowups['provider']]: (config: Extract<ServiceFollowups, { provider: P }>) => TicketTracker;
} = {
  jira: (config) => new JiraTracker(config),
  linear: (config) => new LinearTracker(config),
};

/** The tracker of a service's follow-up configuration. */
export function createTracker(config: ServiceFollowups): TicketTracker {
  return (TRACKERS[config.provider] as (c: ServiceFollowups) => TicketTracker)(config);
}
