import type { ServicePaging } from '../../config/process-config.js';
import type { PageEvent, Pager } from '../../domain/incident/ports/paging.js';
import { postJson, providerError } from '../http/provider-http.js';

type PagerDutyConfig = Extract<ServicePaging, { provider: 'pagerduty' }>;

/**
 * Pager on PagerDuty's Events API v2 (developer.pagerduty.com "Events API v2 Overview",
 * "Send an Alert Event"): `POST /v2/enqueue` with the service integration's `routing_key`.
 * 202 is accepted; 400 (invalid event or routing key) is final; 429 and 5xx are retried by the
 * integration outbox ("Events API v2 rate limits": back off and retry).
 */
export class PagerDutyPager implements Pager {
  readonly name = 'PagerDuty';
  constructor(private readonly config: PagerDutyConfig) {}

  async send(event: PageEvent): Promise<{ dedupKey: string }> {
    const body =
      event.action === 'trigger'
        ? {
            routing_key: this.config.routing_key,
            event_action: 'trigger',
            dedup_key: event.dedupKey,
            payload: {
              summary: event.summary.slice(0, 1024),
              source: event.source,
              severity: event.severity,
              component: 'database-migrations',
              group: event.source,
              class: 'migration-rollback',
              custom_details: event.details,
            },
            links: event.links,
            client: 'migrate-bot',
            ...(event.links[0] ? { client_url: event.links[0].href } : {}),
          }
        : { routing_key: this.config.routing_key, event_action: event.action, dedup_key: event.dedupKey };
    const answer = await postJson(this.config.events_url, body, {}, 'page', this.name);
    if (answer.status === 202 || answer.status === 200) {
      const key = (answer.body as { dedup_key?: string } | null)?.dedup_key;
      return { dedupKey: typeof key === 'string' ? key : event.dedupKey };
    }
    const b = answer.body as { message?: string; errors?: string[] } | string | null;
    const said =
      typeof b === 'string'
        ? b
        : [b?.message, ...(Array.isArray(b?.errors) ? b.errors : [])].filter(Boolean).join(': ') || 'no details';
    throw providerError('page', this.name, answer, said);
  }
}
