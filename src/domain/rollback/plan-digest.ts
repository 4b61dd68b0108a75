import { createHash } from 'node:crypto';
import type { AppliedMigration, PlanStep } from './plan.js';

/** The tracking table's newest row when the plan was made. */
export interface TrackingHead {
  name: string;
  order: number;
}

/**
 * What approvals are bound to: the plan digest and what went into it besides the steps.
 * Recorded when the plan is made and with every approval; the rollback job recomputes it
 * before the first statement, and any difference voids the approvals.
 */
export interface PlanBasis {
  /** sha256 (hex) from {@link planDigest}. */
  digest: string;
  head: TrackingHead | null;
  /** The snapshot the plan runs after: the id the bot gives its snapshot, or `none` when waived. */
  snapshotId: string;
}

/** The newest row of a tracking table (highest {@link AppliedMigration.order}), or null when empty. */
export function trackingHead(applied: readonly AppliedMigration[]): TrackingHead | null {
  const newest = applied.reduce<AppliedMigration | null>((a, m) => (a === null || m.order > a.order ? m : a), null);
  return newest ? { name: newest.name, order: newest.order } : null;
}

/**
 * sha256 (hex) over the ordered steps — name, tracking order, captured SQL, file checksum,
 * transaction setting, irreversibility, what a computed step reverts, the archive copies, how an unarchive step meets conflicts — the tracking-table head and the snapshot id, as
 * canonical JSON. Equal plans give equal digests on any machine.
 */
export function planDigest(plan: readonly PlanStep[], head: TrackingHead | null, snapshotId: string): string {
  const canonical = JSON.stringify({
    steps: plan.map((s) => [
      s.migration,
      s.order,
      s.sql,
      s.checksum ?? null,
      s.transactional,
      s.irreversible ?? null,
      ...(s.computed ? [s.computed] : []),
      ...(s.archive ? [s.archive.map((a) => [a.schema, a.table, a.sql])] : []),
      ...(s.unarchive ? [[s.unarchive.onConflict, s.unarchive.key, s.unarchive.columns]] : []),
    ]),
    head: head ? [head.name, head.order] : null,
    snapshot: snapshotId,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** Builds the {@link PlanBasis} of a plan. */
export function planBasis(plan: readonly PlanStep[], head: TrackingHead | null, snapshotId: string): PlanBasis {
  return { digest: planDigest(plan, head, snapshotId), head, snapshotId };
}

/** The first 12 hex digits of a digest, as buttons and messages show it. */
export const shortDigest = (digest: string): string => digest.slice(0, 12);

/**
 * What differs between the approved plan and the plan as it is now, in words for the
 * channel: steps added or gone, a migration file edited, the SQL changed, the tracking
 * table moved, another snapshot. Empty when the digests are equal.
 */
export function planChanges(
  before: { plan: readonly PlanStep[]; basis: PlanBasis },
  after: { plan: readonly PlanStep[]; basis: PlanBasis },
): string[] {
  if (before.basis.digest === after.basis.digest) return [];
  const changes: string[] = [];
  const was = new Map(before.plan.map((s) => [s.migration, s]));
  const now = new Map(after.plan.map((s) => [s.migration, s]));
  for (const s of after.plan) if (!was.has(s.migration)) changes.push(`\`${s.migration}\` is now part of the plan`);
  for (const s of before.plan)
    if (!now.has(s.migration)) changes.push(`\`${s.migration}\` is no longer applied, so it left the plan`);
  for (const s of after.plan) {
    const old = was.get(s.migration);
    if (!old) continue;
    if ((old.checksum ?? null) !== (s.checksum ?? null)) changes.push(`the file of \`${s.migration}\` was edited`);
    else if (JSON.stringify(old.sql) !== JSON.stringify(s.sql))
      changes.push(`the SQL of \`${s.migration}\`'s down changed`);
    if (old.transactional !== s.transactional)
      changes.push(`\`${s.migration}\` now runs ${s.transactional ? 'in' : 'outside'} a transaction`);
    if ((old.irreversible ?? null) !== (s.irreversible ?? null))
      changes.push(s.irreversible ? `\`${s.migration}\` became irreversible` : `\`${s.migration}\` has a down now`);
  }
  const h = (x: TrackingHead | null): string => (x ? `\`${x.name}\`` : '(empty)');
  if (JSON.stringify(before.basis.head) !== JSON.stringify(after.basis.head))
    changes.push(`the tracking table's newest row moved from ${h(before.basis.head)} to ${h(after.basis.head)}`);
  if (before.basis.snapshotId !== after.basis.snapshotId)
    changes.push(`the snapshot is now \`${after.basis.snapshotId}\`, not \`${before.basis.snapshotId}\``);
  if (!changes.length) changes.push('the plan differs from the approved one');
  return changes;
}
