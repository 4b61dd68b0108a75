import { cp, mkdtemp, appendFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMigrationTool } from '../../src/adapters/migrations/migration-tool-registry.js';
import {
  expectedSchema,
  expectedSchemaKey,
  PostgresExpectedSchemaStore,
  type ExpectedSchemaDeps,
} from '../../src/adapters/postgres/expected-schema.js';
import { fingerprintCheck } from '../../src/adapters/postgres/schema-fingerprint.js';
import type { ServiceConfig } from '../../src/config/services.js';
import { silentLogger } from '../../src/shared/logger.js';
import { ADMIN_URL, type TestDatabase } from '../support/postgres.js';
import { createStateDatabase, type StateDatabase } from '../support/state-db.js';
import { query } from '../support/e2e-helpers.js';
import {
  createTicketServiceDb,
  TABLES_OF_007,
  TICKET_MIGRATIONS_DIR,
  ticketServiceConfig,
} from '../support/ticket-service.js';

describe("the schema fingerprint's reference: built once on a scratch database, kept by content", () => {
  let db: TestDatabase;
  let state: StateDatabase;
  let dir: string;
  let builds = 0;
  /** The scratch databases this file's builds made (names are the bot's own `migrate_bot_verify_…`). */
  const scratchNames: string[] = [];
  const deps = (): ExpectedSchemaDeps => ({
    toolFor: (svc: ServiceConfig, url: string) => {
      builds++;
      scratchNames.push(decodeURIComponent(new URL(url).pathname.slice(1)));
      return createMigrationTool({ ...svc, database_url: url }, silentLogger);
    },
    now: () => new Date(),
    store: new PostgresExpectedSchemaStore(state.pool),
  });
  const scratchDatabases = async () =>
    (
      await query<{ datname: string }>(ADMIN_URL, 'SELECT datname FROM pg_database WHERE datname = ANY($1)', [
        scratchNames,
      ])
    ).length;

  beforeAll(async () => {
    db = await createTicketServiceDb();
    state = await createStateDatabase('mb_state', 2);
    dir = await mkdtemp(path.join(os.tmpdir(), 'mb-expected-'));
    await cp(TICKET_MIGRATIONS_DIR, dir, { recursive: true });
  });
  afterAll(async () => {
    await state?.close();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('builds the schema of the migrations that stay applied, drops the scratch database, then answers from the store', async () => {
    const service = ticketServiceConfig(db.url, { directory: dir });
    const tool = createMigrationTool(service, silentLogger);
    try {
      const through = (await tool.listApplied()).filter((m) => !m.name.startsWith('007'));
      builds = 0;
      const first = await expectedSchema(service, tool, through, deps());
      expect(first.cached).toBe(false);
      expect(builds).toBe(1);
      expect(first.through).toEqual(through.map((m) => m.name));
      expect(first.lines).toContain('table public.tickets (r) row level security');
      // 007 is not in `through`: its tables are not in the reference, though the service database still has them.
      for (const t of TABLES_OF_007) expect(first.lines.some((l) => l.includes(`public.${t} `))).toBe(false);
      // Named from the bot's own lowercase pattern whatever the service database is called, so it can always be dropped.
      expect(scratchNames).toEqual([expect.stringMatching(/^migrate_bot_verify_\d{8}_\d{6}_[0-9a-f]{6}$/)]);
      expect(await scratchDatabases()).toBe(0);

      const second = await expectedSchema(service, tool, through, deps());
      expect(second).toMatchObject({ cached: true, lines: first.lines, builtMs: first.builtMs });
      expect(builds).toBe(1);

      // As if the tracking table had lost 007 but its tables stayed (a down that did not run):
      // the check fails, naming 007's tables, without building again.
      const trackingWithout007 = Object.assign(Object.create(tool) as typeof tool, {
        listApplied: async () => through,
      });
      const check = await fingerprintCheck(service, trackingWithout007, deps());
      expect(check.status).toBe('failed');
      expect(check.detail).toMatch(/reference built before approval/);
      expect(check.problems.join('\n')).toContain(
        'only in the service database: table public.failed_login_attempts (r)',
      );
      expect(builds).toBe(1);
    } finally {
      await tool.close();
    }
  });

  it("builds again when a migration file's bytes or the list of migrations change", async () => {
    const service = ticketServiceConfig(db.url, { directory: dir });
    const tool = createMigrationTool(service, silentLogger);
    try {
      const applied = await tool.listApplied();
      const all = await expectedSchemaKey(service, applied);
      const without007 = await expectedSchemaKey(service, applied.slice(0, -1));
      expect(all).toMatch(/^[0-9a-f]{64}$/);
      expect(without007).not.toBe(all);

      builds = 0;
      await expectedSchema(service, tool, applied, deps());
      await expectedSchema(service, tool, applied, deps());
      expect(builds).toBe(1);
      const first = applied[0]!.name;
      await appendFile(path.join(dir, first), '\n// edited after the reference was built\n');
      expect(await expectedSchemaKey(service, applied)).not.toBe(all);
      const rebuilt = await expectedSchema(service, tool, applied, deps());
      expect(rebuilt.cached).toBe(false);
      expect(builds).toBe(2);
    } finally {
      await tool.close();
    }
  });
});
