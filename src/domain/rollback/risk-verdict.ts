import { formatBytes } from '../triage/safe-value.js';
import type { PlanRisk, RiskFinding, StepRisk } from './risk.js';

/**
 * Tables at or above this many rows make a blocking statement worth the approvers' attention
 * (an index build or a table rewrite there holds writers for seconds to minutes; runbook 000
 * "Always Use lock_timeout"). Smaller tables are not mentioned.
 */
export const LARGE_TABLE_ROWS = 100_000;

const n = (x: number): string => x.toLocaleString('en-US');
const plural = (x: number, one: string, many = `${one}s`): string => `${n(x)} ${x === 1 ? one : many}`;

/** The figure in words: "500 values lost", "~1,200,000 rows (estimated)", "could not count: …". */
function figureWords(f: RiskFinding): string | null {
  const fig = f.figure;
  if (!fig || !f.target) return null;
  if (fig.absent)
    return f.earlier?.change === 'dropped'
      ? `the down of ${f.earlier.migration} drops it first, nothing to lose`
      : 'it does not exist, nothing to lose';
  if (fig.recreated)
    return `the down of ${f.earlier?.migration ?? 'an earlier step'} recreates it empty: 0 ${f.target.measure === 'rows' ? 'rows' : 'values'} lost`;
  if (fig.count === null) return `size unknown (could not count: ${fig.error ?? 'unknown error'})`;
  const about = fig.estimated ? '~' : '';
  const est = fig.estimated ? ' (estimated)' : '';
  switch (f.target.measure) {
    case 'rows':
      return f.class === 'data_loss'
        ? `${about}${plural(fig.count, 'row')} lost${est}`
        : `${about}${plural(fig.count, 'row')}${est}`;
    case 'values':
      return `${about}${plural(fig.count, 'value')} lost${est}`;
    case 'longer_values':
      return `${about}${plural(fig.count, 'value')} longer than ${f.target.maxLength}${est}`;
    case 'violations':
      return fig.count === 0
        ? 'no row violates it'
        : `${about}${plural(fig.count, 'row')} violate it${est} — the step will fail on them (runbook 000: fix the data first)`;
    case 'policies':
      return fig.names?.length ? `policies there now: ${fig.names.join(', ')}` : 'no policy on it now';
  }
}

/**
 * A finding in plain words, as every surface shows it (Slack puts the class's emoji before it):
 * `drops column events.promo_code — 500 values lost`.
 */
export function riskVerdict(f: RiskFinding): string {
  let figure = figureWords(f);
  const a = f.archived;
  if (a && 'table' in a)
    figure = `${figure ? `${figure.replace(/ lost( \(estimated\))?$/, '$1')}, ` : ''}archived first to ${a.table} (est. ${formatBytes(a.estimatedBytes)})`;
  else if (a) figure = `${figure ?? 'data lost'}; not archived: ${a.refused}`;
  return `${f.what}${figure ? ` — ${figure}` : ''}`;
}

/**
 * The findings worth a line on the card: every one except blocking statements on tables known
 * to be small, constraint re-adds no row violates, and drops of objects that do not exist.
 */
export function notableFindings(step: StepRisk): RiskFinding[] {
  return step.findings.filter((f) => {
    if (f.figure?.absent) return false;
    if (f.class === 'blocking') return !f.figure || f.figure.count === null || f.figure.count >= LARGE_TABLE_ROWS;
    if (f.class === 'constraint') return f.figure?.count !== 0;
    return true;
  });
}

/**
 * True when any step loses data or cannot bring back what its up destroyed: runbook 003 advises
 * a restore instead. Data loss counts when its figure says rows or values are lost; a figure
 * that could not be taken does not advise a restore by itself (it is shown as unknown), and data
 * the rollback archives first is not lost.
 */
export function advisesRestore(risk: PlanRisk): boolean {
  return risk.steps.some((s) =>
    s.findings.some(
      (f) =>
        (f.class === 'data_loss' &&
          !(f.archived && 'table' in f.archived) &&
          (f.figure ? (f.figure.count ?? 0) > 0 : !f.target)) ||
        f.class === 'irreversible',
    ),
  );
}

/** True when a finding's figure could not be taken: shown as unknown, never as data loss. */
export const figureUnknown = (f: RiskFinding): boolean => f.figure !== undefined && f.figure.count === null;
