import type { Incident } from '../../../domain/incident/model/incident.js';
import { objectWords } from '../../../domain/rollback/archive.js';
import type { PlanStep } from '../../../domain/rollback/plan.js';
import { escapeMrkdwn } from './limits.js';
import { codeSpan } from './words-mrkdwn.js';

/**
 * What one unarchive step writes back, for the plan card's step line: where to, how many rows, and
 * what happens to conflicting rows. Empty for other steps.
 */
export function unarchiveStepNote(step: PlanStep): string {
  const u = step.unarchive;
  if (!u) return '';
  const noun = u.kind === 'column' ? 'values' : 'rows';
  const conflicts = !u.conflicts
    ? ''
    : u.onConflict === 'skip'
      ? ` · ${u.conflicts.toLocaleString('en-US')} conflicting ${noun} kept as they are (\`--on-conflict skip\`)`
      : u.onConflict === 'overwrite'
        ? ` · *${u.conflicts.toLocaleString('en-US')} conflicting ${noun} overwritten* (\`--on-conflict overwrite\`)`
        : '';
  return `\n      → ${escapeMrkdwn(objectWords(u.target))} · ${u.rows.toLocaleString('en-US')} archived ${noun}${conflicts}`;
}

/** The plan card's lead line for an unarchive: what goes back, from which incident, in one transaction. */
export function unarchiveLead(incident: Pick<Incident, 'migration' | 'plan'>, steps: readonly string[]): string {
  const n = incident.plan.length;
  return `Writing back *${n}* archive table${n === 1 ? '' : 's'} (${codeSpan(incident.migration)}) in one transaction, after the snapshot; nothing else changes:\n${steps.join('\n')}`;
}
