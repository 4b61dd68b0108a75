import { Command, Option } from 'commander';
import { loadEnv } from './config/env.js';
import { loadServices } from './config/services.js';
import { AppError } from './shared/errors.js';
import { createLogger } from './shared/logger.js';
import { redactSecrets } from './shared/redact.js';
import { startBot, type Role } from './start-bot.js';

/**
 * Composition root: `npm start [-- --role app|worker]`. Validates the environment and
 * services.yaml (refusing to start with a message naming every problem), then runs
 * the Slack app and/or the BullMQ workers until SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  const program = new Command('migrate-bot')
    .addOption(new Option('--role <role>', 'which part to run').choices(['all', 'app', 'worker']).default('all'))
    .parse(process.argv);
  const role = program.opts<{ role: Role }>().role;

  const env = loadEnv();
  const logger = createLogger(env.LOG_LEVEL);
  const services = await loadServices(env.SERVICES_FILE);
  logger.info({ role, services: [...services.services.keys()], file: services.file }, 'starting migrate-bot');

  const bot = await startBot({ env, services, role, logger });
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await bot.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  if (err instanceof AppError && err.code.startsWith('config_')) {
    process.stderr.write(`migrate-bot cannot start: ${redactSecrets(err.message)}\n`);
  } else {
    process.stderr.write(`migrate-bot failed to start: ${redactSecrets(err instanceof Error ? err.message : String(err))}\n`);
  }
  process.exit(1);
});
