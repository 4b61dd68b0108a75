import { codeSpan } from './words-mrkdwn.js';
import type { DestructiveFinding } from '../../../domain/incident/use-cases/approvals.js';
import { riskLine } from './risk-blocks.js';
import type { types } from '@slack/bolt';
import { clip, LIMITS } from './limits.js';
import { redactSecrets } from '../../../shared/redact.js';

/** `callback_id` of the destructive-plan confirmation modal. */
export const VIEW_CONFIRM_APPROVAL = 'incident_approve_confirm';
/** `block_id` / `action_id` of the modal's text input. */
export const CONFIRM_BLOCK = 'confirm_service';
export const CONFIRM_INPUT = 'service_name';

/** What the modal carries back in `private_metadata` (Slack: at most 3,000 characters). */
export interface ConfirmMetadata {
  incidentId: string;
  digest: string | null;
  /** The press's response_url (valid 30 minutes, 5 uses): the approver's answer goes there, as for any press. */
  responseUrl?: string;
}

/**
 * The modal an approver of a destructive plan confirms in (Slack `views.open`, "Modals"):
 * the plan's risk in one line per finding, and a text input where the approver types the
 * service name. Approving is its submit button; closing it records nothing.
 */
export function approvalConfirmView(input: {
  service: string;
  summary: DestructiveFinding[];
  required: number;
  metadata: ConfirmMetadata;
}): types.ModalView {
  const lines = input.summary.length
    ? input.summary.map((s) => `${codeSpan(s.migration)}: ${riskLine(s.finding)}`).join('\n')
    : 'This plan is classified destructive.';
  return {
    type: 'modal',
    callback_id: VIEW_CONFIRM_APPROVAL,
    private_metadata: JSON.stringify(input.metadata),
    title: { type: 'plain_text', text: 'Approve destructive plan' },
    submit: { type: 'plain_text', text: 'Approve' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: clip(
            redactSecrets(`*This rollback destroys data or removes security on ${input.service}:*\n${lines}`),
            LIMITS.sectionText,
          ),
        },
      },
      {
        type: 'context',
        elements: [
          {
            type: 'mrkdwn',
            text: `Needs ${input.required} approvals. Runbook 003 (Option B): for destructive migrations prefer restoring the snapshot to a new instance — the plan card has *Restore instead*.`,
          },
        ],
      },
      {
        type: 'input',
        block_id: CONFIRM_BLOCK,
        label: { type: 'plain_text', text: `Type ${input.service} to approve` },
        element: {
          type: 'plain_text_input',
          action_id: CONFIRM_INPUT,
          placeholder: { type: 'plain_text', text: input.service },
        },
      },
    ],
  };
}
