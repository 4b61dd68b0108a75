import { downEffects } from '../verify/expected-objects.js';
import {
  asRangeVar,
  isObject,
  nameList,
  strings,
  visit,
  walkStatements,
  type Node,
  type ParsedStatement,
} from '../sql/parse-tree.js';
import { alterTable, qualified, type Collect } from './risk-alter-table.js';
import type { PlanStep } from './plan.js';
import type { PlanRisk, RiskFinding, StepRisk } from './risk-model.js';

export type {
  ConstraintSpec,
  PlanRisk,
  RiskClass,
  RiskFigure,
  RiskFinding,
  RiskTarget,
  StepRisk,
} from './risk-model.js';

const DROP_DATA: Record<string, string> = {
  OBJECT_TABLE: 'table',
  OBJECT_MATVIEW: 'materialized view',
  OBJECT_SCHEMA: 'schema',
  OBJECT_TYPE: 'type',
  OBJECT_DOMAIN: 'domain',
  OBJECT_SEQUENCE: 'sequence',
};

function dropStatement(st: ParsedStatement, add: Collect): void {
  const removeType = String(st.body.removeType);
  const objects = Array.isArray(st.body.objects) ? st.body.objects : [];
  const cascade = st.body.behavior === 'DROP_CASCADE' ? ' CASCADE (and every object that depends on it)' : '';
  for (const obj of objects) {
    let names = nameList(obj);
    if (!names.length && isObject(obj) && isObject(obj.TypeName)) names = strings(obj.TypeName.names);
    if (!names.length && isObject(obj) && isObject(obj.String)) names = [String(obj.String.sval)];
    const name = names[names.length - 1] ?? '?';
    const schema = names.length >= 2 ? names[names.length - 2]! : null;
    if (removeType === 'OBJECT_POLICY') {
      const table = names.slice(0, -1);
      const t = { schema: table.length >= 2 ? table[table.length - 2]! : null, name: table[table.length - 1] ?? '?' };
      add({
        class: 'security',
        what: `drops policy \`${name}\` on ${qualified(t.schema, t.name)}: removes row-level security`,
        target: { ...t, measure: 'policies' },
      });
    } else if (removeType === 'OBJECT_ROLE') {
      add({ class: 'security', what: `drops role ${name}` });
    } else if (DROP_DATA[removeType]) {
      const kind = DROP_DATA[removeType]!;
      const measured = removeType === 'OBJECT_TABLE' || removeType === 'OBJECT_MATVIEW';
      add({
        class: 'data_loss',
        what: `drops ${kind} ${qualified(schema, name)}${cascade}`,
        ...(measured ? { target: { schema, name, measure: 'rows' as const } } : {}),
      });
    } else if (removeType === 'OBJECT_INDEX' && st.body.concurrent !== true) {
      add({
        class: 'blocking',
        what: `drops index ${qualified(schema, name)} without CONCURRENTLY: an ACCESS EXCLUSIVE lock on its table`,
      });
    }
  }
}

function hasWhere(body: Node): boolean {
  return body.whereClause !== undefined;
}

async function classifyStatement(st: ParsedStatement, add: Collect): Promise<void> {
  const { type, body } = st;
  switch (type) {
    case 'DropStmt':
      return dropStatement(st, add);
    case 'AlterTableStmt':
      if (body.objtype === 'OBJECT_TABLE' || body.objtype === undefined) return alterTable(st, add);
      return;
    case 'TruncateStmt':
      for (const r of Array.isArray(body.relations) ? body.relations : []) {
        const rv = asRangeVar(r);
        if (rv)
          add({
            class: 'data_loss',
            what: `empties table ${qualified(rv.schemaname, rv.relname)} (TRUNCATE)`,
            target: { schema: rv.schemaname ?? null, name: rv.relname, measure: 'rows' },
          });
      }
      return;
    case 'DeleteStmt':
    case 'UpdateStmt': {
      const rv = asRangeVar(body.relation);
      if (rv && !hasWhere(body)) {
        add({
          class: 'data_loss',
          what: `${type === 'DeleteStmt' ? 'deletes every row of' : 'rewrites every row of'} ${qualified(rv.schemaname, rv.relname)} (no WHERE)`,
          target: { schema: rv.schemaname ?? null, name: rv.relname, measure: 'rows' },
        });
      }
      return;
    }
    case 'DropRoleStmt':
      for (const r of Array.isArray(body.roles) ? body.roles : []) {
        const role = isObject(r) && isObject(r.RoleSpec) ? String(r.RoleSpec.rolename) : '?';
        add({ class: 'security', what: `drops role ${role}` });
      }
      return;
    case 'GrantStmt':
    case 'GrantRoleStmt': {
      const verb = body.is_grant === true ? 'grants' : 'revokes';
      const objs = (Array.isArray(body.objects) ? body.objects : []).flatMap((o) => {
        const rv = asRangeVar(o);
        return rv ? [qualified(rv.schemaname, rv.relname)] : [];
      });
      const who = (Array.isArray(body.grantees) ? body.grantees : []).flatMap((g) =>
        isObject(g) && isObject(g.RoleSpec) ? [String(g.RoleSpec.rolename ?? g.RoleSpec.roletype)] : [],
      );
      add({
        class: 'security',
        what: `${verb} privileges${objs.length ? ` on ${objs.join(', ')}` : ''}${who.length ? ` ${verb === 'grants' ? 'to' : 'from'} ${who.join(', ')}` : ''}`,
      });
      return;
    }
    case 'AlterOwnerStmt':
      add({
        class: 'security',
        what: `changes the owner of ${String(body.objectType)
          .replace(/^OBJECT_/, '')
          .toLowerCase()} to ${isObject(body.newowner) ? String(body.newowner.rolename) : '?'}`,
      });
      return;
    case 'CreateFunctionStmt': {
      const definer = (Array.isArray(body.options) ? body.options : []).some(
        (o) =>
          isObject(o) &&
          isObject(o.DefElem) &&
          o.DefElem.defname === 'security' &&
          isObject(o.DefElem.arg) &&
          isObject(o.DefElem.arg.Boolean) &&
          o.DefElem.arg.Boolean.boolval === true,
      );
      if (definer)
        add({
          class: 'security',
          what: `creates SECURITY DEFINER function ${strings(body.funcname).join('.')}: it runs with its owner's rights`,
        });
      return;
    }
    case 'IndexStmt': {
      const rv = asRangeVar(body.relation);
      if (rv && body.concurrent !== true) {
        add({
          class: 'blocking',
          what: `builds index ${typeof body.idxname === 'string' ? `${body.idxname} ` : ''}on ${qualified(rv.schemaname, rv.relname)} without CONCURRENTLY: writes wait until it is built`,
          target: { schema: rv.schemaname ?? null, name: rv.relname, measure: 'rows' },
        });
      }
      return;
    }
    default: {
      // Data-modifying CTEs: WITH d AS (DELETE FROM t) SELECT … — the nested statement counts.
      const nested: Array<[string, Node]> = [];
      visit(body, (n) => {
        for (const [k, v] of Object.entries(n))
          if ((k === 'DeleteStmt' || k === 'UpdateStmt') && isObject(v)) nested.push([k, v]);
      });
      for (const [k, v] of nested) await classifyStatement({ ...st, type: k, body: v, node: { [k]: v } }, add);
    }
  }
}

/**
 * Classifies SQL statements (a step's down or its up) with PostgreSQL's parser.
 * Unparseable SQL and dynamic SQL in DO blocks give `unknown` findings — never silence.
 * @param sql statements as captured by the migrations adapter
 */
export async function classifySql(sql: readonly string[], source: 'down' | 'up'): Promise<RiskFinding[]> {
  const findings: RiskFinding[] = [];
  const pending: Promise<void>[] = [];
  const problems = await walkStatements(sql, (st) => {
    pending.push(classifyStatement(st, (f) => findings.push({ ...f, source, statement: st.index })));
  });
  await Promise.all(pending);
  for (const p of problems) {
    const index = Number(/^SQL (\d+)/.exec(p)?.[1] ?? 0) - 1;
    findings.push({ class: 'unknown', what: `${source === 'up' ? 'up ' : ''}${p}`, source, statement: index });
  }
  return findings.sort((a, b) => a.statement - b.statement);
}

/**
 * The risk of one plan step: its down's statements, the step's own irreversibility, and what
 * its up destroyed that the down cannot bring back (runbook 003 "irreversible destructive
 * changes"): data lost when the up ran is not in the table the down recreates.
 */
export async function classifyStep(step: PlanStep): Promise<StepRisk> {
  const findings: RiskFinding[] = [];
  if (step.irreversible)
    findings.push({ class: 'irreversible', what: step.irreversible, source: 'down', statement: -1 });
  else if (step.sql.length === 0)
    findings.push({
      class: 'unknown',
      what: 'its down SQL could not be captured, so what it does is unknown',
      source: 'down',
      statement: -1,
    });
  findings.push(...(await classifySql(step.sql, 'down')));
  if (step.upSql?.length) {
    for (const f of await classifySql(step.upSql, 'up')) {
      if (f.class !== 'data_loss') continue;
      findings.push({
        class: 'irreversible',
        what: `its up ${f.what}; the down cannot bring that data back — only the snapshot or a backup from before the migration can`,
        source: 'up',
        statement: f.statement,
      });
    }
  }
  return { migration: step.migration, findings };
}

/** `table` or `table.column`, schema left out (search_path decides, as in the migrations). */
const objectName = (o: { kind: string; name: string; table?: string }): string | null =>
  o.kind === 'table' ? o.name : o.kind === 'column' && o.table ? `${o.table}.${o.name}` : null;

/**
 * Classifies every step of a plan (newest first, as the plan runs), following the plan step by
 * step: a table or column that an earlier step's down drops or recreates is marked on the later
 * findings about it (`earlier`), so its figure says what that step will meet — nothing to lose,
 * or a column recreated empty — instead of what the database holds now.
 */
export async function classifyPlan(plan: readonly PlanStep[]): Promise<PlanRisk> {
  const steps = await Promise.all(plan.map(classifyStep));
  const effects = await Promise.all(plan.map((s) => downEffects(s)));
  const before = new Map<string, { change: 'dropped' | 'recreated'; migration: string }>();
  return {
    steps: steps.map((step, i) => {
      const findings = step.findings.map((f) => {
        if (f.source !== 'down' || !f.target) return f;
        const table = before.get(f.target.name);
        const earlier = (f.target.column ? before.get(`${f.target.name}.${f.target.column}`) : undefined) ?? table;
        return earlier ? { ...f, earlier } : f;
      });
      for (const o of effects[i] ?? []) {
        const name = objectName(o);
        if (name) before.set(name, { change: o.present ? 'recreated' : 'dropped', migration: plan[i]!.migration });
      }
      return { ...step, findings };
    }),
  };
}

/** A step the bot must not run at all: no down, `down = false`, or a down that threw while captured. */
export function blockingIrreversible(risk: PlanRisk): RiskFinding[] {
  return risk.steps.flatMap((s) => s.findings.filter((f) => f.class === 'irreversible' && f.source === 'down'));
}

/** Data loss, security or irreversibility anywhere: the plan needs `approvals.destructive` and the typed confirmation. */
export function isDestructive(risk: PlanRisk): boolean {
  return risk.steps.some((s) =>
    s.findings.some((f) => f.class === 'data_loss' || f.class === 'security' || f.class === 'irreversible'),
  );
}
