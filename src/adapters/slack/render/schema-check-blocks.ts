import type { types } from '@slack/bolt';
import type { Incident } from '../../../domain/incident/model/incident.js';
import { computedPlanReason } from '../../../domain/rollback/plan-schema-check.js';
import { type SchemaCheckLine, schemaCheckLines } from '../../../domain/rollback/plan-schema-words.js';
import { type KnownBlock, section } from './block-kit.js';
import { clip } from './limits.js';
import { wordsMrkdwn } from './words-mrkdwn.js';

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
 * its emoji, every name and error escaped. Empty before the check ran (or when the tool cannot
 * build a scratch database).
 */
export function schemaCheckBlocks(incident: Pick<Incident, 'plan' | 'schemaCheck'>): KnownBlock[] {
  if (!incident.schemaCheck) return [];
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
