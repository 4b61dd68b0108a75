import { scan } from 'libpg-query';
import { asRangeVar, isObject, strings, type Node, type ParsedStatement } from '../sql/parse-tree.js';
import type { ConstraintSpec, RiskFinding } from './risk-model.js';

/**
 * The ALTER TABLE part of the risk classifier (`risk.ts`): each subcommand's finding — dropped
 * columns, narrowing type changes and rewrites, constraint re-adds with what the figures query
 * needs (the CHECK expression as written, the FOREIGN KEY target), row-level security and
 * ownership changes, and ACCESS EXCLUSIVE scans.
 */

/** Adds a finding of the statement being classified. */
export type Collect = (f: Omit<RiskFinding, 'source' | 'statement'>) => void;

export const qualified = (schema: string | null | undefined, name: string): string =>
  schema ? `${schema}.${name}` : name;

/** Integer and float widths, narrowest first: a change to an earlier one narrows. */
const NARROW_TYPES = new Set(['int2', 'int4', 'float4', 'date', 'bool']);

/** The CHECK expression of a constraint, as written: the balanced parentheses after CHECK, found with PostgreSQL's scanner. */
async function checkExpression(text: string, constraintLocation: number): Promise<string | undefined> {
  const bytes = Buffer.from(text, 'utf8');
  const tokens = (await scan(bytes.subarray(constraintLocation).toString('utf8'))).tokens;
  const at = tokens.findIndex((t) => t.text.toUpperCase() === 'CHECK');
  if (at < 0 || tokens[at + 1]?.text !== '(') return undefined;
  let depth = 0;
  const tail = Buffer.from(bytes.subarray(constraintLocation));
  for (let i = at + 1; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.text === '(') depth++;
    if (t.text === ')' && --depth === 0)
      return tail
        .subarray(tokens[at + 1]!.end, t.start)
        .toString('utf8')
        .trim();
  }
  return undefined;
}

async function constraintSpec(def: Node, text: string, column?: string): Promise<ConstraintSpec | null> {
  const type = String(def.contype);
  const name = typeof def.conname === 'string' ? def.conname : undefined;
  const base = { ...(name ? { name } : {}) };
  switch (type) {
    case 'CONSTR_CHECK': {
      const expression = typeof def.location === 'number' ? await checkExpression(text, def.location) : undefined;
      return { ...base, type: 'check', columns: column ? [column] : [], ...(expression ? { expression } : {}) };
    }
    case 'CONSTR_NOTNULL':
      return column ? { ...base, type: 'not_null', columns: [column] } : null;
    case 'CONSTR_UNIQUE':
    case 'CONSTR_PRIMARY':
      return {
        ...base,
        type: type === 'CONSTR_UNIQUE' ? 'unique' : 'primary_key',
        columns: column ? [column] : strings(def.keys),
      };
    case 'CONSTR_FOREIGN': {
      const pk = asRangeVar(def.pktable);
      if (!pk) return null;
      return {
        ...base,
        type: 'foreign_key',
        columns: column ? [column] : strings(def.fk_attrs),
        references: { schema: pk.schemaname ?? null, table: pk.relname, columns: strings(def.pk_attrs) },
      };
    }
    default:
      return null;
  }
}

const CONSTRAINT_WORDS: Record<ConstraintSpec['type'], string> = {
  check: 'CHECK',
  not_null: 'NOT NULL',
  unique: 'UNIQUE',
  primary_key: 'PRIMARY KEY',
  foreign_key: 'FOREIGN KEY',
  new_not_null_column: 'NOT NULL column without a default',
};

/** Findings of one ALTER TABLE statement, subcommand by subcommand. */
export async function alterTable(st: ParsedStatement, add: Collect): Promise<void> {
  const rv = asRangeVar(st.body.relation);
  if (!rv) return;
  const table = qualified(rv.schemaname, rv.relname);
  const target = { schema: rv.schemaname ?? null, name: rv.relname };
  let locksTable = false;
  for (const c of Array.isArray(st.body.cmds) ? st.body.cmds : []) {
    const cmd = isObject(c) && isObject(c.AlterTableCmd) ? c.AlterTableCmd : null;
    if (!cmd) continue;
    const sub = String(cmd.subtype);
    const col = typeof cmd.name === 'string' ? cmd.name : undefined;
    const def = isObject(cmd.def) ? cmd.def : undefined;
    switch (sub) {
      case 'AT_DropColumn':
        add({
          class: 'data_loss',
          what: `drops column ${table}.${col}`,
          target: { ...target, column: col, measure: 'values' },
        });
        break;
      case 'AT_AlterColumnType': {
        const typeName =
          isObject(def?.ColumnDef) && isObject(def.ColumnDef.typeName) ? def.ColumnDef.typeName : undefined;
        const names = strings(typeName?.names);
        const base = names[names.length - 1] ?? '?';
        const mods = Array.isArray(typeName?.typmods) ? typeName.typmods : [];
        const firstMod = mods[0];
        const len =
          isObject(firstMod) && isObject(firstMod.A_Const) && isObject(firstMod.A_Const.ival)
            ? Number(firstMod.A_Const.ival.ival)
            : NaN;
        if (['varchar', 'bpchar', 'bit', 'varbit'].includes(base) && Number.isFinite(len)) {
          add({
            class: 'data_loss',
            what: `changes ${table}.${col} to ${base === 'bpchar' ? 'char' : base}(${len}): longer values fail or are cut`,
            target: { ...target, column: col, measure: 'longer_values', maxLength: len },
          });
        } else if (NARROW_TYPES.has(base) || (base === 'numeric' && mods.length > 0)) {
          add({
            class: 'data_loss',
            what: `changes ${table}.${col} to ${base}${mods.length ? '(…)' : ''}, which may narrow its values`,
            target: { ...target, column: col, measure: 'values' },
          });
        }
        add({
          class: 'blocking',
          what: `rewrites ${table} (ALTER COLUMN ${col} TYPE) under an ACCESS EXCLUSIVE lock`,
          target: { ...target, measure: 'rows' },
        });
        break;
      }
      case 'AT_AddConstraint': {
        const con = isObject(def?.Constraint) ? def.Constraint : undefined;
        const spec = con ? await constraintSpec(con, st.source) : null;
        if (spec && con?.skip_validation !== true) {
          add({
            class: 'constraint',
            what: `adds ${CONSTRAINT_WORDS[spec.type]} ${spec.name ? `\`${spec.name}\` ` : ''}on ${table}${spec.columns.length ? ` (${spec.columns.join(', ')})` : ''}`,
            target: { ...target, measure: 'violations', constraint: spec },
          });
        }
        locksTable = true;
        break;
      }
      case 'AT_SetNotNull':
        if (col)
          add({
            class: 'constraint',
            what: `sets ${table}.${col} NOT NULL`,
            target: { ...target, measure: 'violations', constraint: { type: 'not_null', columns: [col] } },
          });
        locksTable = true;
        break;
      case 'AT_AddColumn': {
        const cd = isObject(def?.ColumnDef) ? def.ColumnDef : undefined;
        const colName = typeof cd?.colname === 'string' ? cd.colname : '?';
        const cons = (Array.isArray(cd?.constraints) ? cd.constraints : []).flatMap((x) =>
          isObject(x) && isObject(x.Constraint) ? [x.Constraint] : [],
        );
        const hasDefault =
          cons.some(
            (x) =>
              x.contype === 'CONSTR_DEFAULT' || x.contype === 'CONSTR_IDENTITY' || x.contype === 'CONSTR_GENERATED',
          ) || cd?.raw_default !== undefined;
        for (const con of cons) {
          if (con.contype === 'CONSTR_NOTNULL') {
            if (!hasDefault)
              add({
                class: 'constraint',
                what: `adds NOT NULL column ${table}.${colName} without a default: fails if the table has rows`,
                target: {
                  ...target,
                  measure: 'violations',
                  constraint: { type: 'new_not_null_column', columns: [colName] },
                },
              });
            continue;
          }
          const spec = await constraintSpec(con, st.source, colName);
          // A new column is all NULL (or its default): only a FOREIGN KEY with a default could be violated; UNIQUE/CHECK on NULLs pass.
          if (spec && spec.type === 'foreign_key' && hasDefault)
            add({
              class: 'constraint',
              what: `adds FOREIGN KEY on ${table}.${colName}`,
              target: { ...target, measure: 'violations', constraint: spec },
            });
        }
        break;
      }
      case 'AT_DisableRowSecurity':
        add({
          class: 'security',
          what: `removes row-level security on ${table} (DISABLE ROW LEVEL SECURITY)`,
          target: { ...target, measure: 'policies' },
        });
        break;
      case 'AT_NoForceRowSecurity':
        add({
          class: 'security',
          what: `lets the owner of ${table} bypass row-level security (NO FORCE ROW LEVEL SECURITY)`,
          target: { ...target, measure: 'policies' },
        });
        break;
      case 'AT_ChangeOwner': {
        const owner = isObject(cmd.newowner) ? String(cmd.newowner.rolename ?? cmd.newowner.roletype) : '?';
        add({ class: 'security', what: `changes the owner of ${table} to ${owner}` });
        break;
      }
      case 'AT_DropConstraint':
      case 'AT_DropNotNull':
      case 'AT_SetDefault':
      case 'AT_DropDefault':
      case 'AT_EnableRowSecurity':
      case 'AT_ForceRowSecurity':
        locksTable = locksTable || sub === 'AT_DropConstraint';
        break;
      default:
        locksTable = true;
    }
  }
  if (locksTable) {
    add({
      class: 'blocking',
      what: `holds an ACCESS EXCLUSIVE lock on ${table} while it scans the table (ALTER TABLE)`,
      target: { ...target, measure: 'rows' },
    });
  }
}
