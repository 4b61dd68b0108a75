import { loadEnv } from '../config/env.js';
import { loadServices } from '../config/services.js';
import type { Env } from '../config/env.js';
import type { SurfaceDeps } from '../surfaces/surface-deps.js';
import { createLogger } from '../shared/logger.js';
import { startBot, type RunningBot } from './start-bot.js';

/** The CLI's handle on the engine: the same use cases, state database and queues as the Slack app. */
export interface Engine {
  deps: SurfaceDeps;
  /** The validated environment (the CLI's own `MIGRATE_BOT_CLI_USER` included). */
  env: Env;
  bot: RunningBot;
  close(): Promise<void>;
}

/**
 * Starts the engine for one CLI command from the same environment and services.yaml as the
 * bot (`options.env`: the process's, where `.env` was read by `node --env-file-if-exists`). `workers` runs the BullMQ workers in
 * this process for as long as the command lives (`rollback`: its prepare and rollback jobs run
 * here or on any other worker of the same queues); otherwise only the use cases run.
 * Logs go to stderr at `LOG_LEVEL` (default `warn` for the CLI), so stdout carries only results.
 * @throws AppError `config_*`, `postgres_unreachable`, `redis_unreachable` (exit code 5)
 */
export async function startEngine(options: {
  workers: boolean;
  env: Record<string, string | undefined>;
}): Promise<Engine> {
  // The CLI works without Slack: notices wait in the outbox for a bot that has its credentials.
  const env = loadEnv({ LOG_LEVEL: 'warn', ...options.env }, { slack: 'optional' });
  const logger = createLogger(env.LOG_LEVEL, 2);
  const services = await loadServices(env.SERVICES_FILE, options.env);
  const bot = await startBot({ env, services, role: options.workers ? 'worker' : 'cli', logger, noOpsServer: true });
  return { deps: bot.deps, env, bot, close: () => bot.close() };
}
