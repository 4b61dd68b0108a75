import pg from 'pg';
import pRetry from 'p-retry';

/**
 * SQLSTATEs of a server that refuses a new session for now, not for good (PostgreSQL
 * Appendix A): `53300` too_many_connections ("sorry, too many clients already"), `57P03`
 * cannot_connect_now (starting up, or in recovery). Both clear on their own within seconds.
 */
export const TRANSIENT_CONNECT_STATES: ReadonlySet<string> = new Set(['53300', '57P03']);

/**
 * Error codes of a database that cannot be reached or lost the session (network errors of the
 * driver; PostgreSQL Appendix A: class 08 connection exceptions, 57P01–57P03 shutdown and
 * start-up, 53300 too many connections, 3D000 no such database, 28xxx login refused).
 */
const CONNECTION_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
  'EPIPE',
  '53300',
  '57P01',
  '57P02',
  '57P03',
  '3D000',
  '28P01',
  '28000',
]);

/**
 * True when `err` says the database could not be reached or dropped the session (as opposed to
 * an error of the statement): see {@link CONNECTION_CODES}, class 08, and the driver's
 * "Connection terminated" / connect-timeout messages.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = String(e?.code ?? '');
  return (
    CONNECTION_CODES.has(code) ||
    code.startsWith('08') ||
    /timeout expired|Connection terminated|connect ECONN|Client has encountered a connection error/i.test(
      String(e?.message ?? ''),
    )
  );
}

/** How {@link connectClient} tries again: attempts after the first, and the waits between them (ms, doubling, jittered). */
export interface ConnectRetry {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

/** About 0.25, 0.5, 1, 2, 4, 4 s: some 12 s in all before the refusal is reported. */
export const DEFAULT_CONNECT_RETRY: ConnectRetry = { retries: 6, minTimeoutMs: 250, maxTimeoutMs: 4000 };

/**
 * Opens one session, trying again on a fresh client while the server refuses sessions for now
 * ({@link TRANSIENT_CONNECT_STATES}) — on the worst day a hundred incidents' triage, snapshots and
 * verification share one server's `max_connections`, and a check must not fail because another
 * incident's session had the last slot. Each client gets an `error` listener before it connects
 * (a server-side disconnect would otherwise crash the process; the pending query rejects
 * anyway); `setup` may add more, e.g. one that logs. Every other error, and the last refusal, is
 * thrown as the driver gave it; a failed client is always ended.
 */
export async function connectClient(
  config: pg.ClientConfig,
  setup: (client: pg.Client) => void = () => undefined,
  retry: ConnectRetry = DEFAULT_CONNECT_RETRY,
): Promise<pg.Client> {
  return pRetry(
    async () => {
      const client = new pg.Client(config);
      client.on('error', () => undefined);
      setup(client);
      try {
        await client.connect();
        return client;
      } catch (err) {
        await client.end().catch(() => undefined);
        throw err;
      }
    },
    {
      retries: retry.retries,
      minTimeout: retry.minTimeoutMs,
      maxTimeout: retry.maxTimeoutMs,
      randomize: true,
      shouldRetry: ({ error }) => TRANSIENT_CONNECT_STATES.has(String((error as { code?: unknown }).code ?? '')),
    },
  );
}
