import { z } from 'zod';
import type { MigrationTool, TrackingDescription } from '../../domain/rollback/migration-tool.js';
import type { Logger } from '../../shared/logger.js';
import { drizzleTool } from './drizzle-migration-tool.js';
import { knexTool } from './knex-migration-tool.js';
import { nodePgMigrateTool } from './node-pg-migrate-tool.js';
import type { MigrationsBase, MigrationToolPlugin } from './plugin.js';
import { sqlTool } from './sql-migration-tool.js';

/**
 * The migration tools the bot can roll back, one line each (DESIGN.md "Plugins come from
 * registries"). services.yaml validation, triage and the composition root ask this list;
 * nothing else names a tool. A new tool is one adapter file and one line here.
 */
export const MIGRATION_TOOLS = [knexTool, nodePgMigrateTool, sqlTool, drizzleTool] as const;

/** The values `migrations.tool` accepts, in registry order. */
export const MIGRATION_TOOL_NAMES = MIGRATION_TOOLS.map((t) => t.tool);

/**
 * `migrations:` of services.yaml: a union on `tool`, each tool with its own strict options.
 * An unknown or missing `tool` names the accepted ones.
 */
export const MigrationsConfigSchema = z.discriminatedUnion(
  'tool',
  MIGRATION_TOOLS.map((t) => t.options) as unknown as [
    z.ZodObject<{ tool: z.ZodLiteral<string> }>,
    ...Array<z.ZodObject<{ tool: z.ZodLiteral<string> }>>,
  ],
  {
    error: (issue) =>
      issue.code === 'invalid_union' ? `tool must be one of ${MIGRATION_TOOL_NAMES.join(', ')}` : undefined,
  },
);

/** One service's `migrations:` once loaded: the tool's own options, `directory` absolute. */
export type MigrationsConfig = MigrationsBase & Record<string, unknown>;

function pluginOf(tool: string): MigrationToolPlugin {
  const plugin = MIGRATION_TOOLS.find((t) => t.tool === tool);
  if (!plugin)
    throw new Error(
      `no migration tool ${tool} in the registry (services.yaml validation lets only ${MIGRATION_TOOL_NAMES.join(', ')} through)`,
    );
  return plugin as unknown as MigrationToolPlugin;
}

/** What the service's tracking table looks like (no connection): for triage and status. */
export function trackingOf(migrations: MigrationsConfig, databaseUrl?: string): TrackingDescription {
  return pluginOf(migrations.tool).tracking(migrations, databaseUrl);
}

/** Timeouts of the service-database sessions a MigrationTool opens, ms. */
export interface MigrationToolTimeouts {
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
  /** The dry run of one JS migration function (default 10 000). */
  captureTimeoutMs?: number;
}

/** A fresh MigrationTool for `service`, from its `migrations.tool`; the caller closes it. */
export function createMigrationTool(
  service: { name: string; database_url: string; migrations: MigrationsConfig },
  logger: Logger,
  timeouts: MigrationToolTimeouts = {},
): MigrationTool {
  return pluginOf(service.migrations.tool).create(service.migrations, {
    service: service.name,
    url: service.database_url,
    logger,
    ...timeouts,
  });
}

/**
 * Tools for scratch databases: `(service, url)` gives the service's MigrationTool pointed at `url`
 * (the fingerprint's reference, the schema check, `migrate-bot check`), logging as a scratch tool.
 */
export function scratchToolFor(
  logger: Logger,
): (
  service: { name: string; database_url: string; migrations: MigrationsConfig },
  databaseUrl: string,
) => MigrationTool {
  return (service, databaseUrl) =>
    createMigrationTool(
      { ...service, database_url: databaseUrl },
      logger.child({ service: service.name, scratch: true }),
    );
}
