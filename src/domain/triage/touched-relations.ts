import { asRangeVar, isObject, nameList, visit, walkStatements, type Node } from '../sql/parse-tree.js';

/**
 * Which relations the offending migration's down SQL touches (runbook 003
 * "Initial triage": "Estimate scope/impact: affected queries, tables, rows").
 * Names come from PostgreSQL's own parser (libpg-query), never from string
 * matching: RangeVar nodes anywhere in the tree, the objects of DROP statements
 * (TABLE, INDEX, VIEW, MATERIALIZED VIEW, SEQUENCE, FOREIGN TABLE; the table of
 * DROP POLICY / TRIGGER / RULE), and the statements inside DO blocks.
 */

/** What kind of relation the SQL says it is (`relation` when the statement does not say). */
export type RelationKind = 'table' | 'index' | 'view' | 'materialized_view' | 'sequence' | 'foreign_table' | 'relation';

/** What the SQL does to it. `reference`: named in a FROM, a REFERENCES clause, a GRANT, … */
export type TouchAction = 'drop' | 'truncate' | 'write' | 'alter' | 'create' | 'rename' | 'lock' | 'reference';

/** One relation named by the SQL. `schema` is null when the SQL does not qualify it (search_path decides). */
export interface TouchedRelation {
  schema: string | null;
  name: string;
  kind: RelationKind;
  /** Every action the SQL takes on it, in first-seen order, without repeats. */
  actions: TouchAction[];
}

/** Relations in first-seen order, and what could not be analysed (parse errors, dynamic SQL). */
export interface TouchedRelationsResult {
  relations: TouchedRelation[];
  problems: string[];
}

/** `schema.name`, or `name` when unqualified; as written, not quoted. */
export function qualifiedName(r: Pick<TouchedRelation, 'schema' | 'name'>): string {
  return r.schema ? `${r.schema}.${r.name}` : r.name;
}

const DROP_KINDS: Record<string, RelationKind> = {
  OBJECT_TABLE: 'table',
  OBJECT_INDEX: 'index',
  OBJECT_VIEW: 'view',
  OBJECT_MATVIEW: 'materialized_view',
  OBJECT_SEQUENCE: 'sequence',
  OBJECT_FOREIGN_TABLE: 'foreign_table',
};
/** DROP POLICY / TRIGGER / RULE name ON table: the last name is the object, the rest the table. */
const DROP_ON_TABLE = new Set(['OBJECT_POLICY', 'OBJECT_TRIGGER', 'OBJECT_RULE']);

class Collector {
  private readonly byKey = new Map<string, TouchedRelation>();
  readonly problems: string[] = [];

  add(schema: string | null | undefined, name: string, kind: RelationKind, action: TouchAction): void {
    const key = `${schema ?? ''}\u0000${name}`;
    const found = this.byKey.get(key);
    if (!found) {
      this.byKey.set(key, { schema: schema || null, name, kind, actions: [action] });
      return;
    }
    if (found.kind === 'relation' && kind !== 'relation') found.kind = kind;
    if (!found.actions.includes(action)) found.actions.push(action);
  }

  addNames(names: string[], kind: RelationKind, action: TouchAction): void {
    const name = names[names.length - 1];
    if (name) this.add(names.length >= 2 ? names[names.length - 2] : null, name, kind, action);
  }

  result(): TouchedRelationsResult {
    return { relations: [...this.byKey.values()], problems: this.problems };
  }
}

/** Relations the statement acts on directly (not mere references), with the action and kind. */
function primaryTargets(type: string, body: Node): Array<{ rv: unknown; kind: RelationKind; action: TouchAction }> {
  const objKind = (t: unknown): RelationKind => (typeof t === 'string' && DROP_KINDS[t]) || 'relation';
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
  switch (type) {
    case 'AlterTableStmt':
      return [{ rv: body.relation, kind: objKind(body.objtype), action: 'alter' }];
    case 'RenameStmt': {
      const kind = DROP_KINDS[String(body.renameType)];
      return [{ rv: body.relation, kind: kind ?? 'relation', action: kind ? 'rename' : 'alter' }];
    }
    case 'CreateStmt':
      return [{ rv: body.relation, kind: 'table', action: 'create' }];
    case 'CreateForeignTableStmt':
      return [{ rv: isObject(body.base) ? body.base.relation : undefined, kind: 'foreign_table', action: 'create' }];
    case 'ViewStmt':
      return [{ rv: body.view, kind: 'view', action: 'create' }];
    case 'CreateTableAsStmt':
      return [{ rv: isObject(body.into) ? body.into.rel : undefined, kind: objKind(body.objtype), action: 'create' }];
    case 'CreateSeqStmt':
      return [{ rv: body.sequence, kind: 'sequence', action: 'create' }];
    case 'AlterSeqStmt':
      return [{ rv: body.sequence, kind: 'sequence', action: 'alter' }];
    case 'IndexStmt':
      return [{ rv: body.relation, kind: 'relation', action: 'alter' }];
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt':
      return [{ rv: body.relation, kind: 'relation', action: 'write' }];
    case 'TruncateStmt':
      return list(body.relations).map((rv) => ({ rv, kind: 'table' as const, action: 'truncate' as const }));
    case 'LockStmt':
      return list(body.relations).map((rv) => ({ rv, kind: 'relation' as const, action: 'lock' as const }));
    case 'CreateTrigStmt':
    case 'RuleStmt':
      return [{ rv: body.relation, kind: 'relation', action: 'alter' }];
    case 'CreatePolicyStmt':
    case 'AlterPolicyStmt':
      return [{ rv: body.table, kind: 'table', action: 'alter' }];
    default:
      return [];
  }
}

function collectDrop(body: Node, out: Collector): void {
  const removeType = String(body.removeType);
  const kind = DROP_KINDS[removeType];
  for (const obj of Array.isArray(body.objects) ? body.objects : []) {
    const names = nameList(obj);
    if (kind) out.addNames(names, kind, 'drop');
    else if (DROP_ON_TABLE.has(removeType) && names.length >= 2) out.addNames(names.slice(0, -1), 'table', 'alter');
  }
}

/** Adds what one statement acts on and names. */
function collectStatement(node: Node, body: Node, out: Collector): void {
  // The statement itself and any nested one (data-modifying CTEs: WITH d AS (DELETE …)).
  const primary = new Set<unknown>();
  visit(node, (n) => {
    for (const [stmtType, stmtBody] of Object.entries(n)) {
      if (!stmtType.endsWith('Stmt') || !isObject(stmtBody)) continue;
      if (stmtType === 'DropStmt') collectDrop(stmtBody, out);
      for (const target of primaryTargets(stmtType, stmtBody)) {
        const rv = asRangeVar(target.rv);
        if (!rv) continue;
        primary.add(rv);
        out.add(rv.schemaname, rv.relname, target.kind, target.action);
        if (stmtType === 'IndexStmt' && typeof stmtBody.idxname === 'string')
          out.add(rv.schemaname, stmtBody.idxname, 'index', 'create');
      }
    }
  });

  const cteNames = new Set<string>();
  visit(body, (n) => {
    if (isObject(n.CommonTableExpr) && typeof n.CommonTableExpr.ctename === 'string')
      cteNames.add(n.CommonTableExpr.ctename);
  });
  visit(body, (n) => {
    if (isObject(n.RangeVar)) return; // its bare inner object is visited next
    const rv = asRangeVar(n);
    if (!rv || primary.has(rv)) return;
    if (!rv.schemaname && cteNames.has(rv.relname)) return;
    out.add(rv.schemaname, rv.relname, 'relation', 'reference');
  });
}

/**
 * Parses each SQL text (one or more statements each) with PostgreSQL's parser and
 * lists the relations it names. Never throws on bad SQL: statements that do not
 * parse, and DO blocks running dynamic SQL, are listed in `problems`.
 *
 * @param sql the down migration's statements, as captured by the migrations adapter
 * @returns relations deduplicated by (schema as written, name), in first-seen order
 */
export async function extractTouchedRelations(sql: readonly string[]): Promise<TouchedRelationsResult> {
  const out = new Collector();
  out.problems.push(...(await walkStatements(sql, (st) => collectStatement(st.node, st.body, out))));
  return out.result();
}
