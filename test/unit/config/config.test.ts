import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEnv, slackConfigured } from '../../../src/config/env.js';
import { queuePrefixFor, redisTargetOf } from '../../../src/adapters/redis/redis-connection.js';
import { loadServices } from '../../../src/config/services.js';

async function servicesFile(text: string, options: { migrationsDir?: boolean } = {}): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mb-config-'));
  if (options.migrationsDir !== false) await mkdir(path.join(dir, 'migrations'));
  const file = path.join(dir, 'services.yaml');
  await writeFile(file, text);
  return file;
}

const GOOD = `
services:
  ticket-service:
    database_url_env: TICKET_DATABASE_URL
    migrations: { tool: knex, directory: ./migrations }
    snapshot: { provider: pg_dump }
    access: { requesters: anyone }
    approvals: { required: 2, approvers: [U0SRE001, U0OWN001, U0DBA001] }
`;

describe('loadEnv', () => {
  it('names every missing or malformed variable and never echoes values', () => {
    try {
      loadEnv({ SLACK_BOT_TOKEN: 'not-a-token-secretvalue', REDIS_URL: 'http://x' });
      expect.unreachable();
    } catch (err) {
      const msg = (err as Error).message;
      for (const name of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'DATABASE_URL', 'REDIS_URL'])
        expect(msg).toContain(name);
      expect(msg).not.toContain('secretvalue');
    }
  });

  it('applies defaults', () => {
    const env = loadEnv({
      SLACK_BOT_TOKEN: 'xoxb-1',
      SLACK_SIGNING_SECRET: 'abcdefgh',
      DATABASE_URL: 'postgres://x/y',
      REDIS_URL: 'redis://x',
    });
    expect(env).toMatchObject({ PORT: 3000, SERVICES_FILE: './services.yaml', SNAPSHOT_DIR: './backups' });
  });

  it('the CLI may run without Slack credentials; half of them, or a bad one, is still refused', () => {
    const store = { DATABASE_URL: 'postgres://x/y', REDIS_URL: 'redis://x' };
    expect(() => loadEnv(store)).toThrow(/SLACK_BOT_TOKEN/);
    const env = loadEnv(store, { slack: 'optional' });
    expect(slackConfigured(env)).toBe(false);
    expect(env.SLACK_BOT_TOKEN).toBe('');
    expect(() => loadEnv({ ...store, SLACK_BOT_TOKEN: 'xoxb-1' }, { slack: 'optional' })).toThrow(
      /SLACK_SIGNING_SECRET/,
    );
    expect(() =>
      loadEnv({ ...store, SLACK_BOT_TOKEN: 'nope', SLACK_SIGNING_SECRET: 'abcdefgh' }, { slack: 'optional' }),
    ).toThrow(/SLACK_BOT_TOKEN: must be a bot token/);
    expect(slackConfigured(loadEnv({ ...store, SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abcdefgh' }))).toBe(
      true,
    );
  });

  const base = { SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 'abcdefgh', DATABASE_URL: 'postgres://x/y' };
  it('takes Redis Sentinel or Cluster instead of REDIS_URL, and gives queue keys a hash tag on a Cluster', () => {
    const sentinel = loadEnv({
      ...base,
      REDIS_SENTINELS: '10.0.0.1:26379,10.0.0.2:26379',
      REDIS_SENTINEL_NAME: 'mymaster',
    });
    expect(redisTargetOf(sentinel)).toEqual({
      kind: 'sentinel',
      name: 'mymaster',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '10.0.0.2', port: 26379 },
      ],
    });
    const cluster = redisTargetOf(loadEnv({ ...base, REDIS_CLUSTER_NODES: 'redis-0:6379', REDIS_PASSWORD: 'pw' }));
    expect(cluster).toEqual({ kind: 'cluster', nodes: [{ host: 'redis-0', port: 6379 }], password: 'pw' });
    expect(queuePrefixFor(cluster, 'migrate-bot')).toBe('{migrate-bot}');
    expect(queuePrefixFor(redisTargetOf(sentinel), 'migrate-bot')).toBe('migrate-bot');
  });

  it.each([
    [{}, /REDIS_URL: is required \(or REDIS_SENTINELS/],
    [{ REDIS_SENTINELS: '10.0.0.1:26379' }, /REDIS_SENTINEL_NAME: is required with REDIS_SENTINELS/],
    [
      { REDIS_URL: 'redis://x', REDIS_CLUSTER_NODES: 'a:1' },
      /REDIS_CLUSTER_NODES: cannot be set together with REDIS_URL/,
    ],
    [{ REDIS_SENTINELS: '10.0.0.1', REDIS_SENTINEL_NAME: 'm' }, /REDIS_SENTINELS: must be host:port pairs/],
  ])('refuses Redis settings %j with a clear error', (redis, message) => {
    expect(() => loadEnv({ ...base, ...redis })).toThrow(message);
  });
});

describe('loadServices', () => {
  it('loads a valid file with defaults and resolves paths and connection strings', async () => {
    const file = await servicesFile(GOOD);
    const cfg = await loadServices(file, { TICKET_DATABASE_URL: 'postgres://db/tickets' });
    const svc = cfg.services.get('ticket-service')!;
    expect(svc.migrations).toEqual({
      tool: 'knex',
      table: 'knex_migrations',
      schema: 'public',
      directory: path.join(path.dirname(file), 'migrations'),
    });
    expect(svc.lock_timeout).toEqual({ text: '5s', ms: 5000 });
    expect(svc.step_timeout).toEqual({ text: '30min', ms: 1_800_000 });
    expect(svc.status_update_minutes).toBe(15);
    expect(svc.database_url).toBe('postgres://db/tickets');
    expect(svc.triage.statement_timeout.ms).toBe(5000);
    expect(svc.approvals).toEqual({ required: 2, destructive: 3, approvers: ['U0SRE001', 'U0OWN001', 'U0DBA001'] });
  });

  it('a user group among the approvers can hold any number of people, so the destructive tier needs no more IDs', async () => {
    const file = await servicesFile(GOOD.replace('[U0SRE001, U0OWN001, U0DBA001]', '[U0SRE001, S0ONCALL1]'));
    const svc = (await loadServices(file, { TICKET_DATABASE_URL: 'postgres://db/t' })).services.get('ticket-service')!;
    expect(svc.approvals).toEqual({ required: 2, destructive: 3, approvers: ['U0SRE001', 'S0ONCALL1'] });
  });

  it.each([
    [GOOD.replace('pg_dump', 'tape'), /services\.ticket-service\.snapshot\.provider/],
    [GOOD.replace('U0OWN001', 'bob'), /approvals\.approvers\.1: must be a Slack user ID/],
    [GOOD.replace('[U0SRE001, U0OWN001, U0DBA001]', '[U0SRE001]'), /at least as many distinct approvers/],
    [
      GOOD.replace('[U0SRE001, U0OWN001, U0DBA001]', '[U0SRE001, U0OWN001]'),
      /approvals\.destructive: destructive plans need 3 distinct approvers \(default: required \+ 1\) but only 2 are listed/,
    ],
    [
      GOOD.replace('{ required: 2,', '{ required: 2, destructive: 1,'),
      /approvals\.destructive: cannot be lower than `required`/,
    ],
    [GOOD.replace('U0DBA001', 'oncall-group'), /must be a Slack user ID like U0SRE001 or a user group ID/],
    [
      GOOD.replace('directory: ./migrations', 'directory: ./migrations, table: "x; drop"'),
      /migrations\.table: must be a plain SQL identifier/,
    ],
    [`${GOOD}    lock_timeout: forever\n`, /lock_timeout: must be a duration/],
    [`${GOOD}    step_timeout: 2 hours\n`, /step_timeout: must be a duration like 500ms, 5s, 2min or 1h/],
    [
      GOOD.replace('snapshot: { provider: pg_dump }', 'snapshot: { provider: none, waiver_reason: x }'),
      /waiver_reason/,
    ],
    [
      GOOD.replace('snapshot: { provider: pg_dump }', 'snapshot: { provider: pg_dump, storage: s3 }'),
      /snapshot\.bucket: is required with `storage: s3`/,
    ],
    [
      GOOD.replace('snapshot: { provider: pg_dump }', 'snapshot: { provider: pg_dump, bucket: my-dumps }'),
      /snapshot\.bucket: applies only with `storage: s3`/,
    ],
    [
      GOOD.replace('snapshot: { provider: pg_dump }', 'snapshot: { provider: pg_dump, storage: s3, bucket: My_Dumps }'),
      /snapshot\.bucket: must be an S3 bucket name/,
    ],
    [
      GOOD.replace(
        'snapshot: { provider: pg_dump }',
        'snapshot: { provider: pg_dump, storage: s3, bucket: dumps, prefix: "a/../b" }',
      ),
      /snapshot\.prefix: must not start with \/, hold \/\/ or a \.\. segment/,
    ],
    [
      GOOD.replace('snapshot: { provider: pg_dump }', 'snapshot: { provider: pg_dump, storage: gcs, bucket: dumps }'),
      /snapshot\.storage/,
    ],
    ['services: [oops', /services\.yaml is not valid/],
  ])('refuses an invalid file, naming the key path (%#)', async (text, message) => {
    const file = await servicesFile(text);
    await expect(loadServices(file, { TICKET_DATABASE_URL: 'postgres://db/t' })).rejects.toThrow(message);
  });

  it('takes pg_dump snapshots to S3 with a bucket, prefix and KMS key', async () => {
    const file = await servicesFile(
      GOOD.replace(
        'snapshot: { provider: pg_dump }',
        'snapshot: { provider: pg_dump, storage: s3, bucket: acme-db-dumps, prefix: prod/tickets, kms_key_id: alias/dumps, keep: 5 }',
      ),
    );
    const svc = (await loadServices(file, { TICKET_DATABASE_URL: 'postgres://db/t' })).services.get('ticket-service')!;
    expect(svc.snapshot).toMatchObject({
      provider: 'pg_dump',
      storage: 's3',
      bucket: 'acme-db-dumps',
      prefix: 'prod/tickets',
      kms_key_id: 'alias/dumps',
      keep: 5,
      force_path_style: false,
    });
  });

  it.each([
    ['node-pg-migrate', '', { table: 'pgmigrations', schema: 'public' }],
    ['sql', '', { table: 'schema_migrations', schema: 'public' }],
    ['drizzle', '', { table: '__drizzle_migrations', schema: 'drizzle' }],
    ['drizzle', ', rollback_directory: ./downs', { rollback_directory: 'downs' }],
  ])('accepts tool %s with its own defaults (%#)', async (tool, extra, expected) => {
    const file = await servicesFile(
      GOOD.replace('{ tool: knex, directory: ./migrations }', `{ tool: ${tool}, directory: ./migrations${extra} }`),
    );
    const svc = (await loadServices(file, { TICKET_DATABASE_URL: 'postgres://db/t' })).services.get('ticket-service')!;
    const want = { ...expected } as Record<string, string>;
    if (want.rollback_directory) want.rollback_directory = path.join(path.dirname(file), want.rollback_directory);
    expect(svc.migrations).toMatchObject({ tool, directory: path.join(path.dirname(file), 'migrations'), ...want });
  });

  it("names the four accepted tools for an unknown one, and refuses another tool's options", async () => {
    const unknown = await servicesFile(GOOD.replace('tool: knex', 'tool: flyway'));
    await expect(loadServices(unknown, { TICKET_DATABASE_URL: 'postgres://db/t' })).rejects.toThrow(
      /services\.ticket-service\.migrations\.tool: tool must be one of knex, node-pg-migrate, sql, drizzle/,
    );
    const foreign = await servicesFile(
      GOOD.replace(
        'tool: knex, directory: ./migrations',
        'tool: knex, directory: ./migrations, rollback_directory: ./r',
      ),
    );
    await expect(loadServices(foreign, { TICKET_DATABASE_URL: 'postgres://db/t' })).rejects.toThrow(
      /services\.ticket-service\.migrations: Unrecognized key: "rollback_directory"/,
    );
  });

  it('refuses a service that does not say who may open incidents, showing the lines to add', async () => {
    const file = await servicesFile(GOOD.replace('    access: { requesters: anyone }\n', ''));
    const err = await loadServices(file, { TICKET_DATABASE_URL: 'postgres://db/t' }).catch((e: Error) => e);
    expect((err as Error).message).toContain(
      'services.ticket-service.access.requesters: required — say who may open incidents on ticket-service',
    );
    expect((err as Error).message).toContain('requesters: [S0ONCALL, U0SRE001]');
  });

  it('applies defaults.access field by field: a service overrides what it sets and inherits the rest', async () => {
    const file = await servicesFile(
      `defaults:\n  access: { requesters: [S0ONCALL1], break_glass: [U0LEAD001], private: true }\n${GOOD.replace(
        '    access: { requesters: anyone }\n',
        '    access: { readers: [U0SRE001] }\n',
      )}`,
    );
    const svc = (await loadServices(file, { TICKET_DATABASE_URL: 'postgres://db/t' })).services.get('ticket-service')!;
    expect(svc.access).toEqual({
      requesters: ['S0ONCALL1'],
      readers: ['U0SRE001'],
      break_glass: ['U0LEAD001'],
      private: true,
      rate_limits: { incidents_per_hour: 10, commands_per_minute: 30 },
    });
    const bare = await servicesFile(GOOD);
    expect(
      (await loadServices(bare, { TICKET_DATABASE_URL: 'postgres://db/t' })).services.get('ticket-service')!.access,
    ).toEqual({
      requesters: 'anyone',
      readers: 'anyone',
      break_glass: [],
      private: false,
      rate_limits: { incidents_per_hour: 10, commands_per_minute: 30 },
    });
  });

  it('refuses an access list that is empty or names something that is not a user or group', async () => {
    for (const bad of ['requesters: []', 'requesters: [everyone]', 'break_glass: anyone']) {
      const file = await servicesFile(GOOD.replace('access: { requesters: anyone }', `access: { ${bad} }`));
      await expect(loadServices(file, { TICKET_DATABASE_URL: 'postgres://db/t' }), bad).rejects.toThrow(
        /services\.ticket-service\.access\.(requesters|break_glass)/,
      );
    }
  });

  it('names a migrations directory that does not exist, with its path', async () => {
    const file = await servicesFile(GOOD, { migrationsDir: false });
    await expect(loadServices(file, { TICKET_DATABASE_URL: 'postgres://db/t' })).rejects.toThrow(
      `services.ticket-service.migrations.directory: ${path.join(path.dirname(file), 'migrations')} is not a directory`,
    );
  });

  it('services.example.yaml is valid: one service per migration tool', async () => {
    const env = {
      TICKET_DATABASE_URL: 'postgres://db/t',
      USERS_DATABASE_URL: 'postgres://db/u',
      BILLING_DATABASE_URL: 'postgres://db/b',
      PLATFORM_DATABASE_URL: 'postgres://db/p',
    };
    const cfg = await loadServices(path.resolve('services.example.yaml'), env);
    expect([...cfg.services.values()].map((s) => s.migrations.tool)).toEqual([
      'knex',
      'node-pg-migrate',
      'sql',
      'drizzle',
    ]);
  });

  it('names the missing connection-string variable', async () => {
    const file = await servicesFile(GOOD);
    await expect(loadServices(file, {})).rejects.toThrow(
      /services\.ticket-service\.database_url_env: environment variable TICKET_DATABASE_URL is not set/,
    );
  });
});
