import { wordsPlain } from '../../shared/words.js';
import os from 'node:os';
import { AppError, userMessageOf } from '../../shared/errors.js';
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
}

/** What a command hands back: its exit code, its result for `--json`, and its words for people. */
export interface CommandResult {
  code: ExitCode;
  json: unknown;
  text: string;
}

/** The person at the terminal, for the event log: `--as`, `MIGRATE_BOT_CLI_USER`, or the login name. */
export function operator(as: string | undefined, engine: Engine): string {
  return as ?? engine.env.MIGRATE_BOT_CLI_USER ?? `cli:${os.userInfo().username}`;
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
        ? err.userMessage
          ? wordsPlain(err.userMessage)
          : err.message
        : wordsPlain(userMessageOf(err)) + (err instanceof Error ? ` (${err.message})` : ''),
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
  const out = opts.json ? JSON.stringify(result.json, null, 2) : result.text;
  (result.code === EXIT.ok || result.code === EXIT.preflight || result.code === EXIT.postflight || opts.json
    ? io.stdout
    : io.stderr
  ).write(`${out}\n`);
  io.exitCode = result.code;
}
