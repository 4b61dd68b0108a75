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

/** Returns `text` with every secret it recognises replaced by `***`. Pure; safe on any string. */
export function redactSecrets(text: string): string {
  return text
    .replace(URL_PASSWORD, '$1:***@')
    .replace(KV_PASSWORD, '$1=***')
    .replace(SLACK_TOKEN, 'xox*-***')
    .replace(AWS_KEY_ID, '$1****************');
}
