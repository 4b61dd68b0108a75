import type { App, BlockButtonAction, RespondFn } from '@slack/bolt';
import { z } from 'zod';
import { approve, reject, type ApprovalOutcome } from '../../incident/approvals.js';
import type { IncidentDeps } from '../../incident/deps.js';
import { isAppError, userMessageOf } from '../../shared/errors.js';
import { ACTION_APPROVE, ACTION_REJECT } from '../blocks/incident-messages.js';

/** A button press as we read it from a `block_actions` payload. */
export const ButtonPress = z.object({
  /** The incident id carried in the button's value. */
  incidentId: z.uuid(),
  userId: z.string().regex(/^[UW][A-Z0-9]+$/),
});
export type ButtonPress = z.infer<typeof ButtonPress>;

function replyFor(outcome: ApprovalOutcome): string | null {
  if (outcome.kind === 'refused') return `:no_entry: ${outcome.message}`;
  if (outcome.kind === 'duplicate') return `You already approved this ${outcome.noun} (${outcome.approvals.length} of ${outcome.required}). Nothing changed.`;
  if (outcome.complete && !outcome.queued) {
    return `Your approval is saved (${outcome.approvals.length} of ${outcome.required}). The job queue is unreachable right now, so the ${outcome.noun} is not queued yet; the bot queues it as soon as the queue answers (checked every minute). Nothing has run.`;
  }
  return null;
}

/**
 * Handles Approve / Reject after the ack. Refusals and repeats are answered only to
 * the presser (ephemeral, via the payload's response_url) and change nothing.
 */
export async function handlePlanAction(
  deps: IncidentDeps,
  action: 'approve' | 'reject',
  raw: { incidentId: unknown; userId: unknown },
  respond: RespondFn,
): Promise<void> {
  const reply = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  const parsed = ButtonPress.safeParse(raw);
  if (!parsed.success) {
    deps.logger.warn({ issues: parsed.error.issues }, 'malformed button press');
    await reply(':warning: This button does not belong to a migrate-bot incident. Nothing changed.');
    return;
  }
  try {
    const outcome = action === 'approve' ? await approve(deps, parsed.data.incidentId, parsed.data.userId) : await reject(deps, parsed.data.incidentId, parsed.data.userId);
    const text = replyFor(outcome);
    if (text) await reply(text);
  } catch (err) {
    if (!isAppError(err) || !err.userMessage) deps.logger.error({ err, action }, 'plan action failed');
    await reply(`:warning: ${userMessageOf(err)}`);
  }
}

/** Registers the plan card's buttons. */
export function registerPlanActions(app: App, deps: IncidentDeps): void {
  for (const [actionId, action] of [
    [ACTION_APPROVE, 'approve'],
    [ACTION_REJECT, 'reject'],
  ] as const) {
    app.action<BlockButtonAction>(actionId, async ({ ack, body, action: button, respond }) => {
      await ack();
      await handlePlanAction(deps, action, { incidentId: button.value, userId: body.user.id }, respond);
    });
  }
}
