import { pino, type Logger as PinoLogger } from 'pino';
import { redactSecrets } from './redact.js';

/**
 * The structural logger every module receives (node-pg-migrate's injected-logger
 * pattern). pino satisfies it; tests may pass `pino({ level: 'silent' })`.
 */
export type Logger = Pick<PinoLogger, 'info' | 'warn' | 'error' | 'debug' | 'child'>;

/** Paths whose values are always replaced, wherever they appear in a log object. */
const REDACT_PATHS = [
  'token',
  '*.token',
  'botToken',
  '*.botToken',
  'appToken',
  '*.appToken',
  'signingSecret',
  '*.signingSecret',
  'password',
  '*.password',
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'headers.authorization',
  '*.headers.authorization',
  'req.headers.authorization',
];

/**
 * Builds the process logger: JSON lines on stdout, `level` from LOG_LEVEL.
 * Keys named like secrets are redacted by path; every string logged (messages,
 * error messages and stacks included) passes through {@link redactSecrets}, so a
 * connection string with a password never reaches the log. `destination` 2 writes to stderr
 * (the CLI, whose stdout carries results).
 */
export function createLogger(level: string = 'info', destination: 1 | 2 = 1): PinoLogger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '***' },
      hooks: {
        logMethod(args, method) {
          const cleaned = args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a));
          method.apply(this, cleaned as Parameters<typeof method>);
        },
      },
      serializers: {
        err: (err: unknown) => {
          const base = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
          return JSON.parse(redactSecrets(JSON.stringify(base))) as Record<string, unknown>;
        },
      },
      formatters: {
        log: (obj) => JSON.parse(redactSecrets(JSON.stringify(obj))) as Record<string, unknown>,
      },
    },
    pino.destination({ fd: destination, sync: true }),
  );
}

/** A logger that prints nothing, for unit tests. */
export const silentLogger: PinoLogger = pino({ level: 'silent' });
