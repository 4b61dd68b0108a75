import type { SeverityLevel } from '../../../config/process-config.js';
import type { ServiceConfig } from '../../../config/services.js';
import { AppError } from '../../../shared/errors.js';
import { code, joinWords, words } from '../../../shared/words.js';

/**
 * Finds the severity a person typed: its name in any case (`sev2`, `SEV2`, `P1`), or its level as a
 * number (`2` is the second of the list, worst first — incident.io's and PagerDuty's convention).
 * @throws AppError `command_invalid` naming the severities there are; nothing was changed
 */
export function parseSeverity(typed: string, severities: readonly SeverityLevel[]): SeverityLevel {
  const t = typed.trim();
  const byLevel = /^\d{1,2}$/.test(t) ? severities[Number(t) - 1] : undefined;
  const found = byLevel ?? severities.find((s) => s.name.toLowerCase() === t.toLowerCase());
  if (found) return found;
  throw new AppError({
    code: 'command_invalid',
    message: `unknown severity ${t}`,
    userMessage: words`${code(t.slice(0, 20))} is not a severity here. Choose one of ${joinWords(
      severities.map((s, i) => words`${code(s.name)} (${String(i + 1)}, ${s.description})`),
      '; ',
    )}. Nothing was changed.`,
  });
}

/** The level of a severity, 1 for the worst; 0 when the name is not configured (an incident from before a rename). */
export function severityLevel(name: string | null, severities: readonly SeverityLevel[]): number {
  return name ? severities.findIndex((s) => s.name === name) + 1 : 0;
}

/** The configured level of `name`, or undefined. */
export function severityOf(name: string | null, severities: readonly SeverityLevel[]): SeverityLevel | undefined {
  return name ? severities.find((s) => s.name === name) : undefined;
}

/**
 * Minutes between status updates for an incident at `severity` (runbook 003: every 15–30
 * minutes): the severity's own `status_update_minutes` when it sets one, else the service's.
 */
export function statusUpdateMinutes(
  service: Pick<ServiceConfig, 'status_update_minutes' | 'process'>,
  severity: string | null,
): number {
  return severityOf(severity, service.process.severities)?.status_update_minutes ?? service.status_update_minutes;
}

/** True when an incident at `severity` pages on open (the level's `page: true`) and the service has paging. */
export function pagesOnOpen(service: Pick<ServiceConfig, 'process'>, severity: string | null): boolean {
  return Boolean(service.process.paging && severityOf(severity, service.process.severities)?.page);
}

/** True for the two worst levels (SEV1/SEV2 by default): they need a comms lead (reminded after 10 minutes). */
export function isHighSeverity(severity: string | null, severities: readonly SeverityLevel[]): boolean {
  const level = severityLevel(severity, severities);
  return level > 0 && level <= 2;
}
