import { Command, CommanderError } from 'commander';
import { EXIT } from './exit-codes.js';
import type { CliIo, StartEngine, CliContext } from './cli-run.js';
import { addReadCommands } from './read-commands.js';
import { addIncidentCommands, addRollbackCommand } from './incident-commands.js';
import { addProcessCommands } from './process-commands.js';
import { addCheckCommand, type StartCheck } from './check-command.js';

export { processIo, type CliIo, type Engine, type StartEngine, type CommandResult } from './cli-run.js';

/**
 * The `migrate-bot` command line (runbook 001's harness on the bot's engine), reading and
 * writing through `io`. commander's own usage errors throw a `CommanderError` (see
 * {@link runCli}) instead of exiting the process.
 */
export function buildProgram(io: CliIo, startEngine: StartEngine, startCheck?: StartCheck): Command {
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
  addProcessCommands(program, ctx);
  if (startCheck) addCheckCommand(program, io, startCheck);
  return program;
}

/**
 * Parses `argv` (the words after `migrate-bot`) and runs the command; `check` exists when `startCheck` is given.
 * @returns the exit code: the command's, 0 for `--help`, 5 for a usage error (nothing ran)
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  startEngine: StartEngine,
  startCheck?: StartCheck,
): Promise<number> {
  try {
    await buildProgram(io, startEngine, startCheck).parseAsync([...argv], { from: 'user' });
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    io.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.config;
  }
  return io.exitCode;
}
