import type { Incident } from '../model/incident.js';
import { recoveryDurations } from './lifecycle.js';

/** One service's line of `migrate-bot report`. Times in ms; null when no incident of the service recovered. */
export interface ServiceReport {
  service: string;
  incidents: number;
  rollbacks: number;
  restores: number;
  /** Incidents whose database recovered (last down committed, or the restore done). */
  recovered: number;
  medianTimeToRecoverMs: number | null;
  p90TimeToRecoverMs: number | null;
  medianTimeToApproveMs: number | null;
  /** Incidents by severity name (`none` for those without). */
  bySeverity: Record<string, number>;
  /** Failures by AppError code, e.g. `{ rollback_lock_timeout: 2 }`. */
  failures: Record<string, number>;
}

/**
 * The `p`-th percentile (0–100) of `values` by the nearest-rank method (the smallest value with at
 * least p% of the values at or below it); null for no values.
 */
export function percentile(values: readonly number[], p: number): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** The median by the usual definition (the mean of the two middle values for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Recovery figures per service for the incidents given (those opened in the report's window):
 * how many, rollbacks against restores, median and p90 time to recover (detected → database
 * recovered), median time to approve, counts by severity and failures by code. Services sorted by name.
 */
export function recoveryReport(incidents: readonly Incident[]): ServiceReport[] {
  const by = new Map<string, Incident[]>();
  for (const i of incidents) by.set(i.service, [...(by.get(i.service) ?? []), i]);
  return [...by.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([service, list]) => {
      const recover = list.flatMap((i) => {
        const d = recoveryDurations(i.milestones).timeToRecoverMs;
        return d === undefined ? [] : [d];
      });
      const approve = list.flatMap((i) => {
        const d = recoveryDurations(i.milestones).timeToApproveMs;
        return d === undefined ? [] : [d];
      });
      const count = (key: (i: Incident) => string | null): Record<string, number> => {
        const out: Record<string, number> = {};
        for (const i of list) {
          const k = key(i);
          if (k) out[k] = (out[k] ?? 0) + 1;
        }
        return out;
      };
      return {
        service,
        incidents: list.length,
        rollbacks: list.filter((i) => i.kind === 'rollback').length,
        restores: list.filter((i) => i.kind === 'restore').length,
        recovered: recover.length,
        medianTimeToRecoverMs: median(recover),
        p90TimeToRecoverMs: percentile(recover, 90),
        medianTimeToApproveMs: median(approve),
        bySeverity: count((i) => i.severity ?? 'none'),
        failures: count((i) => i.failure?.code ?? null),
      };
    });
}
