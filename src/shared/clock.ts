/** Injected source of time, so tests control "now". All times are UTC. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `yyyymmdd-hhmm` in UTC, e.g. `20261121-0312` (incident channel names, runbook 003 `#incident-db-migration-<ts>`). */
export function utcMinuteStamp(d: Date): string {
  return `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}-${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}`;
}

/** `yyyymmdd-hhmmss` in UTC, e.g. `20261121-031207` (snapshot names, runbook 004 "Take Manual Backup"). */
export function utcSecondStamp(d: Date): string {
  return `${utcMinuteStamp(d)}${pad(d.getUTCSeconds())}`;
}

/** Human duration from milliseconds: `850ms`, `12s`, `4m12s`, `1h03m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${pad(s % 60)}s`;
  return `${Math.floor(m / 60)}h${pad(m % 60)}m`;
}
