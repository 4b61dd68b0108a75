import type http from 'node:http';

/** How the console may be addressed: this machine's names, on the console's own port. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** Why the console refuses a request: an HTTP status and words for the person (or page) that sent it. */
export interface ConsoleRefusal {
  status: number;
  error: string;
}

/**
 * The drill console's guard against other web pages and other hosts. The console has no login:
 * what stands between it and a page the operator happens to visit is that
 *  - every request must name the console as `localhost`, `127.0.0.1` or `[::1]` on its own port
 *    in `Host` (a DNS-rebinding page names its own host; refused with 421);
 *  - a request that changes anything (`POST /api/…`) must come from the console's own page:
 *    an `Origin`, when sent, must be the console's (403), and the body must be
 *    `application/json` (415), which a cross-site form cannot send without a CORS preflight the
 *    console never grants (Fetch standard, "CORS-safelisted request-header").
 * @param port the console's port
 * @returns null when the request may go on
 */
export function consoleRequestRefusal(req: http.IncomingMessage, port: number): ConsoleRefusal | null {
  const hosts = LOOPBACK_NAMES.map((name) => `${name}:${port}`);
  const open = `open http://localhost:${port}/ on the machine that runs the drill`;
  if (!hosts.includes(req.headers.host ?? '')) {
    return { status: 421, error: `This console answers only as localhost:${port}; ${open}.` };
  }
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (req.method !== 'POST' || !path.startsWith('/api/')) return null;
  const origin = req.headers.origin;
  if (origin !== undefined && !hosts.map((h) => `http://${h}`).includes(origin)) {
    return { status: 403, error: `Requests from ${origin} are refused: only the console's own page may act; ${open}.` };
  }
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
    return { status: 415, error: 'The console takes JSON only (content-type: application/json).' };
  }
  return null;
}
