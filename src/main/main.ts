import { Command, Option } from 'commander';
import { loadEnv } from '../config/env.js';
import { loadServices } from '../config/services.js';
import { AppError } from '../shared/errors.js';
import { createLogger } from '../shared/logger.js';
import { redactSecrets } from '../shared/redact.js';
import { startBot, type Role, type RunningBot } from './start-bot.js';
import { drillOptionsFrom, startDrill } from './start-drill.js';

/**
 * True when `npm start` may start a drill by itself: no Slack variable is set at all and
 * `NODE_ENV` is not `production`. Any Slack variable, or production, makes missing credentials
 * an error instead, so a half-configured deployment never quietly becomes a drill.
 */
export function drillByDefault(env: NodeJS.ProcessEnv): boolean {
  const slackVars = Object.keys(env).filter((k) => k.startsWith('SLACK_') && env[k]);
  return slackVars.length === 0 && env.NODE_ENV !== 'production';
}

/**
 * Composition root: `npm start [-- --role app|worker]`. With no SLACK_* variable at all outside
 * production (or `--drill`) it starts a drill: a local demo database and a console playing Slack at
 * http://localhost:3000. Otherwise it validates the environment and services.yaml (refusing
 * to start with a message naming every problem), then runs the Slack app and/or the BullMQ
 * workers until SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  const program = new Command('migrate-bot')
    .addOption(new Option('--role <role>', 'which part to run').choices(['all', 'app', 'worker']).default('all'))
    .option(
      '--drill',
      'run a drill on a local demo database with a console playing Slack (the default when no SLACK_* variable is set, outside NODE_ENV=production)',
    )
    .option('--drill-host-ok', 'let the drill create and drop its databases on a PostgreSQL other than localhost')
    .parse(process.argv);
  const { role, drill, drillHostOk } = program.opts<{ role: Role; drill?: boolean; drillHostOk?: boolean }>();

  if (drill || drillByDefault(process.env)) {
    const options = { ...drillOptionsFrom(process.env), allowRemoteHost: drillHostOk === true };
    const logger = createLogger(options.logLevel);
    process.stderr.write(
      'migrate-bot: no SLACK_* variable set: starting a DRILL on a local demo database (set the Slack variables, or NODE_ENV=production, to run the bot).\n',
    );
    const running = await startDrill(options, logger);
    process.stderr.write(
      `migrate-bot DRILL ready: open ${running.console.url} and type /migrate rollback 003. Nothing here touches production. Ctrl-C stops it.\n`,
    );
    installLifecycle(running, logger, 10_000);
    return;
  }

  const env = loadEnv();
  const logger = createLogger(env.LOG_LEVEL);
  const services = await loadServices(env.SERVICES_FILE);
  logger.info({ role, services: [...services.services.keys()], file: services.file }, 'starting migrate-bot');

  const bot = await startBot({ env, services, role, logger });
  installLifecycle(bot, logger, env.SHUTDOWN_GRACE_SECONDS * 1000);
}

/**
 * Signals and stray errors (Docker/Kubernetes stop a container with SIGTERM, then SIGKILL
 * after their grace period). The first SIGTERM or SIGINT stops taking requests and jobs,
 * lets the running rollback step finish and hands its job back, closes Bolt, BullMQ, Redis
 * and pg, and exits 0 — or exits 1 when `graceMs` (ms) passes first. A second signal
 * exits at once (130). An unhandled rejection is logged and the process keeps serving:
 * the job that caused it fails through its own path, and the reconciler catches the rest.
 */
function installLifecycle(
  bot: Pick<RunningBot, 'close'>,
  logger: ReturnType<typeof createLogger>,
  graceMs: number,
): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal, graceMs }, 'shutting down: finishing running work');
    const timer = setTimeout(() => {
      logger.error({ graceMs }, 'shutdown grace period passed; exiting with work unfinished (jobs resume elsewhere)');
      process.exit(1);
    }, graceMs);
    timer.unref();
    bot.close().then(
      () => {
        logger.info('shut down cleanly');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled rejection'));
}

main().catch((err: unknown) => {
  if (err instanceof AppError && err.code.startsWith('config_')) {
    process.stderr.write(`migrate-bot cannot start: ${redactSecrets(err.message)}\n`);
  } else {
    process.stderr.write(
      `migrate-bot failed to start: ${redactSecrets(err instanceof Error ? err.message : String(err))}\n`,
    );
  }
  process.exit(1);
});
