/**
 * One event for the paging provider, in the shape of PagerDuty's Events API v2
 * (developer.pagerduty.com "Send an Alert Event"): `trigger` opens (or adds to) the alert named
 * by `dedupKey`, `acknowledge` and `resolve` act on it. Texts are plain (the provider shows
 * them as they are).
 */
export interface PageEvent {
  action: 'trigger' | 'acknowledge' | 'resolve';
  /** One alert per incident (`<incident id>`), and one for waiting approvals (`<incident id>-approvals`). */
  dedupKey: string;
  /** What the person paged reads first, at most 1,024 characters. */
  summary: string;
  /** PagerDuty's event severity: SEV1 → critical, SEV2 → error, SEV3 → warning, else info. */
  severity: 'critical' | 'error' | 'warning' | 'info';
  /** The service the incident is on. */
  source: string;
  /** The incident channel's link, and others (the runbook). */
  links: Array<{ href: string; text: string }>;
  /** Shown with the alert: incident id, migration, plan digest, severity, commander. */
  details: Record<string, string>;
}

/** Why the on-call is paged: the incident opened at a paging severity, was raised to one, or its plan waits for approvals. */
export type PageReason = 'opened' | 'severity' | 'approvals';

/**
 * The paging port: one adapter per provider (`adapters/paging/`), chosen by the paging registry
 * from services.yaml's `paging.provider`.
 * @throws AppError `page_refused` (the provider said no for good: bad routing key, invalid
 *   event; not retried) or `page_unavailable` (retryable; `details.retryAfterSec` when the
 *   provider sent Retry-After)
 */
export interface Pager {
  /** The provider's name for messages (`PagerDuty`). */
  readonly name: string;
  send(event: PageEvent): Promise<{ dedupKey: string }>;
}
