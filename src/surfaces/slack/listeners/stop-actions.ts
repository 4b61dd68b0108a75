import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import type { IncidentDeps } from '../../../domain/incident/ports/deps.js';
import { closeIncident } from '../../../domain/incident/use-cases/close-incident.js';
import { ACTION_STOP_NOW } from '../../../adapters/slack/render/summary-blocks.js';
import { code, words } from '../../../shared/words.js';
import { answerIncidentButton } from './incident-button.js';

/**
 * Handles the pinned summary's *Stop now* button after the ack: `/migrate close --force` on
 * the incident it belongs to (approvers only), answered to the presser alone. A press on an
 * incident that no longer runs a step changes nothing.
 */
export function handleStopNowAction(
  deps: IncidentDeps,
  raw: { incidentId: unknown; userId: unknown },
  respond: RespondFn,
): Promise<void> {
  return answerIncidentButton(deps, raw, respond, 'stop_now', async ({ incidentId, userId }) => {
    const incident = await deps.repo.get(incidentId);
    if (incident?.state !== 'rolling_back')
      return words`No down migration of this incident is running now (${code(incident?.state ?? 'not found')}). Nothing changed.`;
    const outcome = await closeIncident(deps, incident.service, userId, undefined, { force: true });
    return outcome.kind === 'stopping'
      ? 'The running down migration is being cancelled; the incident fails with the steps that completed.'
      : words`The incident is now ${code(outcome.incident.state)}.`;
  });
}

/** Registers the pinned summary's *Stop now* button. */
export function registerStopActions(app: App, deps: IncidentDeps): void {
  app.action<BlockButtonAction>(ACTION_STOP_NOW, async ({ ack, body, action, respond }) => {
    await ack();
    await handleStopNowAction(deps, { incidentId: action.value, userId: body.user.id }, respond);
  });
}
