import os from 'node:os';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { closeIncident } from '../../domain/incident/use-cases/close-incident.js';
import { dryRunRollback } from '../../domain/incident/use-cases/describe-rollback.js';
import { incidentStatus } from '../../domain/incident/use-cases/incident-status.js';
import { shortId } from '../../domain/incident/model/incident.js';
import { takeOnDemandSnapshot } from '../../domain/incident/use-cases/on-demand-snapshot.js';
import { resolveService } from '../../domain/incident/use-cases/resolve-service.js';
import { verifyService } from '../../domain/incident/use-cases/verify-service.js';
import { offendingOf } from '../../domain/incident/model/incident.js';
import { overallVerdict } from '../../domain/triage/triage-report.js';
import { AppError, userMessageOf } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import { utcSecondStamp } from '../../shared/clock.js';
import type { Env } from '../../config/env.js';
import type { SurfaceDeps } from '../surface-deps.js';
import { EXIT, exitCodeOf, type ExitCode } from './exit-codes.js';
import { outcomeText, planText, snapshotText, statusText, triageText, verificationText } from './format.js';
import { noticePlainText } from './notice-text.js';
import { createProgress, type Progress } from './progress.js';
import { runCliRollback } from './rollback-command.js';

/** The engine one CLI command runs on: the same use cases, state database and queues as the Slack app. */
export interface Engine {
  deps: SurfaceDeps;
  /** The validated environment (the CLI's own `MIGRATE_BOT_CLI_USER` included). */
  env: Env;
  close(): Promise<void>;
}

/**
 * Starts the engine for one command from `env` (the composition root's `startEngine`); `workers`
 * runs the BullMQ workers in the process for as long as the command lives.
 */
export type StartEngine = (options: { workers: boolean; env: Record<string, string | undefined> }) => Promise<Engine>;

/** What every command of one program shares: its input and output, and how it starts the engine. */
interface CliContext {
  io: CliIo;
  startEngine: StartEngine;
}

/** Options every command takes. */
interface Common {
  json?: boolean;
}

/** What a command hands back: its exit code, its result for `--json`, and its words for people. */
export interface CommandResult {
  code: ExitCode;
  json: unknown;
  text: string;
}

/** The person at the terminal, for the event log: `--as`, `MIGRATE_BOT_CLI_USER`, or the login name. */
function operator(as: string | undefined, engine: Engine): string {
  return as ?? engine.env.MIGRATE_BOT_CLI_USER ?? `cli:${os.userInfo().username}`;
}

const slackUsers = (value: string): string[] => {
  const ids = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!ids.length) throw new InvalidArgumentError('give Slack user IDs separated by commas, e.g. U0SRE001,U0OWN001');
  return ids;
};

/**
 * Where a CLI run reads its environment and writes its output: the process's own (`processIo`),
 * or buffers when a test runs the program in-process. `exitCode` is set by the command
 * (runbook 001's codes, `cli/exit-codes.ts`).
 */
export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  exitCode: number;
}

/** The process's environment, stdout and stderr. */
export function processIo(): CliIo {
  return { env: process.env, stdout: process.stdout, stderr: process.stderr, exitCode: 0 };
}

/**
 * Runs one command on the engine and turns what it returned or threw into output and an exit
 * code (runbook 001's codes). Errors print their user message (secrets redacted), never a stack.
 */
async function run(
  { io, startEngine }: CliContext,
  opts: Common,
  workers: boolean,
  work: (engine: Engine, progress: Progress) => Promise<CommandResult>,
  name: string,
): Promise<void> {
  const progress = createProgress({ quiet: opts.json === true, stream: io.stderr });
  let engine: Engine | null = null;
  let result: CommandResult;
  try {
    engine = await startEngine({ workers, env: io.env });
    result = await work(engine, progress);
    engine.deps.metrics.commands.inc({
      command: name,
      outcome: result.code === EXIT.ok ? 'ok' : 'error',
      surface: 'cli',
    });
  } catch (err) {
    const message = redactSecrets(
      err instanceof AppError
        ? (err.userMessage ?? err.message)
        : userMessageOf(err) + (err instanceof Error ? ` (${err.message})` : ''),
    );
    result = {
      code: exitCodeOf(err),
      json: { error: { code: err instanceof AppError ? err.code : 'internal', message } },
      text: `migrate-bot: ${message}`,
    };
  } finally {
    progress.done();
  }
  await engine?.close().catch(() => undefined);
  // Slack's mrkdwn (`code`, *bold*) in user messages reads as noise in a terminal.
  const out = opts.json
    ? JSON.stringify(result.json, null, 2)
    : result.text
        .replace(/`/g, '')
        .replace(/\*([^*\n]+)\*/g, '$1')
        .replace(/:[a-z_]+: ?/g, '');
  (result.code === EXIT.ok || result.code === EXIT.preflight || result.code === EXIT.postflight || opts.json
    ? io.stdout
    : io.stderr
  ).write(`${out}\n`);
  io.exitCode = result.code;
}

/**
 * The `migrate-bot` command line (runbook 001's harness on the bot's engine), reading and
 * writing through `io`. commander's own usage errors throw a `CommanderError` (see
 * {@link runCli}) instead of exiting the process.
 */
export function buildProgram(io: CliIo, startEngine: StartEngine): Command {
  const ctx: CliContext = { io, startEngine };
  const program = new Command('migrate-bot')
    .description(
      'Migration rollbacks from a terminal: the same engine, state database and event log as the Slack app. Exit codes: 0 ok, 1 preflight failed, 2 operation failed, 3 postflight failed, 4 rollback failed, 5 configuration error or refused input.',
    )
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => void io.stdout.write(s), writeErr: (s) => void io.stderr.write(s) })
    .exitOverride();
  addReadCommands(program, ctx);
  addRollbackCommand(program, ctx);
  addIncidentCommands(program, ctx);
  return program;
}

/**
 * Parses `argv` (the words after `migrate-bot`) and runs the command.
 * @returns the exit code: the command's, 0 for `--help`, 5 for a usage error (nothing ran)
 */
export async function runCli(argv: readonly string[], io: CliIo, startEngine: StartEngine): Promise<number> {
  try {
    await buildProgram(io, startEngine).parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    io.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.config;
  }
  return io.exitCode;
}

/** `triage`, `plan` and `verify`: read-only. */
function addReadCommands(program: Command, ctx: CliContext): void {
  program
    .command('triage <service>')
    .description(
      'runbook 001 --preflight: the triage checks, read-only with timeouts; exit 1 when one needs attention or could not run',
    )
    .option('--json', 'print JSON')
    .action((serviceName: string, opts: Common) =>
      run(
        ctx,
        opts,
        false,
        async ({ deps }) => {
          const service = resolveService(deps.services, serviceName);
          const open = await deps.repo.findOpenByService(service.name);
          const report = await deps.triage(service, open ? { offending: offendingOf(open) } : {});
          return {
            code: overallVerdict(report) === 'ok' ? EXIT.ok : EXIT.preflight,
            json: report,
            text: triageText(report),
          };
        },
        'triage',
      ),
    );

  program
    .command('plan <service> <migration>')
    .description('runbook 001 --dry-run: the rollback plan, captured SQL and risk; writes nothing')
    .option('--json', 'print JSON')
    .action((serviceName: string, migration: string, opts: Common) =>
      run(
        ctx,
        opts,
        false,
        async ({ deps }) => {
          const d = await dryRunRollback(deps, serviceName, migration);
          return {
            code: EXIT.ok,
            json: { service: d.service.name, target: d.target, plan: d.plan, head: d.head, risk: d.risk },
            text: planText(d),
          };
        },
        'plan',
      ),
    );

  program
    .command('verify <service>')
    .description('runbook 001 --postflight: the checks that follow every rollback; exit 3 when one fails')
    .option('--json', 'print JSON')
    .action((serviceName: string, opts: Common) =>
      run(
        ctx,
        opts,
        false,
        async ({ deps }) => {
          const { report } = await verifyService(deps, serviceName);
          return {
            code: report.passed ? EXIT.ok : EXIT.postflight,
            json: report,
            text: verificationText(serviceName, report),
          };
        },
        'verify',
      ),
    );
}

/** `rollback`: opens an incident with approvals recorded from the command line and follows it to its end. */
function addRollbackCommand(program: Command, ctx: CliContext): void {
  program
    .command('rollback <service> <migration>')
    .description(
      'open an incident and roll back <migration> and everything after it, with approvals given by named people; exit 0 rolled back, 3 verification failed, 4 rollback failed',
    )
    .option('--approved-by <users>', 'Slack user IDs of the approvers, comma-separated', slackUsers)
    .option('--reason <text>', 'why the approvals are given here rather than in Slack (required with --approved-by)')
    .option('--confirm <service>', 'type the service name to confirm a destructive plan')
    .option(
      '--break-glass <reason>',
      'approvers cannot be reached: one approval suffices (reason of at least 20 characters; announced)',
    )
    .option('--as <user>', 'who requests it (Slack user ID; default MIGRATE_BOT_CLI_USER or cli:<login>)')
    .option(
      '--timeout <minutes>',
      'stop watching after this long (the incident goes on)',
      (v) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('minutes, a positive number');
        return n;
      },
      120,
    )
    .option('--json', 'print JSON')
    .action(
      (
        serviceName: string,
        migration: string,
        opts: Common & {
          approvedBy?: string[];
          reason?: string;
          confirm?: string;
          breakGlass?: string;
          as?: string;
          timeout: number;
        },
      ) =>
        run(
          ctx,
          opts,
          true,
          async (engine, progress) => {
            const { deps } = engine;
            if (!opts.approvedBy?.length || !opts.reason) {
              throw new AppError({
                code: 'command_invalid',
                message: 'missing approvals',
                userMessage:
                  'rollback needs --approved-by U…,U… and --reason "…": the people who approved, and why they approved outside Slack. Nothing was done.',
              });
            }
            const incident = await runCliRollback(deps, progress, {
              service: serviceName,
              migration,
              requestedBy: operator(opts.as, engine),
              approvals: {
                approvedBy: opts.approvedBy,
                reason: opts.reason,
                operator: operator(opts.as, engine),
                ...(opts.confirm !== undefined ? { confirmedAs: opts.confirm } : {}),
              },
              ...(opts.breakGlass !== undefined ? { breakGlass: opts.breakGlass } : {}),
              timeoutMs: opts.timeout * 60_000,
            });
            const code =
              incident.state === 'resolved'
                ? EXIT.ok
                : incident.state === 'resolved_with_warnings'
                  ? EXIT.postflight
                  : EXIT.rollback;
            return {
              code,
              json: {
                incident: {
                  id: incident.id,
                  state: incident.state,
                  channel: incident.conversation?.name ?? null,
                  steps: incident.steps,
                  failure: incident.failure,
                },
              },
              text: outcomeText(incident),
            };
          },
          'rollback',
        ),
    );
}

/** `snapshot`, `status` and `close`. */
function addIncidentCommands(program: Command, ctx: CliContext): void {
  program
    .command('snapshot <service>')
    .description('a snapshot now (pg_dump, RDS or Aurora as configured); exit 2 when it fails')
    .option('--as <user>', 'who asks (Slack user ID or name for the log)')
    .option('--json', 'print JSON')
    .action((serviceName: string, opts: Common & { as?: string }) =>
      run(
        ctx,
        opts,
        false,
        async (engine, progress) => {
          const { deps } = engine;
          const service = resolveService(deps.services, serviceName);
          const name = `pre-rollback-${service.name}-${utcSecondStamp(deps.clock.now())}`;
          progress.status(`taking snapshot ${name} (${service.snapshot.provider})`);
          const record = await takeOnDemandSnapshot(
            deps,
            { service: service.name, requestedBy: operator(opts.as, engine), name },
            async (notice) => progress.line(noticePlainText(notice)),
          );
          if (!record)
            return {
              code: EXIT.migration,
              json: { snapshot: null, name },
              text: `Snapshot ${name} of ${service.name} failed (see above).`,
            };
          return { code: EXIT.ok, json: { snapshot: record }, text: snapshotText(record) };
        },
        'snapshot',
      ),
    );

  program
    .command('status [service]')
    .description('open incidents (or the named service): state, approvals, snapshot, steps, jobs, tracking table head')
    .option('--json', 'print JSON')
    .action((serviceName: string | undefined, opts: Common) =>
      run(
        ctx,
        opts,
        false,
        async ({ deps }) => {
          const views = await incidentStatus(deps, serviceName);
          const json = views.map((v) => ({
            service: v.service.name,
            incident: v.incident,
            approvals: v.approvals,
            required: v.required,
            jobs: v.jobs,
            head: v.head,
          }));
          return { code: EXIT.ok, json, text: statusText(views) };
        },
        'status',
      ),
    );

  program
    .command('close <incident>')
    .description(
      'end an open incident (cancel before the rollback, stop after the step in progress, or close a failed one)',
    )
    .requiredOption('--reason <text>', 'why (goes to the event log)')
    .option('--as <user>', 'who closes it (Slack user ID; must be the requester or an approver)')
    .option('--json', 'print JSON')
    .action((ref: string, opts: Common & { reason: string; as?: string }) =>
      run(
        ctx,
        opts,
        false,
        async (engine) => {
          const { deps } = engine;
          const incident = await findIncident(deps, ref);
          const outcome = await closeIncident(deps, incident.service, operator(opts.as, engine), opts.reason);
          return {
            code: EXIT.ok,
            json: { kind: outcome.kind, incident: { id: outcome.incident.id, state: outcome.incident.state } },
            text: `Incident ${shortId(incident.id)}: ${outcome.kind} (${outcome.incident.state.replace(/_/g, ' ')}).`,
          };
        },
        'close',
      ),
    );
}

/**
 * The incident a full id or its 8-character short id (as the channel name shows it) names.
 * @throws AppError `command_invalid` when none or several match
 */
async function findIncident(
  deps: Engine['deps'],
  ref: string,
): Promise<NonNullable<Awaited<ReturnType<Engine['deps']['repo']['get']>>>> {
  const id = ref.trim().toLowerCase();
  if (!/^[0-9a-f-]{8,36}$/.test(id))
    throw new AppError({
      code: 'command_invalid',
      message: 'bad incident id',
      userMessage: `\`${ref}\` is not an incident id: give the 8 characters the channel name ends with, or the full id.`,
    });
  const candidates = [
    ...(await deps.repo.listOpen()),
    ...(await Promise.all([...deps.services.services.keys()].map((s) => deps.repo.latestByService(s)))).filter(
      (i) => i !== null,
    ),
  ];
  const found = [...new Map(candidates.filter((i) => i.id.startsWith(id)).map((i) => [i.id, i])).values()];
  if (found.length !== 1) {
    throw new AppError({
      code: 'command_invalid',
      message: 'incident not found',
      userMessage: found.length
        ? `\`${ref}\` matches ${found.length} incidents; give more of the id.`
        : `No open or latest incident has id \`${ref}\`. \`migrate-bot status\` lists them.`,
    });
  }
  return found[0]!;
}
