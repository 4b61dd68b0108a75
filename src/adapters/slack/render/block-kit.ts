import type { types } from '@slack/bolt';

/** Block Kit block types, from the `@slack/types` that Bolt re-exports. */
export type KnownBlock = types.KnownBlock;

/** A Slack message: fallback text (notifications, screen readers) and its blocks. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}
