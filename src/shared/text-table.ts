/** A cell as triage reports carry it. */
export type TableCell = string | number | boolean | null | undefined;

/** Cell text: null/undefined as empty, booleans as yes/no, whitespace runs as one space, cut to `max` with `…`. */
export function cellText(value: TableCell, max = Number.POSITIVE_INFINITY): string {
  const text =
    value === null || value === undefined
      ? ''
      : typeof value === 'boolean'
        ? value
          ? 'yes'
          : 'no'
        : String(value).replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, Math.max(1, max - 1))}…` : text;
}

/**
 * A plain-text table: a header line, a rule, then one line per row, columns
 * padded to their widest cell (each cell cut to `maxCell` characters, a number or
 * a per-column function). Pure.
 *
 * @returns the lines (no trailing newline), and whether any cell was cut
 */
export function renderTextTable(
  columns: readonly string[],
  rows: ReadonlyArray<Record<string, TableCell>>,
  maxCell: number | ((column: string) => number) = Number.POSITIVE_INFINITY,
): { lines: string[]; cut: boolean } {
  let cut = false;
  const limits = columns.map((c) => (typeof maxCell === 'number' ? maxCell : maxCell(c)));
  const cells = rows.map((row) =>
    columns.map((c, i) => {
      const full = cellText(row[c]);
      const shown = cellText(row[c], limits[i]);
      if (shown !== full) cut = true;
      return shown;
    }),
  );
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]): string =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return {
    lines: [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)],
    cut,
  };
}
