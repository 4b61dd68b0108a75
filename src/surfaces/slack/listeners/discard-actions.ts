import { refusalMrkdwn } from '../../../adapters/slack/render/words-mrkdwn.js';
import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import type { IncidentDeps } from '../../../domain/incident/ports/deps.js';
import { approveDiscard, type DiscardOutcome } from '../../../domain/incident/use-cases/discard-leftover.js';
import { ACTION_DISCARD } from '../../../adapters/slack/render/restore-messages.js';
import { answerIncidentButton } from './incident-button.js';

function replyFor(outcome: DiscardOutcome): string | null {
  if (outcome.kind === 'refused') return refusalMrkdwn(outcome.message);
  if (outcome.kind === 'duplicate')
    return `You already approved this deletion (${outcome.approvals} of ${outcome.required}). Nothing changed.`;
  return null;
}

/**
 * Handles the failure message's *Delete* button (a failed restore's leftover) after the ack;
 * refusals and repeats are answered to the presser alone and change nothing.
 */
export function handleDiscardAction(
  deps: IncidentDeps,
  raw: { incidentId: unknown; userId: unknown },
  respond: RespondFn,
): Promise<void> {
  return answerIncidentButton(deps, raw, respond, 'discard', async ({ incidentId, userId }) =>
    replyFor(await approveDiscard(deps, incidentId, userId)),
  );
}

/** Registers the Delete button of a failed restore's leftover. */
export function registerDiscardActions(app: App, deps: IncidentDeps): void {
  app.action<BlockButtonAction>(ACTION_DISCARD, async ({ ack, body, action, respond }) => {
    await ack();
    await handleDiscardAction(deps, { incidentId: action.value, userId: body.user.id }, respond);
  });
}
