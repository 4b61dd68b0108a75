import { parse, parsePlPgSQL } from 'libpg-query';

/**
 * Walking PostgreSQL parse trees from libpg-query (the real parser, WASM): the one place that
 * turns captured SQL into statements, DO blocks included, for triage's touched relations and
 * the plan's risk classification. Node shapes are PostgreSQL's own (`src/include/nodes/parsenodes.h`):
 * a node is `{ TypeName: { ...fields } }`, a field typed as a node is often the bare inner object.
 */

/** A parse-tree node or the inner object of one. */
export type Node = Record<string, unknown>;

export const isObject = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Depth-first visit of every object node in a parse tree. */
export function visit(v: unknown, fn: (node: Node) => void): void {
  if (Array.isArray(v)) {
    for (const item of v) visit(item, fn);
  } else if (isObject(v)) {
    fn(v);
    for (const child of Object.values(v)) visit(child, fn);
  }
}

/** Names of a `List` of `String` nodes: `{ List: { items: [{ String: { sval } }] } }`. */
export function nameList(v: unknown): string[] {
  const items = isObject(v) && isObject(v.List) && Array.isArray(v.List.items) ? v.List.items : [];
  return strings(items);
}

/** `sval`s of an array of `String` nodes (e.g. a column list `fk_attrs`). */
export function strings(v: unknown): string[] {
  const items = Array.isArray(v) ? v : [];
  return items.flatMap((i) =>
    isObject(i) && isObject(i.String) && typeof i.String.sval === 'string' ? [i.String.sval] : [],
  );
}

/** A RangeVar, wrapped (`{ RangeVar: {...} }`) or bare (a field typed RangeVar, e.g. `relation`). */
export function asRangeVar(v: unknown): { schemaname?: string; relname: string; location?: number } | undefined {
  const inner = isObject(v) && isObject(v.RangeVar) ? v.RangeVar : v;
  if (isObject(inner) && typeof inner.relname === 'string' && typeof inner.relpersistence === 'string') {
    return inner as { schemaname?: string; relname: string };
  }
  return undefined;
}

/** UTF-8 slice of `sql` at the parser's byte offsets (`stmt_location`, `stmt_len`; 0 = to the end). */
export function statementText(sql: string, location: unknown, length: unknown): string {
  const bytes = Buffer.from(sql, 'utf8');
  const start = typeof location === 'number' ? location : 0;
  const end = typeof length === 'number' && length > 0 ? start + length : bytes.length;
  return bytes.subarray(start, end).toString('utf8');
}

/** One top-level statement, or one statement inside a DO block. */
export interface ParsedStatement {
  /** Index of the SQL text it came from (a plan step's `sql[i]`). */
  index: number;
  /** `SQL 2`, `SQL 2, DO statement 1`: where it is, for people. */
  label: string;
  /** The node type, e.g. `DropStmt`, `AlterTableStmt`. */
  type: string;
  body: Node;
  /** The statement's own text. */
  text: string;
  /** The text the parser read; the tree's `location` fields are UTF-8 byte offsets into it. */
  source: string;
  /** The whole node (`{ [type]: body }`), for visiting nested statements such as data-modifying CTEs. */
  node: Node;
}

/** How deep DO blocks may nest DO blocks before we stop (they never should). */
const MAX_DO_DEPTH = 3;

async function walkDoBlock(
  doText: string,
  index: number,
  label: string,
  fn: (s: ParsedStatement) => void,
  problems: string[],
  depth: number,
): Promise<void> {
  let tree: unknown;
  try {
    tree = await parsePlPgSQL(doText);
  } catch (err) {
    problems.push(`${label}: DO block not analysed (${(err as Error).message})`);
    return;
  }
  const inner: string[] = [];
  let dynamic = 0;
  visit(tree, (node) => {
    const exec = node.PLpgSQL_stmt_execsql;
    if (isObject(exec) && isObject(exec.sqlstmt) && isObject(exec.sqlstmt.PLpgSQL_expr)) {
      const query = exec.sqlstmt.PLpgSQL_expr.query;
      if (typeof query === 'string') inner.push(query);
    }
    if ('PLpgSQL_stmt_dynexecute' in node) dynamic += 1;
  });
  if (dynamic > 0) problems.push(`${label}: DO block runs dynamic SQL (EXECUTE) that cannot be analysed`);
  for (const [i, query] of inner.entries())
    await walkSql(query, index, `${label}, DO statement ${i + 1}`, fn, problems, depth + 1);
}

async function walkSql(
  sql: string,
  index: number,
  label: string,
  fn: (s: ParsedStatement) => void,
  problems: string[],
  depth: number,
): Promise<void> {
  let tree: { stmts?: Array<{ stmt?: unknown; stmt_location?: number; stmt_len?: number }> };
  try {
    tree = (await parse(sql)) as typeof tree;
  } catch (err) {
    problems.push(`${label}: not parsed (${(err as Error).message})`);
    return;
  }
  for (const raw of tree.stmts ?? []) {
    if (!isObject(raw.stmt)) continue;
    const [type, body] = Object.entries(raw.stmt)[0] ?? [];
    if (!type || !isObject(body)) continue;
    const text = statementText(sql, raw.stmt_location, raw.stmt_len);
    if (type === 'DoStmt') {
      if (depth >= MAX_DO_DEPTH) problems.push(`${label}: DO blocks nested too deep; not analysed`);
      else await walkDoBlock(text, index, label, fn, problems, depth);
      continue;
    }
    fn({ index, label, type, body, text, source: sql, node: raw.stmt });
  }
}

/**
 * Parses each SQL text (one or more statements each) with PostgreSQL's parser and calls `fn`
 * for every statement, the statements of DO blocks included (PL/pgSQL parser). Never throws
 * on bad SQL: what does not parse, and DO blocks running dynamic SQL, come back as problems.
 * @returns problems, each naming where (`SQL 2: not parsed (syntax error at or near "DROPP")`)
 */
export async function walkStatements(sql: readonly string[], fn: (s: ParsedStatement) => void): Promise<string[]> {
  const problems: string[] = [];
  for (const [i, text] of sql.entries()) await walkSql(text, i, `SQL ${i + 1}`, fn, problems, 0);
  return problems;
}
