import type { IncomingMessage, ServerResponse } from 'node:http';

/** Slack's replay window: a request timestamp more than 5 minutes from now, either way, is refused (Slack "Verifying requests from Slack"). */
export const SLACK_REQUEST_WINDOW_SECONDS = 5 * 60;

/**
 * True when `x-slack-request-timestamp` (`header`, Unix seconds) is missing, malformed or more
 * than {@link SLACK_REQUEST_WINDOW_SECONDS} before or after `nowMs` (ms). Bolt's HTTP receiver
 * refuses only timestamps in the past; a signed request dated in the future would otherwise
 * stay replayable until that time.
 */
export function outsideRequestWindow(header: string | string[] | undefined, nowMs: number): boolean {
  const raw = Array.isArray(header) ? header[0] : header;
  if (!raw || !/^\d{1,12}$/.test(raw)) return true;
  return Math.abs(Math.floor(nowMs / 1000) - Number(raw)) > SLACK_REQUEST_WINDOW_SECONDS;
}

/**
 * Wraps an HTTP request listener so that requests outside Slack's window get 401 before
 * they reach it. The signature itself is still checked by Bolt: it covers the timestamp,
 * so the two checks together refuse any replay older or newer than 5 minutes.
 */
export function withRequestWindow(
  listener: (req: IncomingMessage, res: ServerResponse) => void,
  now: () => number = Date.now,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    if (req.method === 'POST' && outsideRequestWindow(req.headers['x-slack-request-timestamp'], now())) {
      req.resume();
      res.writeHead(401, { 'content-type': 'text/plain' });
      res.end('request timestamp outside the 5-minute window');
      return;
    }
    listener(req, res);
  };
}
