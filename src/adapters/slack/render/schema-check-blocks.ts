import type { types } from '@slack/bolt';
import { APPROVABLE_STATES, type Incident } from '../../../domain/incident/model/incident.js';
import { computedPlanReason } from '../../../domain/rollback/plan-schema-check.js';
import { ARCHIVE_COPY_BYTES_PER_SECOND } from '../../../domain/rollback/archive.js';
import { formatBytes } from '../../../domain/triage/safe-value.js';
import { type SchemaCheckLine, schemaCheckLines } from '../../../domain/rollback/plan-schema-words.js';
import { context, type KnownBlock, section } from './block-kit.js';
import { clip } from './limits.js';
import { codeSpan, wordsMrkdwn } from './words-mrkdwn.js';

/** `action_id` of the plan card's *Use computed plan* button; the value is the incident id. */
export const ACTION_USE_COMPUTED = 'incident_use_computed';

const TONE: Record<SchemaCheckLine['tone'], string> = {
  ok: ':white_check_mark:',
  bad: ':x:',
  warn: ':warning:',
  info: ':information_source:',
};

/**
 * The plan card's schema check ({@link schemaCheckLines}): one section, a line per finding with
 * its emoji, every name and error escaped. While the plan awaits approval and the check has not
 * come back: a line saying it runs (the card is redrawn when it does).
 */
export function schemaCheckBlocks(incident: Pick<Incident, 'plan' | 'schemaCheck' | 'state'>): KnownBlock[] {
  if (!incident.schemaCheck)
    return APPROVABLE_STATES.includes(incident.state)
      ? [
          context(
            ':hourglass_flowing_sand: Checking the plan against the schemas on a scratch database (the target, the downs on a fresh build, the live schema)…',
          ),
        ]
      : [];
  const lines = schemaCheckLines(incident.plan, incident.schemaCheck).map(
    (l) => `${TONE[l.tone]} ${wordsMrkdwn(l.words)}`,
  );
  return lines.length ? [section(clip(`*Schema check*\n${lines.join('\n')}`, 2900))] : [];
}

/** *Use computed plan*, with a confirmation, when the files' plan cannot serve and a computed plan exists; else null. */
export function computedPlanButton(incident: Pick<Incident, 'id' | 'plan' | 'schemaCheck'>): types.Button | null {
  if (!computedPlanReason(incident.plan, incident.schemaCheck)) return null;
  return {
    type: 'button',
    action_id: ACTION_USE_COMPUTED,
    text: { type: 'plain_text', text: 'Use computed plan' },
    value: incident.id,
    confirm: {
      title: { type: 'plain_text', text: 'Use the computed plan?' },
      text: {
        type: 'mrkdwn',
        text: "The plan becomes the SQL from the live schema to the target, computed again now. Approvals given to the files' plan are voided; the new plan needs its own.",
      },
      confirm: { type: 'plain_text', text: 'Use computed plan' },
      deny: { type: 'plain_text', text: 'Keep the files' },
    },
  };
}

/**
 * The plan's archive before destroy in one line: how many tables go into which schema before the
 * downs, their estimated size and the time the copies add (at {@link ARCHIVE_COPY_BYTES_PER_SECOND}).
 * Empty when the plan archives nothing.
 */
export function archiveBlocks(plan: Incident['plan']): KnownBlock[] {
  const copies = plan.flatMap((s) => s.archive ?? []);
  if (!copies.length) return [];
  const bytes = copies.reduce((sum, c) => sum + c.estimatedBytes, 0);
  const seconds = bytes / ARCHIVE_COPY_BYTES_PER_SECOND;
  return [
    context(
      `:file_cabinet: *Archive before destroy:* ${copies.length} table${copies.length === 1 ? '' : 's'} into ${codeSpan(copies[0]!.schema)} before the downs, in their transactions (est. ${formatBytes(bytes)}, ~${seconds < 1 ? '<1' : Math.ceil(seconds)} s) — ${copies.map((c) => codeSpan(c.table)).join(', ')}`,
    ),
  ];
}
