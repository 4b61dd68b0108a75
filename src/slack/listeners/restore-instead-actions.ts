import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import type { IncidentDeps } from '../../incident/deps.js';
import { restoreInstead } from '../../incident/restore-instead.js';
import { isAppError, userMessageOf } from '../../shared/errors.js';
import { ACTION_RESTORE_INSTEAD } from '../blocks/risk-blocks.js';
import { ButtonPress } from './plan-actions.js';

/**
 * Handles *Restore instead* after the ack: the presser is told where the restore incident
 * opens (through the press's response_url), or why nothing changed.
 */
export async function handleRestoreInstead(deps: IncidentDeps, raw: { incidentId: unknown; userId: unknown; responseUrl?: string }, respond: RespondFn): Promise<void> {
  const reply = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  const parsed = ButtonPress.safeParse(raw);
  if (!parsed.success) return void (await reply(':warning: This button does not belong to a migrate-bot incident. Nothing changed.'));
  try {
    const outcome = await restoreInstead(deps, parsed.data.incidentId, parsed.data.userId, raw.responseUrl);
    if (outcome.kind === 'refused') await reply(`:no_entry: ${outcome.message}`);
  } catch (err) {
    if (!isAppError(err) || !err.userMessage) deps.logger.error({ err }, 'restore instead failed');
    await reply(`:warning: ${userMessageOf(err)}`);
  }
}

/** Registers the plan card's *Restore instead* button. */
export function registerRestoreInsteadActions(app: App, deps: IncidentDeps): void {
  app.action<BlockButtonAction>(ACTION_RESTORE_INSTEAD, async ({ ack, body, action, respond }) => {
    await ack();
    await handleRestoreInstead(deps, { incidentId: action.value, userId: body.user.id, responseUrl: body.response_url }, respond);
  });
}
