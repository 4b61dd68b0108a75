import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import type { IncidentDeps } from '../../incident/deps.js';
import { approveDiscard, type DiscardOutcome } from '../../incident/discard-leftover.js';
import { isAppError, userMessageOf } from '../../shared/errors.js';
import { ACTION_DISCARD } from '../blocks/restore-messages.js';
import { ButtonPress } from './plan-actions.js';

function replyFor(outcome: DiscardOutcome): string | null {
  if (outcome.kind === 'refused') return `:no_entry: ${outcome.message}`;
  if (outcome.kind === 'duplicate') return `You already approved this deletion (${outcome.approvals} of ${outcome.required}). Nothing changed.`;
  return null;
}

/**
 * Handles the failure message's *Delete* button (a failed restore's leftover) after the ack;
 * refusals and repeats are answered to the presser alone and change nothing.
 */
export async function handleDiscardAction(deps: IncidentDeps, raw: { incidentId: unknown; userId: unknown }, respond: RespondFn): Promise<void> {
  const reply = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  const parsed = ButtonPress.safeParse(raw);
  if (!parsed.success) {
    await reply(':warning: This button does not belong to a migrate-bot incident. Nothing changed.');
    return;
  }
  try {
    const text = replyFor(await approveDiscard(deps, parsed.data.incidentId, parsed.data.userId));
    if (text) await reply(text);
  } catch (err) {
    if (!isAppError(err) || !err.userMessage) deps.logger.error({ err }, 'discard action failed');
    await reply(`:warning: ${userMessageOf(err)}`);
  }
}

/** Registers the Delete button of a failed restore's leftover. */
export function registerDiscardActions(app: App, deps: IncidentDeps): void {
  app.action<BlockButtonAction>(ACTION_DISCARD, async ({ ack, body, action, respond }) => {
    await ack();
    await handleDiscardAction(deps, { incidentId: action.value, userId: body.user.id }, respond);
  });
}
