import { code, type Words, words } from '../../shared/words.js';
import type { StepTestedness } from './down-check-record.js';
import type { ComputedRevert, PlanStep } from './plan.js';
import type { SchemaDifference } from './schema-difference.js';

/**
 * What the bot learnt about a plan from the schemas themselves, before anyone approves it (Atlas's
 * "compute the revert from the database's actual state"): on a scratch database the target schema
 * is built with the service's own tool (migrate up through the migrations that stay), the plan's
 * downs are run from a fresh migrate up through every applied migration, and the live schema is
 * compared with both builds.
 */
export interface PlanSchemaCheck {
  /** ISO-8601 UTC. */
  checkedAt: string;
  /** The whole check, ms. */
  ms: number;
  /** The newest migration that stays applied (the target schema), or null when none does. */
  target: string | null;
  /**
   * The files' downs run on a fresh build: `restore_target` they reach the target schema; `differ`
   * they do not (`difference` from the target to what they left); `failed` one threw (`error`);
   * `not_run` a step has no down, or the build failed.
   */
  downs: {
    state: 'restore_target' | 'differ' | 'failed' | 'not_run';
    difference: SchemaDifference | null;
    error: string | null;
  };
  /**
   * The live schema against the builds: `applied` it equals a fresh migrate up through every
   * applied migration (as expected), `target` it already equals the target (a dirty or failed up
   * that changed nothing), `neither` (`fromApplied` and `fromTarget` say how).
   */
  live: {
    matches: 'applied' | 'target' | 'neither';
    fromApplied: SchemaDifference | null;
    fromTarget: SchemaDifference;
  };
  /**
   * The computed plan: the SQL from the live schema to the target (migra), as one plan step
   * (see {@link ComputedRevert}); null with `unexpressed` naming what the diff could not bring to
   * the target on a schema-only copy of the live database, or with `error`.
   */
  computed: { step: PlanStep | null; diffMs: number; unexpressed: string[]; error: string | null };
  /** Whether each down was tested by `migrate-bot check --record`, and on this very file. */
  tested: StepTestedness[];
  /** Set when the check could not run at all (no scratch database, the target build failed); the rest is empty then. */
  error: string | null;
}

/** A check that could not run, with why: the plan card says so and offers nothing computed. */
export function unrunSchemaCheck(
  base: Pick<PlanSchemaCheck, 'checkedAt' | 'target' | 'tested'> & { ms?: number },
  error: string,
): PlanSchemaCheck {
  return {
    ms: 0,
    ...base,
    downs: { state: 'not_run', difference: null, error: null },
    live: { matches: 'neither', fromApplied: null, fromTarget: { remaining: [], missing: [], changed: [] } },
    computed: { step: null, diffMs: 0, unexpressed: [], error: null },
    error,
  };
}

/** The migration name a computed step shows: `computed revert to 0002_x` (or `to an empty schema`). */
export function computedStepName(target: ComputedRevert['target']): string {
  return `computed revert to ${target ? target.name : 'an empty schema'}`;
}

/** Why the files' plan cannot serve and the computed plan is offered. */
export type ComputedPlanReason =
  | { kind: 'irreversible' | 'dirty' | 'modified'; migration: string }
  | { kind: 'downs_differ' | 'downs_fail' };

/**
 * Why the files' plan cannot serve and the computed plan is offered; null when the files' downs
 * are fine (or there is no computed plan to offer, or the plan already is the computed one). In
 * order: an irreversible step, a dirty (partially applied) version, a file changed since it was
 * applied, downs that do not reach the target schema or fail on a fresh build.
 */
export function computedPlanReason(
  plan: readonly PlanStep[],
  check: PlanSchemaCheck | null | undefined,
): ComputedPlanReason | null {
  if (!check?.computed.step || plan.some((s) => s.computed)) return null;
  const irreversible = plan.find((s) => s.irreversible);
  if (irreversible) return { kind: 'irreversible', migration: irreversible.migration };
  const dirty = plan.find((s) => s.dirty);
  if (dirty) return { kind: 'dirty', migration: dirty.migration };
  const modified = plan.find((s) => s.modified);
  if (modified) return { kind: 'modified', migration: modified.migration };
  if (check.downs.state === 'differ') return { kind: 'downs_differ' };
  if (check.downs.state === 'failed') return { kind: 'downs_fail' };
  return null;
}

/** A {@link ComputedPlanReason} in words: "`005_x` has no down", "the downs do not bring the schema to the target". */
export function computedPlanReasonWords(r: ComputedPlanReason): Words {
  switch (r.kind) {
    case 'irreversible':
      return words`${code(r.migration)} has no down`;
    case 'dirty':
      return words`${code(r.migration)} is partially applied (dirty)`;
    case 'modified':
      return words`the file of ${code(r.migration)} changed since it was applied`;
    case 'downs_differ':
      return words`the downs do not bring the schema to the target`;
    case 'downs_fail':
      return words`a down fails on a fresh build`;
  }
}
