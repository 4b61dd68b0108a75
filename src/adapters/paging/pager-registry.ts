import type { ServicePaging } from '../../config/process-config.js';
import type { Pager } from '../../domain/incident/ports/paging.js';
import { PagerDutyPager } from './pagerduty.js';

/**
 * The paging providers by services.yaml's `paging.provider` (one entry and one adapter file each),
 * as the migration tools and snapshot providers have their registries.
 */
const PAGERS: { [P in ServicePaging['provider']]: (config: Extract<ServicePaging, { provider: P }>) => Pager } = {
  pagerduty: (config) => new PagerDutyPager(config),
};

/** The pager of a service's paging configuration. */
export function createPager(config: ServicePaging): Pager {
  return PAGERS[config.provider](config);
}
