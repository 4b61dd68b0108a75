import type { PlanStep } from './plan.js';
import type { OptionFacts } from './option-facts.js';
import type { PlanRisk } from './risk-model.js';

export type { OptionFacts, TableWritesSince, WritesSince } from './option-facts.js';

/**
 * The three ways out of a bad migration, side by side on the plan card (runbook 003 "Option A:
 * down migrations", "Option B: restore from backup", and fixing forward with a new migration):
 * what each loses, how long it takes and what it locks, so the on-call engineer can choose in
 * seconds.
 */

/**
 * One option's row: what it loses, how long it takes, what it locks — short words for a narrow
 * monospace table (the card's context line gives the details).
 */
export interface OptionRow {
  option: string;
  lost: string;
  time: string;
  locks: string;
}

const n = (x: number) => x.toLocaleString('en-US');
/** A rough duration for the table: `~3 s`, `~12 min`. */
const about = (ms: number) =>
  ms < 60_000 ? `~${Math.max(1, Math.round(ms / 1000))} s` : `~${Math.round(ms / 60_000)} min`;
/** `HH:MM UTC` of an ISO-8601 time. */
export const hhmm = (iso: string) => `${iso.slice(11, 16)} UTC`;

/** The rollback's row: data lost after the archive, the rehearsal's time (×1.5) or a minute per down, the tables it locks. */
function rollbackRow(
  risk: PlanRisk,
  plan: readonly PlanStep[],
  rehearsalMs: number | null,
  lockTimeout: string,
): OptionRow {
  let lost = 0;
  let archived = 0;
  const locked = new Set<string>();
  for (const s of risk.steps)
    for (const f of s.findings) {
      if (f.source !== 'down') continue;
      if ((f.class === 'data_loss' || f.class === 'blocking') && f.target)
        locked.add(f.target.schema ? `${f.target.schema}.${f.target.name}` : f.target.name);
      if (f.class !== 'data_loss' || f.earlier || f.figure?.absent) continue;
      const count = f.figure?.count ?? 0;
      if (f.archived && 'table' in f.archived) archived += count;
      else lost += count;
    }
  const lostWords =
    lost > 0
      ? `~${n(lost)} rows/values${archived ? ` (${n(archived)} archived)` : ''}`
      : archived
        ? `none (${n(archived)} archived)`
        : 'none';
  const time = rehearsalMs !== null ? `${about(rehearsalMs * 1.5)} (rehearsal)` : `~${plan.length} min (estimate)`;
  const locks = locked.size
    ? `ACCESS EXCLUSIVE, ${locked.size} table${locked.size === 1 ? '' : 's'}`
    : `its own, ≤ ${lockTimeout} wait`;
  return { option: 'roll back', lost: lostWords, time, locks };
}

/** The restore's row: rows written to the affected tables since the snapshot (`~` when any is counted by statistics), the service's restore times. */
function restoreRow(facts: OptionFacts): OptionRow {
  const w = facts.writes;
  let lost: string;
  if (!w) lost = 'all writes since (no snapshot sampled)';
  else {
    const rows = w.tables.reduce((sum, t) => sum + t.rows, 0);
    const estimated = w.tables.some((t) => t.how === 'statistics');
    lost = `${estimated ? '~' : ''}${n(rows)} rows since ${hhmm(w.takenAt)}`;
  }
  const time = facts.restores
    ? `${about(facts.restores.medianMs)} (${facts.restores.count} restore${facts.restores.count === 1 ? '' : 's'})`
    : 'unknown (no restore yet)';
  return { option: 'restore snapshot', lost, time, locks: 'none; cut-over needed' };
}

/**
 * The comparison's three rows (pure): roll back, restore the snapshot to a new instance, fix
 * forward. The rollback's time comes from a passed rehearsal of this plan when one ran (×1.5 for
 * production's load, as the initial notice's ETA), else a minute per down migration.
 */
export function optionRows(
  risk: PlanRisk,
  plan: readonly PlanStep[],
  facts: OptionFacts,
  rehearsalMs: number | null,
  lockTimeout: string,
): OptionRow[] {
  return [
    rollbackRow(risk, plan, rehearsalMs, lockTimeout),
    restoreRow(facts),
    {
      option: 'fix forward',
      lost: 'none',
      time: 'a new migration',
      locks: 'its own',
    },
  ];
}

/** The median of `values` (ms), or null when empty. */
export function median(values: readonly number[]): number | null {
  if (!values.length) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
