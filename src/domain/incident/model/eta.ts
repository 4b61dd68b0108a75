import type { Incident } from './incident.js';
import type { RehearsalResult } from './rehearsal-policy.js';

/** How long the down migrations should take, and what the figure rests on. */
export interface RollbackEta {
  /** Whole minutes, at least 1. */
  minutes: number;
  /** `rehearsal`: the downs' time on a restored copy (×1.5 for production's load); `steps`: a minute per down migration. */
  basis: 'rehearsal' | 'steps';
  /** The rehearsal's time for the downs alone, ms (basis `rehearsal`). */
  rehearsalMs?: number;
}

/**
 * The ETA of the runbook's initial notice ("ETA: ~<X> minutes", runbook 003 "Communication &
 * coordination"), posted when the rollback starts: from a passed rehearsal of this very plan
 * when one ran (its downs' time × 1.5), else a minute per down migration. Verification adds
 * seconds, not minutes, so it is not counted.
 */
export function rollbackEta(
  incident: Pick<Incident, 'plan' | 'basis'>,
  rehearsal: RehearsalResult | null,
): RollbackEta {
  if (rehearsal?.passed && incident.basis && rehearsal.digest === incident.basis.digest) {
    const ms = rehearsal.steps.reduce((sum, s) => sum + (s.durationMs ?? 0), 0);
    return { minutes: Math.max(1, Math.ceil((ms * 1.5) / 60_000)), basis: 'rehearsal', rehearsalMs: ms };
  }
  return { minutes: Math.max(1, incident.plan.length), basis: 'steps' };
}
