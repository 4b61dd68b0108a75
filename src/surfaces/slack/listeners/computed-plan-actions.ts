import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import type { IncidentDeps } from '../../../domain/incident/ports/deps.js';
import { useComputedPlan } from '../../../domain/incident/use-cases/computed-plan.js';
import { ACTION_USE_COMPUTED } from '../../../adapters/slack/render/schema-check-blocks.js';
import { answerIncidentButton } from './incident-button.js';

/** Handles the plan card's *Use computed plan* after the ack; every answer goes to the presser alone. */
export function handleUseComputedAction(
  deps: IncidentDeps,
  raw: { incidentId: unknown; userId: unknown },
  respond: RespondFn,
): Promise<void> {
  return answerIncidentButton(deps, raw, respond, 'use_computed_plan', ({ incidentId, userId }) =>
    useComputedPlan(deps, incidentId, userId),
  );
}

/** Registers *Use computed plan*. */
export function registerComputedPlanActions(app: App, deps: IncidentDeps): void {
  app.action<BlockButtonAction>(ACTION_USE_COMPUTED, async ({ ack, body, action, respond }) => {
    await ack();
    await handleUseComputedAction(deps, { incidentId: action.value, userId: body.user.id }, respond);
  });
}
