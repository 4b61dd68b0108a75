import type { types } from '@slack/bolt';

/** Block Kit block types, from the `@slack/types` that Bolt re-exports. */
export type KnownBlock = types.KnownBlock;
