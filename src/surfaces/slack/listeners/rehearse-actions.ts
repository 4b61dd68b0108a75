import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import type { IncidentDeps } from '../../../domain/incident/ports/deps.js';
import { requestRehearsal } from '../../../domain/incident/use-cases/rehearse.js';
import { AppError } from '../../../shared/errors.js';
import { ACTION_REHEARSE } from '../../../adapters/slack/render/incident-messages.js';
import { answerIncidentButton } from './incident-button.js';

/** Handles the plan card's *Rehearse on a copy* after the ack; every answer goes to the presser alone. */
export function handleRehearseAction(
  deps: IncidentDeps,
  raw: { incidentId: unknown; userId: unknown },
  respond: RespondFn,
): Promise<void> {
  return answerIncidentButton(deps, raw, respond, 'rehearse', async ({ incidentId, userId }) => {
    const incident = await deps.repo.get(incidentId);
    if (!incident)
      throw new AppError({
        code: 'incident_not_found',
        message: 'no such incident',
        userMessage: 'This incident no longer exists.',
      });
    return requestRehearsal(deps, incident, userId);
  });
}

/** Registers *Rehearse on a copy*. */
export function registerRehearseActions(app: App, deps: IncidentDeps): void {
  app.action<BlockButtonAction>(ACTION_REHEARSE, async ({ ack, body, action, respond }) => {
    await ack();
    await handleRehearseAction(deps, { incidentId: action.value, userId: body.user.id }, respond);
  });
}
