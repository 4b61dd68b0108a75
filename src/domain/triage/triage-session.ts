/**
 * The port a triage check queries through (DESIGN.md: the domain owns its ports;
 * `adapters/postgres/triage-session.ts` implements it with one `pg.Client`).
 * Every session is a `BEGIN READ ONLY` transaction with `statement_timeout` and
 * `lock_timeout` set locally, so nothing a check sends can write.
 */

/** Rows of one statement, with the column names in the order the server sent them. */
export interface TriageQueryResult<R = Record<string, unknown>> {
  rows: R[];
  columns: string[];
}

/** A read-only, time-bounded transaction on the service database. */
export interface TriageSession {
  /**
   * Runs one statement with bind parameters (`$1`, `$2`, …). Values always travel
   * as parameters, never as SQL text.
   * @throws the driver's error, carrying the SQLSTATE in `code` (read it with {@link sqlStateOf}).
   */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<TriageQueryResult<R>>;
  /**
   * Quotes an identifier that cannot be a parameter (tracking-table names from
   * services.yaml, relation names read from the catalog): `pg.escapeIdentifier`.
   */
  escapeIdentifier(name: string): string;
}

/** SQLSTATE of a database error (`57014`, `55P03`, …), or undefined for anything else. */
export function sqlStateOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** SQLSTATE 55P03 lock_not_available: `lock_timeout` expired (PostgreSQL Appendix A). */
export const SQLSTATE_LOCK_NOT_AVAILABLE = '55P03';
/** SQLSTATE 57014 query_canceled: `statement_timeout` expired or the query was cancelled. */
export const SQLSTATE_QUERY_CANCELED = '57014';
