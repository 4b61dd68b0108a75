import { code, joinWords, type Words, words } from '../../shared/words.js';
import type { StepTestedness } from './down-check-record.js';
import type { PlanStep } from './plan.js';
import { computedPlanReason, computedPlanReasonWords, type PlanSchemaCheck } from './plan-schema-check.js';
import { isSameSchema, type SchemaDifference } from './schema-difference.js';

/** One line of the plan's schema check for people: how it reads (good, bad, a warning, plain information) and its words. */
export interface SchemaCheckLine {
  tone: 'ok' | 'bad' | 'warn' | 'info';
  words: Words;
}

/** At most this many objects are named in one line; the rest are counted. */
const MAX_OBJECTS = 4;

/** "`table public.audit_log` would remain; `index x on public.t` would be missing" (at most {@link MAX_OBJECTS}). */
export function differenceWords(d: SchemaDifference): Words {
  const parts = [
    ...d.remaining.map((o) => words`${code(o)} would remain`),
    ...d.missing.map((o) => words`${code(o)} would be missing`),
    ...d.changed.map((o) => words`${code(o)} would differ`),
  ];
  const shown = joinWords(parts.slice(0, MAX_OBJECTS), '; ');
  return parts.length > MAX_OBJECTS ? words`${shown}; and ${String(parts.length - MAX_OBJECTS)} more` : shown;
}

/** "found `table public.legacy`; lacks `column public.t.c`" — how a schema differs from a build. */
function driftWords(d: SchemaDifference): Words {
  const parts = [
    ...d.remaining.map((o) => words`has ${code(o)}`),
    ...d.missing.map((o) => words`lacks ${code(o)}`),
    ...d.changed.map((o) => words`has another ${code(o)}`),
  ];
  const shown = joinWords(parts.slice(0, MAX_OBJECTS), '; ');
  return parts.length > MAX_OBJECTS ? words`${shown}; and ${String(parts.length - MAX_OBJECTS)} more` : shown;
}

const dateOf = (iso: string) => iso.slice(0, 10);

/** "down of `007` tested in CI on 2026-12-01 (file unchanged since)", or untested, failed, changed since. */
export function testednessWords(t: StepTestedness): SchemaCheckLine {
  switch (t.state) {
    case 'passed':
      return {
        tone: 'ok',
        words: words`down of ${code(t.migration)} tested by migrate-bot check on ${dateOf(t.checkedAt!)} (file unchanged since)`,
      };
    case 'failed':
      return {
        tone: 'bad',
        words: words`down of ${code(t.migration)} FAILED migrate-bot check on ${dateOf(t.checkedAt!)}`,
      };
    case 'changed':
      return {
        tone: 'warn',
        words: words`down of ${code(t.migration)} checked on ${dateOf(t.checkedAt!)}, but its file changed since: untested as it is`,
      };
    case 'untested':
      return { tone: 'info', words: words`down of ${code(t.migration)} never tested by migrate-bot check` };
  }
}

/**
 * The plan's schema check as lines for the plan card and the CLI: whether the downs bring the
 * schema to the target (or what they leave), a dirty version's evidence (which build the live
 * schema matches), drift of the live schema, the computed plan (offered, or why not), and whether
 * each down was tested before the incident. Pure.
 */
export function schemaCheckLines(plan: readonly PlanStep[], check: PlanSchemaCheck): SchemaCheckLine[] {
  const lines: SchemaCheckLine[] = [];
  const target = check.target ? code(check.target) : 'an empty schema';
  if (check.error)
    return [{ tone: 'warn', words: words`The plan could not be checked against the schemas: ${check.error}` }];
  const computedPlan = plan.some((s) => s.computed);
  if (computedPlan)
    lines.push({
      tone: 'info',
      words: words`Computed plan: migra's SQL from the live schema to ${target}, proved on a schema-only copy of the live database; verification compares the schema with a fresh build of ${target}.`,
    });
  else if (check.downs.state === 'restore_target')
    lines.push({
      tone: 'ok',
      words: words`The downs bring the schema to the target (${target}), tried on a fresh build in ${String((check.ms / 1000).toFixed(1))} s.`,
    });
  else if (check.downs.state === 'differ')
    lines.push({
      tone: 'bad',
      words: words`After the downs, ${differenceWords(check.downs.difference!)} (a down does not undo what its up did).`,
    });
  else if (check.downs.state === 'failed')
    lines.push({ tone: 'bad', words: words`A down fails on a fresh build: ${check.downs.error ?? 'unknown error'}.` });
  else if (check.downs.error)
    lines.push({ tone: 'warn', words: words`The downs were not tried: ${check.downs.error}.` });

  const dirty = plan.find((s) => s.dirty);
  if (dirty) {
    const n = code(dirty.migration);
    lines.push(
      check.live.matches === 'target'
        ? {
            tone: 'info',
            words: words`${n} is dirty, and the live schema matches the build before it (${target}): forcing the version back is a tracking-table change only.`,
          }
        : check.live.matches === 'applied'
          ? {
              tone: 'info',
              words: words`${n} is dirty, but the live schema matches the build through it: its up did complete, and its down can run.`,
            }
          : {
              tone: 'warn',
              words: words`${n} is dirty, and the live schema matches neither build: against ${target} it ${driftWords(check.live.fromTarget)}.`,
            },
    );
  } else if (check.live.matches === 'neither' && check.live.fromApplied && !isSameSchema(check.live.fromApplied))
    lines.push({
      tone: 'warn',
      words: words`The live schema differs from a fresh migrate up through the applied migrations: it ${driftWords(check.live.fromApplied)}.`,
    });

  const reason = computedPlanReason(plan, check);
  const step = check.computed.step;
  if (reason && step)
    lines.push({
      tone: 'info',
      words: words`A computed plan is available because ${computedPlanReasonWords(reason)}: ${String(step.sql.length)} statement(s) from the live schema to ${target} (migra, proved on a schema-only copy), then the tracking table moved to ${target}.`,
    });
  else if (!computedPlan && !step && check.computed.unexpressed.length)
    lines.push({
      tone: 'warn',
      words: words`No computed plan: a diff cannot bring ${joinWords(check.computed.unexpressed.slice(0, MAX_OBJECTS).map(code), ', ')} to the target.`,
    });
  else if (!computedPlan && !step && check.computed.error)
    lines.push({ tone: 'warn', words: words`No computed plan: ${check.computed.error}.` });

  if (!computedPlan) lines.push(...check.tested.map(testednessWords));
  return lines;
}
