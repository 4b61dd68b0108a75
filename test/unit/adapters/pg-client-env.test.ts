/**
 * pg_dump and pg_restore get a connection string with no password in argv (visible in `ps`) and
 * an environment with libpq's variables and PGPASSWORD only: never the bot's Slack tokens,
 * signing secret, state database URL or AWS keys.
 */
import { describe, expect, it } from 'vitest';
import { pgClientInvocation, splitPassword } from '../../../src/adapters/pgdump/pg-client-env.js';

const BOT_ENV = {
  PATH: '/usr/bin',
  HOME: '/home/bot',
  PGSSLMODE: 'verify-full',
  SLACK_BOT_TOKEN: 'xoxb-secret',
  SLACK_SIGNING_SECRET: 'signing-secret',
  SLACK_APP_TOKEN: 'xapp-secret',
  DATABASE_URL: 'postgres://bot:state-pw@state/migrate_bot',
  AWS_SECRET_ACCESS_KEY: 'aws-secret',
  TICKET_DATABASE_URL: 'postgres://svc:svc-pw@db/tickets',
};

describe('PostgreSQL client tools: no secret in argv, no bot secret in the environment', () => {
  it('moves a password out of the userinfo and out of the query string', () => {
    expect(splitPassword('postgres://svc:p%40ss@db:5432/tickets?sslmode=require')).toEqual({
      url: 'postgres://svc@db:5432/tickets?sslmode=require',
      password: 'p@ss',
    });
    expect(splitPassword('postgres://svc@db/tickets?password=q-secret&sslmode=require')).toEqual({
      url: 'postgres://svc@db/tickets?sslmode=require',
      password: 'q-secret',
    });
    expect(splitPassword('postgres://svc@db/tickets')).toEqual({
      url: 'postgres://svc@db/tickets',
      password: undefined,
    });
  });

  it("passes libpq and process basics through, adds the call's own variables, and nothing else", () => {
    const { url, env } = pgClientInvocation(
      'postgres://svc@db/tickets?password=q-secret',
      { PGAPPNAME: 'migrate-bot-snapshot' },
      BOT_ENV,
    );
    expect(url).not.toContain('q-secret');
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/bot',
      PGSSLMODE: 'verify-full',
      PGAPPNAME: 'migrate-bot-snapshot',
      PGPASSWORD: 'q-secret',
    });
    expect(JSON.stringify(env)).not.toMatch(/xoxb|signing-secret|xapp|state-pw|aws-secret|svc-pw/);
  });
});
