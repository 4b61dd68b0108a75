import { errorMrkdwn, refusalMrkdwn } from '../../../adapters/slack/render/words-mrkdwn.js';
import type { App, BlockButtonAction, RespondFn, ViewSubmitAction, webApi } from '@slack/bolt';
import { z } from 'zod';
import { approve, reject, type ApprovalOutcome } from '../../../domain/incident/use-cases/approvals.js';
import type { IncidentDeps } from '../../../domain/incident/ports/deps.js';
import { isAppError } from '../../../shared/errors.js';
import {
  approvalConfirmView,
  CONFIRM_BLOCK,
  CONFIRM_INPUT,
  VIEW_CONFIRM_APPROVAL,
  type ConfirmMetadata,
} from '../../../adapters/slack/render/approval-modal.js';
import { ACTION_APPROVE, ACTION_REJECT } from '../../../adapters/slack/render/incident-messages.js';

const SlackUser = z.string().regex(/^[UW][A-Z0-9]+$/);

/** A button press as we read it from a `block_actions` payload. */
export const ButtonPress = z.object({
  /** The incident id carried in the button's value. */
  incidentId: z.uuid(),
  userId: SlackUser,
});
export type ButtonPress = z.infer<typeof ButtonPress>;

/** A plan-card button's value: `<incident uuid>` or `<incident uuid>:<plan digest, 12+ hex>`. */
const PlanButtonValue = z
  .string()
  .regex(/^[0-9a-f-]{36}(:[0-9a-f]{12,64})?$/)
  .transform((v) => {
    const [incidentId, digest] = v.split(':');
    return { incidentId: incidentId!, ...(digest ? { digest } : {}) };
  });

const ConfirmMetadataSchema = z.object({
  incidentId: z.uuid(),
  digest: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  responseUrl: z.url().optional(),
});

function replyFor(outcome: ApprovalOutcome): string | null {
  if (outcome.kind === 'refused') return refusalMrkdwn(outcome.message);
  if (outcome.kind === 'duplicate')
    return `You already approved this ${outcome.noun} (${outcome.approvals.length} of ${outcome.required}). Nothing changed.`;
  if (outcome.kind === 'recorded' && outcome.complete && !outcome.queued) {
    return `Your approval is saved (${outcome.approvals.length} of ${outcome.required}). The job queue is unreachable right now, so the ${outcome.noun} is not queued yet; the bot queues it as soon as the queue answers (checked every minute). Nothing has run.`;
  }
  return null;
}

/** Where a press came from, for the confirmation modal. */
export interface PressContext {
  respond: RespondFn;
  /** Opens the confirmation modal (`views.open` with the press's `trigger_id`, valid 3 s). */
  openModal?: (view: ReturnType<typeof approvalConfirmView>) => Promise<unknown>;
  /** The press's response_url, carried through the modal so its answer reaches the approver the same way. */
  responseUrl?: string;
}

/**
 * Handles Approve / Reject after the ack. Refusals and repeats are answered only to the
 * presser (ephemeral, via the payload's response_url) and change nothing. Approve on a
 * destructive plan opens the confirmation modal instead of recording.
 */
export async function handlePlanAction(
  deps: IncidentDeps,
  action: 'approve' | 'reject',
  raw: { value: unknown; userId: unknown },
  ctx: PressContext,
): Promise<void> {
  const reply = (text: string) => ctx.respond({ response_type: 'ephemeral', replace_original: false, text });
  const value = PlanButtonValue.safeParse(raw.value);
  const user = SlackUser.safeParse(raw.userId);
  if (!value.success || !user.success) {
    deps.logger.warn({ value: String(raw.value).slice(0, 80) }, 'malformed button press');
    await reply(':warning: This button does not belong to a migrate-bot incident. Nothing changed.');
    return;
  }
  const { incidentId, digest } = value.data;
  try {
    const outcome =
      action === 'approve'
        ? await approve(deps, incidentId, user.data, { digest })
        : await reject(deps, incidentId, user.data);
    if (outcome.kind === 'confirm') {
      if (!ctx.openModal)
        return void (await reply(
          ':warning: This plan needs a typed confirmation, which this client cannot show. Nothing was recorded.',
        ));
      await ctx.openModal(
        approvalConfirmView({
          service: outcome.service,
          summary: outcome.summary,
          required: outcome.required,
          metadata: {
            incidentId,
            digest: outcome.digest,
            ...(ctx.responseUrl ? { responseUrl: ctx.responseUrl } : {}),
          },
        }),
      );
      return;
    }
    const text = replyFor(outcome);
    if (text) await reply(text);
  } catch (err) {
    if (!isAppError(err) || !err.userMessage) deps.logger.error({ err, action }, 'plan action failed');
    await reply(errorMrkdwn(err));
  }
}

/**
 * The confirmation modal was submitted: records the approval with what the approver typed.
 * A refusal (wrong name, plan superseded meanwhile) is told to the approver alone, in the
 * incident channel (`chat.postEphemeral`), and records nothing.
 */
export async function handleConfirmSubmission(
  deps: IncidentDeps,
  input: { metadata: ConfirmMetadata; userId: string; typed: string },
  tell: (incidentId: string, text: string) => Promise<unknown>,
): Promise<void> {
  try {
    const outcome = await approve(deps, input.metadata.incidentId, input.userId, {
      ...(input.metadata.digest ? { digest: input.metadata.digest } : {}),
      confirmedAs: input.typed,
    });
    const text =
      outcome.kind === 'confirm'
        ? ':warning: The plan changed while the modal was open. Nothing was recorded; press Approve again.'
        : replyFor(outcome);
    if (text) await tell(input.metadata.incidentId, text);
  } catch (err) {
    if (!isAppError(err) || !err.userMessage) deps.logger.error({ err }, 'approval confirmation failed');
    await tell(input.metadata.incidentId, errorMrkdwn(err));
  }
}

/** Tells `userId` something in the incident's channel, visible to them alone. */
async function ephemeralInIncident(
  deps: IncidentDeps,
  client: webApi.WebClient,
  incidentId: string,
  userId: string,
  text: string,
): Promise<void> {
  const incident = await deps.repo.get(incidentId);
  if (!incident?.conversation?.id) return;
  await client.chat
    .postEphemeral({ channel: incident.conversation?.id, user: userId, text })
    .catch((err: unknown) => deps.logger.warn({ err }, 'could not answer a modal submission'));
}

/** Registers the plan card's buttons and the destructive-plan confirmation modal; Slack is called through `client`. */
export function registerPlanActions(app: App, deps: IncidentDeps, client: webApi.WebClient): void {
  for (const [actionId, action] of [
    [ACTION_APPROVE, 'approve'],
    [ACTION_REJECT, 'reject'],
  ] as const) {
    app.action<BlockButtonAction>(actionId, async ({ ack, body, action: button, respond }) => {
      await ack();
      await handlePlanAction(
        deps,
        action,
        { value: button.value, userId: body.user.id },
        {
          respond,
          responseUrl: body.response_url,
          openModal: (view) => client.views.open({ trigger_id: body.trigger_id, view }),
        },
      );
    });
  }
  app.view<ViewSubmitAction>(VIEW_CONFIRM_APPROVAL, async ({ ack, body, view }) => {
    const metadata = ConfirmMetadataSchema.safeParse(
      (() => {
        try {
          return JSON.parse(view.private_metadata);
        } catch {
          return null;
        }
      })(),
    );
    const typed = String(view.state.values[CONFIRM_BLOCK]?.[CONFIRM_INPUT]?.value ?? '');
    const service = metadata.success ? (await deps.repo.get(metadata.data.incidentId))?.service : undefined;
    // The one check made before the ack: a mistyped name is shown in the modal, which stays open.
    if (!metadata.success || !service)
      return void (await ack({
        response_action: 'errors',
        errors: { [CONFIRM_BLOCK]: 'This incident no longer exists. Close the modal; nothing was recorded.' },
      }));
    if (typed.trim() !== service)
      return void (await ack({
        response_action: 'errors',
        errors: { [CONFIRM_BLOCK]: `Type ${service} exactly to approve.` },
      }));
    await ack();
    const responseUrl = metadata.data.responseUrl;
    await handleConfirmSubmission(deps, { metadata: metadata.data, userId: body.user.id, typed }, (incidentId, text) =>
      responseUrl
        ? deps.notifier.reply(responseUrl, text)
        : ephemeralInIncident(deps, client, incidentId, body.user.id, text),
    );
  });
}
