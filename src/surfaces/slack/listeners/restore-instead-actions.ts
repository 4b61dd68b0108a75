import { refusalMrkdwn } from '../../../adapters/slack/render/words-mrkdwn.js';
import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import type { IncidentDeps } from '../../../domain/incident/ports/deps.js';
import { restoreInstead } from '../../../domain/incident/use-cases/restore-instead.js';
import { ACTION_RESTORE_INSTEAD } from '../../../adapters/slack/render/risk-blocks.js';
import { answerIncidentButton } from './incident-button.js';

/**
 * Handles *Restore instead* after the ack: the presser is told where the restore incident
 * opens (through the press's response_url, once its channel exists), or why nothing changed.
 */
export function handleRestoreInstead(
  deps: IncidentDeps,
  raw: { incidentId: unknown; userId: unknown; responseUrl?: string },
  respond: RespondFn,
): Promise<void> {
  return answerIncidentButton(deps, raw, respond, 'restore instead', async ({ incidentId, userId }) => {
    const outcome = await restoreInstead(deps, incidentId, userId, raw.responseUrl);
    return outcome.kind === 'refused' ? refusalMrkdwn(outcome.message) : null;
  });
}

/** Registers the plan card's *Restore instead* button. */
export function registerRestoreInsteadActions(app: App, deps: IncidentDeps): void {
  app.action<BlockButtonAction>(ACTION_RESTORE_INSTEAD, async ({ ack, body, action, respond }) => {
    await ack();
    await handleRestoreInstead(
      deps,
      { incidentId: action.value, userId: body.user.id, responseUrl: body.response_url },
      respond,
    );
  });
}
