/**
 * An incident's lifecycle times (incident.io's and Rootly's "incident timestamps"), each an
 * ISO-8601 UTC string, set once when it first happens. `detected` is when the command opened
 * the incident; `impactStarted` is given by people (`--impact-started`) or defaults to when the
 * migration being rolled back was applied; `recovered` is the commit of the last down migration.
 */
export interface Milestones {
  impactStarted?: string;
  detected?: string;
  snapshotReady?: string;
  approved?: string;
  rollbackStarted?: string;
  recovered?: string;
  verified?: string;
  resolved?: string;
}

/** A milestone's key. */
export type Milestone = keyof Milestones;

/** The durations people ask about after an incident, ms; absent when a bound is missing. */
export interface RecoveryDurations {
  /** detected → approved: how long the plan waited for people. */
  timeToApproveMs?: number;
  /** detected → recovered: the database back on the old schema. */
  timeToRecoverMs?: number;
  /** impact started → recovered (or resolved when nothing ran): the customers' view. */
  impactMs?: number;
}

const span = (from?: string, to?: string): number | undefined =>
  from && to ? Math.max(0, Date.parse(to) - Date.parse(from)) : undefined;

/** Time to approve, to recover, and total impact from the milestones (ms). */
export function recoveryDurations(m: Milestones): RecoveryDurations {
  const out: RecoveryDurations = {};
  const approve = span(m.detected, m.approved);
  const recover = span(m.detected, m.recovered);
  const impact = span(m.impactStarted ?? m.detected, m.recovered ?? m.resolved);
  if (approve !== undefined) out.timeToApproveMs = approve;
  if (recover !== undefined) out.timeToRecoverMs = recover;
  if (impact !== undefined) out.impactMs = impact;
  return out;
}

/** Compact duration for summaries and tables: `45 s`, `12 min`, `2 h 05 min`. */
export function shortDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
}

/** The milestones in the order they happen, with the words the summary and the postmortem use. */
export const MILESTONE_WORDS: ReadonlyArray<[Milestone, string]> = [
  ['impactStarted', 'impact started'],
  ['detected', 'detected (incident opened)'],
  ['snapshotReady', 'snapshot ready'],
  ['approved', 'approved'],
  ['rollbackStarted', 'rollback started'],
  ['recovered', 'database recovered (last down committed)'],
  ['verified', 'verified'],
  ['resolved', 'resolved'],
];
