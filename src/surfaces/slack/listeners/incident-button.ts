import { errorMrkdwn, wordsMrkdwn } from '../../../adapters/slack/render/words-mrkdwn.js';
import type { RespondFn } from '@slack/bolt';
import type { IncidentDeps } from '../../../domain/incident/ports/deps.js';
import { isAppError } from '../../../shared/errors.js';
import type { WordsLike } from '../../../shared/words.js';
import { ButtonPress } from './plan-actions.js';

/**
 * Runs an incident button's use case after the ack and answers the presser alone (ephemeral,
 * through the press's response_url): `act`'s text when it returns one, the AppError's words when
 * it throws (logged when it has none). A value that is not an incident id changes nothing.
 * @param what the button, for the log (e.g. `rehearse`)
 */
export async function answerIncidentButton(
  deps: IncidentDeps,
  raw: { incidentId: unknown; userId: unknown },
  respond: RespondFn,
  what: string,
  act: (press: ButtonPress) => Promise<WordsLike | null>,
): Promise<void> {
  const reply = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
  const parsed = ButtonPress.safeParse(raw);
  if (!parsed.success)
    return void (await reply(':warning: This button does not belong to a migrate-bot incident. Nothing changed.'));
  try {
    const text = await act(parsed.data);
    if (text) await reply(wordsMrkdwn(text));
  } catch (err) {
    if (!isAppError(err) || !err.userMessage) deps.logger.error({ err, button: what }, 'button action failed');
    await reply(errorMrkdwn(err));
  }
}
