import { codeSpan, wordsMrkdwn } from './words-mrkdwn.js';
import { type UsageLine, usageLines } from '../../../domain/rollback/usage.js';
import { context, type KnownBlock, section } from './block-kit.js';
import type { PlanRisk, RiskFinding } from '../../../domain/rollback/risk.js';
import { advisesRestore, figureUnknown, notableFindings, riskVerdict } from '../../../domain/rollback/risk-verdict.js';
import { clip, escapeMrkdwn } from './limits.js';

/** `action_id` of the plan card's *Restore instead* button; the value is the incident id. */
export const ACTION_RESTORE_INSTEAD = 'incident_restore_instead';

/** Most verdict lines per step on the card; the rest are counted. */
const MAX_LINES_PER_STEP = 6;

const RISK_EMOJI: Record<RiskFinding['class'], string> = {
  data_loss: ':warning:',
  security: ':lock:',
  blocking: ':hourglass_flowing_sand:',
  constraint: ':no_entry:',
  irreversible: ':no_entry_sign:',
  unknown: ':grey_question:',
};

/** A finding as one mrkdwn line: the class's emoji and its verdict, escaped (`:warning: drops column … — 500 values lost`). */
export function riskLine(f: RiskFinding): string {
  // A data-loss figure that could not be taken is not shown as data loss.
  const emoji = f.class === 'data_loss' && figureUnknown(f) ? RISK_EMOJI.unknown : RISK_EMOJI[f.class];
  return `${emoji} ${escapeMrkdwn(riskVerdict(f))}`;
}

/**
 * The plan card's lead: one verdict line per notable finding, step by step
 * (`:warning: drops column events.promo_code — 500 values lost`), or a single line saying the
 * SQL was classified and nothing destructive was found. Empty when the risk is not known yet.
 */
export function riskBlocks(risk: PlanRisk | undefined): KnownBlock[] {
  if (!risk) return [];
  const steps = risk.steps
    .map((s) => ({ migration: s.migration, lines: notableFindings(s).map(riskLine) }))
    .filter((s) => s.lines.length > 0);
  if (!steps.length)
    return [
      section(
        ':large_green_circle: *Risk:* no data loss, security change, blocking statement or constraint re-add found in the down SQL.',
      ),
    ];
  const text = steps
    .map((s) => {
      const shown = s.lines.slice(0, MAX_LINES_PER_STEP);
      const more = s.lines.length - shown.length;
      // One finding: one line with its step; several: the step, then a line each.
      if (shown.length === 1 && more === 0) return `${codeSpan(s.migration)}: ${shown[0]}`;
      return `${codeSpan(s.migration)}\n${shown.map((l) => `    ${l}`).join('\n')}${more > 0 ? `\n    … and ${more} more` : ''}`;
    })
    .join('\n');
  return [section(`*Risk:* ${text}`), ...usageBlocks(risk)];
}

const USAGE_EMOJI: Record<UsageLine['kind'], string> = {
  uses: ':eyes:',
  depends: ':link:',
  unavailable: ':grey_question:',
};

/**
 * Who still uses what the downs drop ({@link usageLines}), one line each, escaped; empty when
 * nothing does. Why statements could not be looked at is a quiet context line: on a server without
 * pg_stat_statements it is on every destructive card, and it is a setup note, not a risk.
 */
export function usageBlocks(risk: PlanRisk): KnownBlock[] {
  const lines = risk.usage ? usageLines(risk.usage) : [];
  const text = (kinds: ReadonlyArray<UsageLine['kind']>) =>
    lines
      .filter((l) => kinds.includes(l.kind))
      .map((l) => `${USAGE_EMOJI[l.kind]} ${wordsMrkdwn(l.words)}`)
      .join('\n');
  const found = text(['uses', 'depends']);
  const unavailable = text(['unavailable']);
  return [...(found ? [section(clip(found, 2900))] : []), ...(unavailable ? [context(clip(unavailable, 2900))] : [])];
}

/**
 * Runbook 003 "Option B": for a plan that loses data or cannot undo what its up destroyed,
 * prefer restoring the incident's snapshot to a new instance; `unapprovable` (an irreversible
 * step) means restore is the only way offered. The button starts `/migrate restore` with the
 * incident's snapshot.
 */
export function restoreAdviceBlocks(
  incidentId: string,
  risk: PlanRisk | undefined,
  unapprovable: string | undefined,
): KnownBlock[] {
  if (!unapprovable && !(risk && advisesRestore(risk))) return [];
  const text = unapprovable
    ? `:no_entry_sign: *This plan cannot be approved:* ${unapprovable}.\nRunbook 003 (Option B): restore the snapshot to a *new* instance and cut over once it is verified.`
    : ':bulb: *Runbook 003 (Option B):* this down loses data. Consider restoring the snapshot to a *new* instance instead of rolling back.';
  return [
    section(text),
    {
      type: 'actions',
      block_id: `restore_${incidentId.slice(0, 8)}`,
      elements: [
        {
          type: 'button',
          action_id: ACTION_RESTORE_INSTEAD,
          text: { type: 'plain_text', text: 'Restore instead' },
          value: incidentId,
        },
      ],
    },
  ];
}
