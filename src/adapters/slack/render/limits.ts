/** Block Kit limits (https://api.slack.com/reference/block-kit/blocks). */
export const LIMITS = {
  /** Characters in a section's text. */
  sectionText: 3000,
  /** Characters in a header's plain_text. */
  headerText: 150,
  /** Blocks in one message. */
  blocks: 50,
  /** Characters in a message's top-level `text` fallback we allow ourselves. */
  fallbackText: 3000,
} as const;

/** Cuts `text` to at most `max` characters, ending with `…` when cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** Escapes the three characters Slack's mrkdwn treats as control characters (&, <, >). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Slack date token, rendered in each reader's own time zone
 * (https://api.slack.com/reference/surfaces/formatting#date-formatting).
 */
export function slackDate(d: Date, format = '{date_short_pretty} {time}'): string {
  const epoch = Math.floor(d.getTime() / 1000);
  return `<!date^${epoch}^${format}|${d.toISOString()}>`;
}
