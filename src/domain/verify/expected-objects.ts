import type { PlanStep } from '../rollback/plan.js';
import { asRangeVar, isObject, nameList, strings, walkStatements, type ParsedStatement } from '../sql/parse-tree.js';

/** Kinds of schema objects verification looks up in the catalogs. */
export type ObjectKind =
  | 'table'
  | 'view'
  | 'materialized_view'
  | 'index'
  | 'sequence'
  | 'column'
  | 'constraint'
  | 'type'
  | 'policy'
  | 'function';

/** One object the rollback should have left present or absent (runbook 003 "Post-rollback verification": objects gone). */
export interface ExpectedObject {
  kind: ObjectKind;
  /** As written in the SQL; null: search_path decides. */
  schema: string | null;
  /** The object's name (for columns, constraints and policies: the column's, constraint's, policy's). */
  name: string;
  /** The table a column, constraint or policy belongs to. */
  table?: string;
  present: boolean;
  /** Why, for people: "the down of `007_x.ts` drops it", "the up of `008_x.ts` created it". */
  because: string;
}

const RELATION_KINDS: Record<string, ObjectKind> = {
  OBJECT_TABLE: 'table',
  OBJECT_VIEW: 'view',
  OBJECT_MATVIEW: 'materialized_view',
  OBJECT_INDEX: 'index',
  OBJECT_SEQUENCE: 'sequence',
  OBJECT_TYPE: 'type',
  OBJECT_DOMAIN: 'type',
  OBJECT_FUNCTION: 'function',
  OBJECT_PROCEDURE: 'function',
};

const key = (o: Pick<ExpectedObject, 'kind' | 'schema' | 'name' | 'table'>): string =>
  `${o.kind}\u0000${o.schema ?? ''}\u0000${o.table ?? ''}\u0000${o.name}`;

type Emit = (o: Omit<ExpectedObject, 'because'>) => void;

/** Objects one statement creates (present: true) or removes (present: false). */
function objectsOf(st: ParsedStatement, emit: Emit): void {
  const { type, body } = st;
  const rel = (v: unknown) => asRangeVar(v);
  switch (type) {
    case 'CreateStmt': {
      const r = rel(body.relation);
      if (r) emit({ kind: 'table', schema: r.schemaname ?? null, name: r.relname, present: true });
      return;
    }
    case 'ViewStmt': {
      const r = rel(body.view);
      if (r) emit({ kind: 'view', schema: r.schemaname ?? null, name: r.relname, present: true });
      return;
    }
    case 'CreateTableAsStmt': {
      const r = isObject(body.into) ? rel(body.into.rel) : undefined;
      if (r && body.objtype === 'OBJECT_MATVIEW')
        emit({ kind: 'materialized_view', schema: r.schemaname ?? null, name: r.relname, present: true });
      return;
    }
    case 'IndexStmt': {
      const r = rel(body.relation);
      if (r && typeof body.idxname === 'string')
        emit({ kind: 'index', schema: r.schemaname ?? null, name: body.idxname, present: true });
      return;
    }
    case 'CreateSeqStmt': {
      const r = rel(body.sequence);
      if (r) emit({ kind: 'sequence', schema: r.schemaname ?? null, name: r.relname, present: true });
      return;
    }
    case 'CreateEnumStmt':
    case 'CompositeTypeStmt':
    case 'CreateDomainStmt': {
      const typevar = type === 'CompositeTypeStmt' ? rel(body.typevar) : undefined;
      const names = typevar
        ? [typevar.schemaname, typevar.relname].filter((n): n is string => Boolean(n))
        : strings(type === 'CreateEnumStmt' ? body.typeName : body.domainname);
      const name = names[names.length - 1];
      if (name) emit({ kind: 'type', schema: names.length > 1 ? names[names.length - 2]! : null, name, present: true });
      return;
    }
    case 'CreateFunctionStmt': {
      const names = strings(body.funcname);
      const name = names[names.length - 1];
      if (name)
        emit({ kind: 'function', schema: names.length > 1 ? names[names.length - 2]! : null, name, present: true });
      return;
    }
    case 'CreatePolicyStmt': {
      const r = rel(body.table);
      if (r && typeof body.policy_name === 'string')
        emit({ kind: 'policy', schema: r.schemaname ?? null, table: r.relname, name: body.policy_name, present: true });
      return;
    }
    case 'DropStmt': {
      const removeType = String(body.removeType);
      for (const obj of Array.isArray(body.objects) ? body.objects : []) {
        let names = nameList(obj);
        if (!names.length && isObject(obj) && isObject(obj.TypeName)) names = strings(obj.TypeName.names);
        if (!names.length && isObject(obj) && isObject(obj.ObjectWithArgs)) names = strings(obj.ObjectWithArgs.objname);
        const name = names[names.length - 1];
        if (!name) continue;
        if (removeType === 'OBJECT_POLICY' && names.length >= 2) {
          const table = names.slice(0, -1);
          emit({
            kind: 'policy',
            schema: table.length > 1 ? table[0]! : null,
            table: table[table.length - 1]!,
            name,
            present: false,
          });
        } else if (RELATION_KINDS[removeType]) {
          emit({
            kind: RELATION_KINDS[removeType]!,
            schema: names.length > 1 ? names[names.length - 2]! : null,
            name,
            present: false,
          });
        }
      }
      return;
    }
    case 'AlterTableStmt': {
      const r = rel(body.relation);
      if (!r) return;
      const base = { schema: r.schemaname ?? null, table: r.relname };
      for (const c of Array.isArray(body.cmds) ? body.cmds : []) {
        const cmd = isObject(c) && isObject(c.AlterTableCmd) ? c.AlterTableCmd : null;
        if (!cmd) continue;
        const def = isObject(cmd.def) ? cmd.def : undefined;
        switch (cmd.subtype) {
          case 'AT_AddColumn': {
            const col = isObject(def?.ColumnDef) ? def.ColumnDef.colname : undefined;
            if (typeof col === 'string') emit({ ...base, kind: 'column', name: col, present: true });
            break;
          }
          case 'AT_DropColumn':
            if (typeof cmd.name === 'string') emit({ ...base, kind: 'column', name: cmd.name, present: false });
            break;
          case 'AT_AddConstraint': {
            const con = isObject(def?.Constraint) ? def.Constraint : undefined;
            if (typeof con?.conname === 'string')
              emit({ ...base, kind: 'constraint', name: con.conname, present: true });
            break;
          }
          case 'AT_DropConstraint':
            if (typeof cmd.name === 'string') emit({ ...base, kind: 'constraint', name: cmd.name, present: false });
            break;
        }
      }
      return;
    }
    default:
  }
}

/**
 * Objects one step's down creates (`present: true`) or drops (`present: false`), in the order
 * its statements run; what cannot be parsed is left out.
 */
export async function downEffects(step: Pick<PlanStep, 'sql'>): Promise<Array<Omit<ExpectedObject, 'because'>>> {
  const out: Array<Omit<ExpectedObject, 'because'>> = [];
  await walkStatements(step.sql, (st) => objectsOf(st, (o) => out.push(o)));
  return out;
}

/**
 * What the schema should look like after the plan ran, object by object, from the parsed SQL:
 * every object a reverted up created is gone, unless a down recreates it; every object a down
 * creates exists and every one it drops is gone (the last statement about an object wins, in
 * the order the downs run). Objects named only by dynamic SQL are not known.
 * @param plan steps newest first, as they run, with `upSql` where it was captured
 * @returns expectations, and what could not be parsed
 */
export async function expectedObjects(
  plan: readonly PlanStep[],
): Promise<{ objects: ExpectedObject[]; problems: string[] }> {
  const fromDowns = new Map<string, ExpectedObject>();
  const fromUps = new Map<string, ExpectedObject>();
  const problems: string[] = [];
  for (const step of plan) {
    const downProblems = await walkStatements(step.sql, (st) =>
      objectsOf(st, (o) => {
        fromDowns.delete(key(o)); // re-insert: last wins, in run order
        fromDowns.set(key(o), {
          ...o,
          because: `the down of \`${step.migration}\` ${o.present ? 'creates' : 'drops'} it`,
        });
      }),
    );
    problems.push(...downProblems.map((p) => `\`${step.migration}\` down: ${p}`));
    const upProblems = await walkStatements(step.upSql ?? [], (st) =>
      objectsOf(st, (o) => {
        if (o.present && !fromUps.has(key(o)))
          fromUps.set(key(o), {
            ...o,
            present: false,
            because: `the up of \`${step.migration}\` created it and the rollback reverts that up`,
          });
      }),
    );
    problems.push(...upProblems.map((p) => `\`${step.migration}\` up: ${p}`));
  }
  const objects = [...fromDowns.values()];
  for (const [k, o] of fromUps) if (!fromDowns.has(k)) objects.push(o);
  return { objects, problems };
}
