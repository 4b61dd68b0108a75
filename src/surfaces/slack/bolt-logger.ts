import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../../shared/logger.js';
import { redactSecrets } from '../../shared/redact.js';

/** Adapts our pino logger to the `@slack/logger` interface Bolt expects; every line is redacted. */
export function boltLogger(logger: Logger): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  const text = (msg: unknown[]): string =>
    redactSecrets(
      msg.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : JSON.stringify(m))).join(' '),
    );
  const child = logger.child({ component: 'bolt' });
  return {
    debug: (...msg) => child.debug(text(msg)),
    info: (...msg) => child.info(text(msg)),
    warn: (...msg) => child.warn(text(msg)),
    error: (...msg) => child.error(text(msg)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
