import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import type { IncidentDeps } from '../../incident/deps.js';
import { requestRehearsal } from '../../incident/rehearse.js';
import { AppError, isAppError, userMessageOf } from '../../shared/errors.js';
import { ACTION_REHEARSE } from '../blocks/incident-messages.js';
import { ButtonPress } from './plan-actions.js';

/** Handles the plan card's *Rehearse on a copy* after the ack; every answer goes to the presser alone. */
export async function handleRehearseAction(deps: IncidentDeps, raw: { incidentId: unknown; userId: unknown }, respond: RespondFn): Promise<void> {
  const reply = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  const parsed = ButtonPress.safeParse(raw);
  if (!parsed.success) return void (await reply(':warning: This button does not belong to a migrate-bot incident. Nothing changed.'));
  try {
    const incident = await deps.repo.get(parsed.data.incidentId);
    if (!incident) throw new AppError({ code: 'incident_not_found', message: 'no such incident', userMessage: 'This incident no longer exists.' });
    await reply(await requestRehearsal(deps, incident, parsed.data.userId));
  } catch (err) {
    if (!isAppError(err) || !err.userMessage) deps.logger.error({ err }, 'rehearse action failed');
    await reply(`:warning: ${userMessageOf(err)}`);
  }
}

/** Registers *Rehearse on a copy*. */
export function registerRehearseActions(app: App, deps: IncidentDeps): void {
  app.action<BlockButtonAction>(ACTION_REHEARSE, async ({ ack, body, action, respond }) => {
    await ack();
    await handleRehearseAction(deps, { incidentId: action.value, userId: body.user.id }, respond);
  });
}
