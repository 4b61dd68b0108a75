import type { Incident } from '../model/incident.js';
import type { PageEvent, PageReason } from './paging.js';

/**
 * Calls to the company's paging and ticket providers, made through an outbox of their own (the
 * state database's `integration_calls`, delivered in order per incident by their own queue):
 * a call returns once stored; a provider that is slow, down or rate-limiting is retried
 * there (its `Retry-After` kept) and never blocks the incident or Slack's notices.
 * Adapter: `adapters/postgres/outbox-integrations.ts`; delivery: `surfaces/workers/deliver-integrations.ts`.
 * @throws only when the state database refuses the write
 */
export interface Integrations {
  /**
   * Stores a page event; `once` makes it happen once per incident however often it is asked
   * (e.g. `trigger:<dedup key>`); `reason` is what the channel is told when a trigger is accepted.
   */
  page(incident: Incident, event: PageEvent, once: string, reason: PageReason): Promise<void>;
  /** Files follow-up `followUpId` as a ticket: once per follow-up, or once more per `retry` (a new try after the tracker refused). */
  fileTicket(incident: Incident, followUpId: number, retry?: number): Promise<void>;
}

/** What an integration call stored in the outbox is. */
export type IntegrationMethod = 'page' | 'ticket';
