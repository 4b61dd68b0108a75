import pLimit from 'p-limit';
import type pg from 'pg';
import { createMigrationTool, scratchToolFor } from '../adapters/migrations/migration-tool-registry.js';
import { revertedMigrations } from '../domain/rollback/plan.js';
import { PostgresDownCheckStore } from '../adapters/postgres/down-check-store.js';
import { expectedSchema, PostgresExpectedSchemaStore } from '../adapters/postgres/expected-schema.js';
import { runVerification } from '../adapters/postgres/verification-runner.js';
import { checkPlanSchema } from '../adapters/schema/plan-schema-check.js';
import type { ServiceConfig } from '../config/services.js';
import type { IncidentDeps } from '../domain/incident/ports/deps.js';
import type { MigrationTool } from '../domain/rollback/migration-tool.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';

/**
 * Plan schema checks one process runs at once: each makes two scratch databases, two builds and a
 * pg_dump of the live schema, so a burst of incidents queues here instead of loading the servers.
 */
export const SCHEMA_CHECKS_AT_ONCE = 4;

/**
 * The parts of the engine that build schemas on scratch databases: verification (with the
 * schema fingerprint), the fingerprint's reference built before approval, and the plan's check
 * against the schemas with its computed plan. Each opens a MigrationTool on the service and
 * closes it after.
 */
export function schemaParts(
  pool: pg.Pool,
  clock: Clock,
  logger: Logger,
): Pick<IncidentDeps, 'verify' | 'expectSchema' | 'checkPlanSchema'> {
  const scratch = {
    toolFor: scratchToolFor(logger),
    now: () => clock.now(),
    store: new PostgresExpectedSchemaStore(pool),
    logger,
  };
  const records = new PostgresDownCheckStore(pool);
  const oneAtATime = pLimit(SCHEMA_CHECKS_AT_ONCE);
  const withTool = async <T>(service: ServiceConfig, fn: (tool: MigrationTool) => Promise<T>): Promise<T> => {
    const tool = createMigrationTool(service, logger.child({ service: service.name }));
    try {
      return await fn(tool);
    } finally {
      await tool.close().catch(() => undefined);
    }
  };
  return {
    verify: (service, plan) => withTool(service, (tool) => runVerification(service, plan, { tool, deps: scratch })),
    expectSchema: (service, plan) =>
      withTool(service, async (tool) => {
        if (!tool.migrateUp) return null;
        const reverted = new Set(revertedMigrations(plan));
        const through = (await tool.listApplied()).filter((m) => !reverted.has(m.name));
        const built = await expectedSchema(service, tool, through, scratch);
        return { objects: built.lines.length, builtMs: built.builtMs, cached: built.cached };
      }),
    checkPlanSchema: (service, plan, options) =>
      oneAtATime(() =>
        withTool(service, (tool) =>
          checkPlanSchema(service, tool, plan, {
            ...scratch,
            expected: scratch.store,
            records,
            onScratch: options?.onScratch,
          }),
        ),
      ),
  };
}
