import type { Duration } from '../../config/duration.js';
import { redactSecrets } from '../../shared/redact.js';
import { sqlStateOf } from '../../domain/triage/triage-session.js';

/** The timeouts a triage session runs under, for naming them in messages. */
export interface TriageTimeouts {
  statement_timeout: Duration;
  lock_timeout: Duration;
  /** Connect timeout, ms. */
  connectTimeoutMs: number;
}

const cut = (text: string, max = 300): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Plain-language meaning of SQLSTATEs a triage check meets (PostgreSQL Appendix A). */
function describeSqlState(code: string, message: string, t: TriageTimeouts): string | undefined {
  switch (code) {
    case '57014':
      return `timed out after ${t.statement_timeout.text} (statement_timeout)`;
    case '55P03':
      return `could not get a lock within ${t.lock_timeout.text} (lock_timeout): another session holds or waits for a conflicting lock`;
    case '42P01':
      return `missing table: ${message}`;
    case '42703':
      return `missing column: ${message}`;
    case '42501':
      return `permission denied: ${message} (the triage role needs pg_monitor and SELECT on the tracking tables)`;
    case '25006':
      return `write refused, the triage transaction is read-only: ${message}`;
    case '53300':
      return `database unreachable: too many connections (${message})`;
    case '57P01':
    case '57P02':
    case '57P03':
      return `database unreachable: ${message}`;
    case '28P01':
    case '28000':
      return `database refused the triage role: ${message}`;
    case '3D000':
      return `database unreachable: ${message}`;
    default:
      return undefined;
  }
}

/** Plain-language meaning of Node socket errors and node-postgres client errors. */
function describeClientError(
  err: Error & { code?: unknown; address?: unknown; port?: unknown },
  t: TriageTimeouts,
): string {
  const where =
    typeof err.address === 'string' ? ` at ${err.address}${typeof err.port === 'number' ? `:${err.port}` : ''}` : '';
  switch (err.code) {
    case 'ECONNREFUSED':
      return `database unreachable: connection refused${where}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `database unreachable: host name not found${where}`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `database unreachable: no route or no answer${where}`;
    case 'ECONNRESET':
      return `connection lost: reset by the server${where}`;
  }
  if (/timeout expired|connection timeout/i.test(err.message))
    return `database unreachable: no connection within ${t.connectTimeoutMs}ms (connect timeout)`;
  if (/query read timeout/i.test(err.message))
    return `no answer from the database within ${t.statement_timeout.text} plus grace (client-side timeout)`;
  if (/connection terminated/i.test(err.message)) return `connection lost: ${err.message}`;
  return err.message;
}

/**
 * The one-line reason a check failed, safe for Slack: SQLSTATEs and socket errors
 * in plain words ("timed out after 5s (statement_timeout)"), never a connection
 * string or password (every message passes through redactSecrets), at most 300
 * characters.
 */
export function describeTriageError(err: unknown, timeouts: TriageTimeouts): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = sqlStateOf(err);
  const known = code ? describeSqlState(code, message, timeouts) : undefined;
  if (known) return cut(redactSecrets(known));
  const plain = err instanceof Error ? describeClientError(err, timeouts) : message;
  return cut(redactSecrets(code ? `${plain} (SQLSTATE ${code})` : plain));
}
