import { redactSecrets } from '../../shared/redact.js';

/** Longest query text a check reports, characters (cut so a Slack section stays within its 3,000 characters). */
export const MAX_QUERY_CHARS = 300;
/** Longest value of any other cell, characters. */
export const MAX_CELL_CHARS = 300;

/** A value made safe to print in Slack and in files. */
export type SafeCell = string | number | boolean | null;

/** `PASSWORD '…'` literals in SQL text (CREATE/ALTER ROLE, user mappings), which redactSecrets does not know. */
const SQL_PASSWORD_LITERAL = /\b(password)(\s+)'(?:[^']|'')*'/gi;

/**
 * Text cut to `max` characters (an ellipsis marks the cut), whitespace runs
 * collapsed to one space, secrets redacted (connection-string passwords, tokens,
 * `PASSWORD '…'` literals). Pure.
 */
export function safeText(text: string, max = MAX_CELL_CHARS): string {
  const cleaned = redactSecrets(text.replace(SQL_PASSWORD_LITERAL, "$1$2'***'")).replace(/\s+/g, ' ').trim();
  return cleaned.length > max ? `${cleaned.slice(0, Math.max(0, max - 1))}…` : cleaned;
}

/**
 * Any value the driver returns (string, number, bigint, Date, Buffer, array,
 * JSON object) as a printable cell: dates as ISO-8601 UTC, buffers as `<n bytes>`,
 * objects as JSON, strings through {@link safeText}.
 */
export function safeCell(value: unknown, max = MAX_CELL_CHARS): SafeCell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? String(value) : value.toISOString();
  if (Buffer.isBuffer(value)) return `<${value.length} bytes>`;
  if (typeof value === 'string') return safeText(value, max);
  return safeText(JSON.stringify(value) ?? String(value), max);
}

/** Every value of `row` through {@link safeCell}. */
export function safeRow(row: Record<string, unknown>, max = MAX_CELL_CHARS): Record<string, SafeCell> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, safeCell(v, max)]));
}

/** A numeric column from the driver (int8 and numeric arrive as strings) as a number; null stays null. */
export function toNumber(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? n : null;
}

/** `n` with an English noun, pluralised: `1 row`, `3 rows`. */
export function plural(n: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : pluralNoun}`;
}

/** Bytes as pg_size_pretty writes them (base 1024): `8192 bytes`, `16 kB`, `1.2 GB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 10 * 1024) return `${bytes} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** Row counts for humans: `950`, `12.3k`, `4.1M`. */
export function formatRows(rows: number): string {
  if (rows < 10_000) return String(Math.round(rows));
  if (rows < 1_000_000) return `${(rows / 1000).toFixed(1)}k`;
  if (rows < 1_000_000_000) return `${(rows / 1_000_000).toFixed(1)}M`;
  return `${(rows / 1_000_000_000).toFixed(1)}G`;
}
