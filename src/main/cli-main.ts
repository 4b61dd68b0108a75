import { processIo, runCli } from '../surfaces/cli/program.js';
import { startCheck } from './check-engine.js';
import { startEngine } from './cli-engine.js';

// The `migrate-bot` command (bin/migrate-bot.js): the process's own environment and output, on the bot's engine.
process.exitCode = await runCli(process.argv.slice(2), processIo(), startEngine, startCheck);
