import type { TicketRef } from '../process/followup.js';

/** A ticket to file for a follow-up: a title, a plain-text description (lines), labels. */
export interface NewTicket {
  /** At most 255 characters (Jira's summary limit). */
  title: string;
  /** Paragraphs of plain text; the adapter converts them to the tracker's format (Jira ADF, Linear Markdown). */
  description: string[];
  labels: string[];
  /** A private incident: the adapter marks the ticket confidential where the tracker supports it. */
  confidential: boolean;
}

/**
 * The follow-up ticket port: one adapter per tracker (`adapters/followups/`), chosen by the
 * tracker registry from services.yaml's `followups.provider`.
 * @throws AppError `ticket_refused` (the tracker said no for good: unknown project, bad field,
 *   bad token; `details.providerError` quotes it) or `ticket_unavailable` (retryable;
 *   `details.retryAfterSec` when the tracker sent Retry-After)
 */
export interface TicketTracker {
  /** The tracker's name for messages (`Jira`, `Linear`). */
  readonly name: string;
  create(ticket: NewTicket): Promise<TicketRef>;
}
