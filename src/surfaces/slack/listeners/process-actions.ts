import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import { z } from 'zod';
import { ACTION_FOLLOWUP_CREATE } from '../../../adapters/slack/render/followup-blocks.js';
import { ACTION_TAKE_COMMAND } from '../../../adapters/slack/render/process-blocks.js';
import { errorMrkdwn } from '../../../adapters/slack/render/words-mrkdwn.js';
import type { IncidentDeps } from '../../../domain/incident/ports/deps.js';
import { createFollowUp } from '../../../domain/incident/use-cases/followups.js';
import { assignRole } from '../../../domain/incident/use-cases/severity-and-roles.js';
import { isAppError } from '../../../shared/errors.js';
import { answerIncidentButton } from './incident-button.js';

/** A *Create* press: the follow-up id in the button's value, and who pressed. */
const FollowUpPress = z.object({
  followUpId: z.coerce.number().int().positive(),
  userId: z.string().regex(/^[UW][A-Z0-9]+$/),
});

/** *Take command* on the pinned summary: the presser becomes the incident commander (a handoff, posted and logged). */
export function handleTakeCommand(
  deps: IncidentDeps,
  raw: { incidentId: unknown; userId: unknown },
  respond: RespondFn,
): Promise<void> {
  return answerIncidentButton(deps, raw, respond, 'take_command', async ({ incidentId, userId }) => {
    const incident = await deps.repo.get(incidentId);
    if (!incident) return 'This incident no longer exists. Nothing changed.';
    if (incident.roles.commander === userId) return 'You are already the incident commander.';
    await assignRole(deps, { service: incident.service, userId, role: 'commander', target: userId });
    return 'You are now the incident commander; the handoff is posted in the channel.';
  });
}

/** *Create* on a proposed follow-up: files it (or puts it on the checklist); a second press changes nothing. */
export async function handleFollowUpCreate(
  deps: IncidentDeps,
  raw: { followUpId: unknown; userId: unknown },
  respond: RespondFn,
): Promise<void> {
  const reply = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  const press = FollowUpPress.safeParse(raw);
  if (!press.success)
    return void (await reply(':warning: This button does not belong to a migrate-bot follow-up. Nothing changed.'));
  try {
    const taken = await createFollowUp(deps, press.data.followUpId, press.data.userId);
    await reply(
      taken
        ? 'Follow-up created; it shows in the channel and the pinned summary.'
        : 'That follow-up was already created. Nothing changed.',
    );
  } catch (err) {
    if (!isAppError(err) || !err.userMessage)
      deps.logger.error({ err, button: 'followup_create' }, 'button action failed');
    await reply(errorMrkdwn(err));
  }
}

/** Registers *Take command* and the follow-ups' *Create* buttons. */
export function registerProcessActions(app: App, deps: IncidentDeps): void {
  app.action<BlockButtonAction>(ACTION_TAKE_COMMAND, async ({ ack, body, action, respond }) => {
    await ack();
    await handleTakeCommand(deps, { incidentId: action.value, userId: body.user.id }, respond);
  });
  app.action<BlockButtonAction>(ACTION_FOLLOWUP_CREATE, async ({ ack, body, action, respond }) => {
    await ack();
    await handleFollowUpCreate(deps, { followUpId: action.value, userId: body.user.id }, respond);
  });
}
