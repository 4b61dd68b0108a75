import type { Command } from 'commander';
import type { DownCheckReport, DownCheckRow } from '../../adapters/schema/down-check.js';
import { isFailedRow } from '../../adapters/schema/down-check.js';
import { differenceSentence } from '../../domain/rollback/schema-difference.js';
import { isAppError } from '../../shared/errors.js';
import { renderTextTable } from '../../shared/text-table.js';
import { cliErrorText, type CliIo } from './cli-run.js';

/**
 * Exit codes of `migrate-bot check`, a CI gate of its own: 0 every down tested brought the
 * schema back, 1 a down (or an up) failed or left the schema different, 2 the check could not
 * be set up (configuration, a scratch server that refuses CREATE DATABASE, a bad `--since`).
 */
export const CHECK_EXIT = { ok: 0, failed: 1, setup: 2 } as const;

/** What `check` runs on: services.yaml, a scratch server and, with `--record`, the state database. */
export interface CheckEngine {
  /** Names of the configured services. */
  services: string[];
  /**
   * Tests the downs of `service` on a scratch database (see `adapters/schema/down-check.ts`).
   * @throws AppError `command_unknown_service`, `scratch_create_failed`
   */
  check(
    service: string,
    options: { only?: ReadonlySet<string>; onRow?(row: DownCheckRow): void },
  ): Promise<DownCheckReport>;
  /** Migrations of `service` whose files changed since git ref `ref`. @throws AppError `check_since_invalid` */
  changedSince(service: string, ref: string): Promise<Set<string>>;
  /** Keeps the report's tested rows in the state database (`--record`); absent without it. @returns rows written */
  record?(report: DownCheckReport): Promise<number>;
  close(): Promise<void>;
}

/** Starts a {@link CheckEngine} from the environment (`SERVICES_FILE`, and `DATABASE_URL` for `record`). */
export type StartCheck = (options: {
  env: Record<string, string | undefined>;
  scratchUrl?: string;
  record: boolean;
}) => Promise<CheckEngine>;

interface CheckOptions {
  since?: string;
  json?: boolean;
  record?: boolean;
  scratchUrl?: string;
}

const RISK_WORDS: Record<string, string> = {
  data_loss: 'data loss',
  security: 'security',
  blocking: 'blocking',
  constraint: 'constraint',
  irreversible: 'irreversible',
  unknown: 'unknown',
};

/** What the `schema restored` cell says for a row. */
function restoredCell(row: DownCheckRow): string {
  if (row.restored === null) return row.down === 'irreversible' ? '— (no down)' : '—';
  if (row.restored) return row.reapplied === 'failed' ? 'yes, but the up fails again' : 'yes';
  return `no: ${differenceSentence(row.difference!, 3).replace(/`/g, '')}`;
}

/** The report as a plain-text table, one row per tested migration, and a verdict line. */
export function checkText(report: DownCheckReport): string {
  const { lines } = renderTextTable(
    ['migration', 'up', 'down', 'schema restored', 'down risk', 'time'],
    report.rows.map((r) => ({
      migration: r.migration,
      up: r.up,
      down: r.down,
      'schema restored': restoredCell(r),
      'down risk': r.risk.map((c) => RISK_WORDS[c] ?? c).join(', ') || 'none',
      time: `${(r.ms / 1000).toFixed(1)} s`,
    })),
    (c) => (c === 'schema restored' ? 100 : 60),
  );
  const failed = report.rows.filter(isFailedRow);
  const errors = report.rows
    .filter((r) => r.error && (isFailedRow(r) || r.up === 'not run'))
    .map((r) => `  ${r.migration}: ${r.error}`);
  const verdict = !report.rows.length
    ? `No migration of ${report.service} to check.`
    : failed.length
      ? `${failed.length} of ${report.rows.length} migration(s) of ${report.service} (${report.tool}) failed the check.`
      : `All ${report.rows.length} migration(s) of ${report.service} (${report.tool}) passed: every down ran and restored the schema.`;
  return [
    `migrate-bot check ${report.service}: up, down, compare, up again on a scratch database (${(report.ms / 1000).toFixed(1)} s)`,
    ...lines,
    ...(errors.length ? ['', 'Errors:', ...errors] : []),
    '',
    verdict,
  ].join('\n');
}

/**
 * `migrate-bot check <service> [--since <ref>] [--json] [--record] [--scratch-url <url>]`: every
 * down migration tested on a scratch database before any incident (see {@link CHECK_EXIT}).
 */
export function addCheckCommand(program: Command, io: CliIo, startCheck: StartCheck): void {
  program
    .command('check <service>')
    .description(
      'test every down on a scratch database: up, down, compare the schema, up again; exit 0 all restored, 1 a down fails or leaves the schema different, 2 setup failed',
    )
    .option(
      '--since <ref>',
      'only migrations whose files changed since this git ref (the others are applied, not tested)',
    )
    .option('--json', 'print JSON')
    .option(
      '--record',
      "keep the results in the bot's state database (DATABASE_URL): the plan card then says when each down last passed",
    )
    .option('--scratch-url <url>', "server where scratch databases are created (default: the service's server)")
    .action(async (service: string, opts: CheckOptions) => {
      io.exitCode = await runCheck(io, startCheck, service, opts);
    });
}

async function runCheck(io: CliIo, startCheck: StartCheck, service: string, opts: CheckOptions): Promise<number> {
  let engine: CheckEngine | null = null;
  try {
    engine = await startCheck({ env: io.env, scratchUrl: opts.scratchUrl, record: opts.record === true });
    const only = opts.since ? await engine.changedSince(service, opts.since) : undefined;
    const report = await engine.check(service, {
      only,
      onRow: opts.json ? undefined : (r) => void io.stderr.write(`  ${r.migration}: up ${r.up}, down ${r.down}\n`),
    });
    const recorded = engine.record ? await engine.record(report) : null;
    const failed = report.rows.some(isFailedRow);
    if (opts.json) io.stdout.write(`${JSON.stringify({ ...report, recorded, passed: !failed }, null, 2)}\n`);
    else io.stdout.write(`${checkText(report)}${recorded !== null ? `\nRecorded ${recorded} result(s).` : ''}\n`);
    return failed ? CHECK_EXIT.failed : CHECK_EXIT.ok;
  } catch (err) {
    const text = cliErrorText(err);
    if (opts.json)
      io.stdout.write(`${JSON.stringify({ error: isAppError(err) ? err.code : 'check_failed', message: text })}\n`);
    io.stderr.write(`migrate-bot check: ${text}\n`);
    return CHECK_EXIT.setup;
  } finally {
    await engine?.close().catch(() => undefined);
  }
}
