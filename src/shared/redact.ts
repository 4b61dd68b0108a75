/**
 * Secret redaction for anything that may reach a log line or a Slack message.
 * Covers passwords inside connection strings (`postgres://user:secret@host`),
 * `password=` key/value pairs (libpq keyword form), Slack tokens (`xoxb-…`,
 * `xapp-…`, `xoxp-…`) and AWS access key IDs.
 */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*):([^@/\s]+)@/gi;
const KV_PASSWORD = /\b(password|passwd|pwd)\s*=\s*('[^']*'|"[^"]*"|[^\s&;]+)/gi;
const SLACK_TOKEN = /\bxox[abposr]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+/g;
const AWS_KEY_ID = /\b(AKIA|ASIA)[A-Z0-9]{16}\b/g;

/** Secret values read from the environment (provider tokens, routing keys), replaced wherever they appear. */
const KNOWN_SECRETS = new Set<string>();

/**
 * Adds a secret read from configuration (a PagerDuty routing key, a Jira token) to what
 * {@link redactSecrets} replaces, as written and in the Basic-auth base64 form it travels in.
 * Values shorter than 8 characters are ignored (they would redact ordinary words).
 */
export function registerSecret(value: string): void {
  if (value.length < 8) return;
  KNOWN_SECRETS.add(value);
  KNOWN_SECRETS.add(Buffer.from(value).toString('base64'));
}

/** Returns `text` with every secret it recognises replaced by `***`; safe on any string. */
export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of KNOWN_SECRETS) if (out.includes(secret)) out = out.split(secret).join('***');
  return out
    .replace(URL_PASSWORD, '$1:***@')
    .replace(KV_PASSWORD, '$1=***')
    .replace(SLACK_TOKEN, 'xox*-***')
    .replace(AWS_KEY_ID, '$1****************');
}
