import { redactSecrets } from '../../../shared/redact.js';
import { clip, LIMITS } from './limits.js';
import type { types } from '@slack/bolt';

/** Block Kit block types, from the `@slack/types` that Bolt re-exports. */
export type KnownBlock = types.KnownBlock;

/** A Slack message: fallback text (notifications, screen readers) and its blocks. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** A mrkdwn section, secrets redacted and clipped to Slack's 3,000 characters. */
export const section = (text: string): KnownBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text: clip(redactSecrets(text), LIMITS.sectionText) },
});

/** A context block (small grey text) of one mrkdwn element, secrets redacted and clipped. */
export const context = (text: string): KnownBlock => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: clip(redactSecrets(text), LIMITS.sectionText) }],
});

/** A header block (plain text, emoji shown), clipped to Slack's 150 characters. */
export const header = (text: string): KnownBlock => ({
  type: 'header',
  text: { type: 'plain_text', text: clip(text, LIMITS.headerText), emoji: true },
});
