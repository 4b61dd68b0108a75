/**
 * How two schemas differ, object by object, in words an engineer reads on a plan card: what a
 * set of down migrations would leave behind and what it would fail to bring back. Built from the
 * normalised schema lines of the schema fingerprint (one line per table, column, index,
 * constraint, policy, enum type and function; see `adapters/postgres/schema-lines.ts`).
 */
export interface SchemaDifference {
  /** Objects in the schema reached that the target does not have ("would remain"), named. */
  remaining: string[];
  /** Objects of the target the schema reached lacks ("would be missing"), named. */
  missing: string[];
  /** Objects both have but with another definition (a column's type, an index's columns), named. */
  changed: string[];
}

/** The object a schema line is about, in words: `column public.events.legacy_flag`, `index idx_x on public.events`. */
export function objectOfLine(line: string): string {
  const index = /^index CREATE (?:UNIQUE )?INDEX (\S+) ON (?:ONLY )?(\S+)/.exec(line);
  if (index) return `index ${index[1]} on ${index[2]}`;
  const constraint = /^constraint (\S+) (\S+) /.exec(line);
  if (constraint) return `constraint ${constraint[2]} on ${constraint[1]}`;
  const policy = /^policy (\S+) (\S+) /.exec(line);
  if (policy) return `policy ${policy[2]} on ${policy[1]}`;
  const fn = /^function (\S+\(.*\)) [0-9a-f]{32}$/.exec(line);
  if (fn) return `function ${fn[1]}`;
  const table = /^table (\S+) \((\w)\)/.exec(line);
  if (table)
    return `${{ r: 'table', p: 'table', v: 'view', m: 'materialized view' }[table[2]!] ?? 'relation'} ${table[1]}`;
  const other = /^(column|type) (\S+)/.exec(line);
  return other ? `${other[1]} ${other[2]}` : line;
}

/**
 * The difference from `target` to `reached`, by object: lines only in `reached` are
 * remaining objects, lines only in `target` missing ones, and an object on both sides with other
 * lines is changed. A column, index, constraint or policy of a listed table is not listed again
 * (the table says it).
 * Pure; each list sorted.
 */
export function schemaDifference(target: readonly string[], reached: readonly string[]): SchemaDifference {
  const t = new Set(target);
  const r = new Set(reached);
  const onlyReached = reached.filter((l) => !t.has(l)).map(objectOfLine);
  const onlyTarget = target.filter((l) => !r.has(l)).map(objectOfLine);
  const targetObjects = new Set(target.map(objectOfLine));
  const reachedObjects = new Set(reached.map(objectOfLine));
  const changed = [...new Set(onlyReached.filter((o) => targetObjects.has(o)))];
  const tables = (objects: string[]) =>
    new Set(objects.filter((o) => o.startsWith('table ')).map((o) => o.slice('table '.length)));
  // A column, index, constraint or policy of a table that is itself listed.
  const inTable = (o: string, within: Set<string>) => {
    const owner = /^column (\S+)\.[^.]+$/.exec(o)?.[1] ?? / on (\S+)$/.exec(o)?.[1];
    return owner ? within.has(owner) : false;
  };
  const remainingTables = tables(onlyReached);
  const missingTables = tables(onlyTarget);
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  return {
    remaining: uniq(onlyReached.filter((o) => !targetObjects.has(o) && !inTable(o, remainingTables))),
    missing: uniq(onlyTarget.filter((o) => !reachedObjects.has(o) && !inTable(o, missingTables))),
    changed: uniq(changed),
  };
}

/** True when the two schemas have the same objects with the same definitions. */
export function isSameSchema(d: SchemaDifference): boolean {
  return !d.remaining.length && !d.missing.length && !d.changed.length;
}

/**
 * The difference in one sentence: "`table public.legacy` would remain; `index idx_x on
 * public.events` would be missing". At most `limit` objects (default 6), then "and n more".
 */
export function differenceSentence(d: SchemaDifference, limit = 6): string {
  const parts = [
    ...d.remaining.map((o) => `\`${o}\` would remain`),
    ...d.missing.map((o) => `\`${o}\` would be missing`),
    ...d.changed.map((o) => `\`${o}\` would differ`),
  ];
  const shown = parts.slice(0, limit).join('; ');
  return parts.length > limit ? `${shown}; and ${parts.length - limit} more` : shown;
}
