import { parse } from 'libpg-query';
import { AppError } from '../../shared/errors.js';

/** A SQL file cut into statements by PostgreSQL's own parser (libpg-query). */
export interface ParsedSql {
  /** Statements in file order, each as written (comments between statements dropped). */
  statements: string[];
  /**
   * Why the file cannot run inside a transaction block, one entry per statement that
   * PostgreSQL refuses there, e.g. `CREATE INDEX CONCURRENTLY` (PostgreSQL docs, "CREATE
   * INDEX": "a regular CREATE INDEX command can be performed within a transaction block,
   * but CREATE INDEX CONCURRENTLY cannot"; the same for VACUUM, CREATE DATABASE, …).
   */
  outsideTransaction: string[];
  /** The file's own `BEGIN`/`COMMIT` lines, left out: the bot runs the file in its own transaction with the tracking update. */
  droppedTransactionControl: number;
}

type Node = Record<string, Record<string, unknown>>;

/** Statement kinds PostgreSQL refuses inside a transaction block, and how to say them. */
function outsideTransactionReason(node: Node): string | null {
  const [kind, body] = Object.entries(node)[0] ?? [];
  if (!kind || !body) return null;
  const concurrently = body.concurrent === true;
  switch (kind) {
    case 'IndexStmt':
      return concurrently ? 'CREATE INDEX CONCURRENTLY' : null;
    case 'DropStmt':
      return concurrently ? 'DROP INDEX CONCURRENTLY' : null;
    case 'ReindexStmt': {
      const params = (body.params as Array<{ DefElem?: { defname?: string } }> | undefined) ?? [];
      return params.some((p) => p.DefElem?.defname === 'concurrently') ? 'REINDEX CONCURRENTLY' : null;
    }
    case 'VacuumStmt':
      return body.is_vacuumcmd === false ? null : 'VACUUM';
    case 'CreatedbStmt':
      return 'CREATE DATABASE';
    case 'DropdbStmt':
      return 'DROP DATABASE';
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM';
    case 'CreateTableSpaceStmt':
      return 'CREATE TABLESPACE';
    case 'DropTableSpaceStmt':
      return 'DROP TABLESPACE';
    default:
      return null;
  }
}

/**
 * Splits `sql` into statements with libpg-query and says which of them cannot run in a
 * transaction block. Slices by the parser's byte offsets (`stmt_location`, `stmt_len`, in
 * UTF-8 bytes), so string literals, dollar quoting and comments are handled as PostgreSQL
 * handles them. An empty or comment-only file gives no statements.
 * @param source file name for the error message
 * @throws AppError `migration_sql_unparseable` naming the file and the parser's message and position
 */
export async function parseSqlFile(sql: string, source: string): Promise<ParsedSql> {
  let tree: { stmts?: Array<{ stmt: Node; stmt_location?: number; stmt_len?: number }> };
  try {
    tree = (await parse(sql)) as typeof tree;
  } catch (cause) {
    const e = cause as { message?: string; sqlDetails?: { cursorPosition?: number } };
    const at = e.sqlDetails?.cursorPosition;
    throw new AppError({
      code: 'migration_sql_unparseable',
      message: `${source}: ${e.message ?? 'syntax error'}${at !== undefined ? ` at byte ${at}` : ''}`,
      cause,
      userMessage: `\`${source}\` is not valid SQL for PostgreSQL (${e.message ?? 'syntax error'}${at !== undefined ? `, at character ${at}` : ''}). Nothing was run.`,
    });
  }
  const bytes = Buffer.from(sql, 'utf8');
  const statements: string[] = [];
  const outsideTransaction: string[] = [];
  let droppedTransactionControl = 0;
  for (const s of tree.stmts ?? []) {
    const start = s.stmt_location ?? 0;
    const text = bytes
      .subarray(start, s.stmt_len ? start + s.stmt_len : bytes.length)
      .toString('utf8')
      .trim();
    if (!text) continue;
    const kind = Object.keys(s.stmt)[0];
    if (kind === 'TransactionStmt') {
      droppedTransactionControl += 1;
      continue;
    }
    statements.push(text);
    const reason = outsideTransactionReason(s.stmt);
    if (reason) outsideTransaction.push(reason);
  }
  return { statements, outsideTransaction, droppedTransactionControl };
}
