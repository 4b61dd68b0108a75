import { Option } from 'commander';
import type { ServiceConfig } from '../../config/services.js';
import { requireReader } from '../../domain/incident/use-cases/access.js';
import { resolveService } from '../../domain/incident/use-cases/resolve-service.js';
import { code, words, wordsPlain } from '../../shared/words.js';
import { AppError, isAppError, userMessageOf } from '../../shared/errors.js';
import { redactSecrets } from '../../shared/redact.js';
import type { Env } from '../../config/env.js';
import type { SurfaceDeps } from '../surface-deps.js';
import { EXIT, exitCodeOf, type ExitCode } from './exit-codes.js';
import { createProgress, type Progress } from './progress.js';

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
export interface CliContext {
  io: CliIo;
  startEngine: StartEngine;
}

/** Options every command takes. */
export interface Common {
  json?: boolean;
  /** Removed; refused when given (see {@link refuseAs}). */
  as?: string;
}

/** What a command hands back: its exit code, its result for `--json`, and its words for people. */
export interface CommandResult {
  code: ExitCode;
  json: unknown;
  text: string;
}

/**
 * The person at the terminal: the validated `MIGRATE_BOT_CLI_USER` (a Slack user ID the
 * operator's environment sets). Commands that act (rollback, snapshot, close) need it.
 * @throws AppError `cli_operator_missing` naming the variable
 */
export function operator(engine: Pick<Engine, 'env'>): string {
  const user = engine.env.MIGRATE_BOT_CLI_USER;
  if (user) return user;
  throw new AppError({
    code: 'cli_operator_missing',
    message: 'MIGRATE_BOT_CLI_USER is not set',
    userMessage: words`Set ${code('MIGRATE_BOT_CLI_USER')} to your Slack user ID (U…): the CLI acts as that person, who must be allowed by services.yaml ${code('access:')}. Nothing was done.`,
  });
}

/**
 * The service a read command (triage, plan, verify, status) looks at, once the operator may read
 * it (`access.readers`): with `readers: anyone` no operator needs to be set.
 * @throws AppError `command_unknown_service`, `cli_operator_missing`, `access_refused`
 */
export async function readableService(
  engine: Pick<Engine, 'env' | 'deps'>,
  serviceName: string | undefined,
  command: string,
): Promise<ServiceConfig> {
  const service = resolveService(engine.deps.services, serviceName);
  if (service.access.readers === 'anyone') return service;
  return requireReader(engine.deps, service.name, operator(engine), command);
}

/** `--as`, removed (hidden from help; given, it is refused): the operator comes from the environment, never from what is typed. */
export const removedAsOption = (): Option =>
  new Option('--as <user>', 'removed: the CLI acts as MIGRATE_BOT_CLI_USER').hideHelp();

/** @throws AppError `command_invalid` when `--as` is given */
export function refuseAs(opts: { as?: string }): void {
  if (opts.as === undefined) return;
  throw new AppError({
    code: 'command_invalid',
    message: '--as given',
    userMessage: words`${code('--as')} is gone: the CLI acts as ${code('MIGRATE_BOT_CLI_USER')}, the Slack user ID your environment sets, so the event log names who really typed the command. Nothing was done.`,
  });
}

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

/** An error as the terminal shows it: its user message (or message), secrets redacted, never a stack. */
export function cliErrorText(err: unknown): string {
  return redactSecrets(
    err instanceof AppError
      ? err.userMessage
        ? wordsPlain(err.userMessage)
        : err.message
      : wordsPlain(userMessageOf(err)) + (err instanceof Error ? ` (${err.message})` : ''),
  );
}

/**
 * Runs one command on the engine and turns what it returned or threw into output and an exit
 * code (runbook 001's codes). Errors print their user message (secrets redacted), never a stack.
 */
export async function run(
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
    refuseAs(opts);
    engine = await startEngine({ workers, env: io.env });
    result = await work(engine, progress);
    engine.deps.metrics.commands.inc({
      command: name,
      outcome: result.code === EXIT.ok ? 'ok' : 'error',
      surface: 'cli',
    });
  } catch (err) {
    if (isAppError(err, 'access_refused')) engine?.deps.metrics.accessRefusals.inc({ command: name, surface: 'cli' });
    const message = cliErrorText(err);
    result = {
      code: exitCodeOf(err),
      json: { error: { code: err instanceof AppError ? err.code : 'internal', message } },
      text: `migrate-bot: ${message}`,
    };
  } finally {
    progress.done();
  }
  await engine?.close().catch(() => undefined);
  const out = opts.json ? JSON.stringify(result.json, null, 2) : result.text;
  (result.code === EXIT.ok || result.code === EXIT.preflight || result.code === EXIT.postflight || opts.json
    ? io.stdout
    : io.stderr
  ).write(`${out}\n`);
  io.exitCode = result.code;
}
