import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { ArchiveConfigSchema } from './archive-config.js';
import { EnvVarName } from './env-var-name.js';
import { RehearsalConfigSchema, VerifyConfigSchema } from './verify-config.js';
import { MigrationsConfigSchema, type MigrationsConfig } from '../adapters/migrations/migration-tool-registry.js';
import { AppError } from '../shared/errors.js';
import { DurationSchema } from './duration.js';
import { SnapshotConfigSchema } from './snapshot-config.js';
import {
  FollowupsConfigSchema,
  IncidentConfigSchema,
  PageAfterMinutesSchema,
  PagingConfigSchema,
  ProcessDefaultsSchema,
  resolveProcess,
  type ServiceProcess,
} from './process-config.js';
import { registerSecret } from '../shared/redact.js';

export { SnapshotConfigSchema } from './snapshot-config.js';

/** Slack user IDs (`U…` or `W…` for Enterprise Grid). */
const SlackUserId = z.string().regex(/^[UW][A-Z0-9]{2,}$/, 'must be a Slack user ID like U0SRE001');

/** An approver: a Slack user ID, or a user group (`S…`) whose members (`usergroups.users.list`) are read when an incident opens and kept with it. */
const Approver = z
  .string()
  .regex(
    /^([UW][A-Z0-9]{2,}|S[A-Z0-9]{2,})$/,
    'must be a Slack user ID like U0SRE001 or a user group ID like S0ONCALL1',
  );

/** A Slack channel ID (`C…` public, `G…` private). */
const SlackChannelId = z.string().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel ID like C0STAKE001');

/** Who may: `anyone` in the workspace, or a list of Slack users (`U…`/`W…`) and user groups (`S…`). */
const Audience = z.union([
  z.literal('anyone'),
  z.array(Approver).min(1, 'list at least one user or group, or write anyone'),
]);

/**
 * `access:` of a service (or of `defaults:`, which services inherit field by field): who may open
 * incidents, who may read, who may break glass, and whether incident channels are private.
 */
export const AccessSchema = z
  .object({
    /** Who may open rollback, restore and snapshot incidents. Required (in the service or in `defaults:`). */
    requesters: Audience.optional(),
    /** Who may run triage, status, plan, timeline and verify. Default: anyone. */
    readers: Audience.optional(),
    /** Who may use `--break-glass`. Default: nobody. */
    break_glass: z.array(Approver).optional(),
    /** Incident channels as private channels (`conversations.create` `is_private`). Default false. */
    private: z.boolean().optional(),
    /** Per user: incident-opening commands per hour and commands of any kind per minute. */
    rate_limits: z
      .object({
        incidents_per_hour: z.number().int().min(1).max(1000).default(10),
        commands_per_minute: z.number().int().min(1).max(1000).default(30),
      })
      .strict()
      .optional(),
  })
  .strict();

/** A service's access rules after `defaults:` are applied. */
export interface ServiceAccess {
  requesters: 'anyone' | string[];
  readers: 'anyone' | string[];
  /** Empty: nobody may break glass. */
  break_glass: string[];
  private: boolean;
  /** Per user: opening commands (rollback, restore, snapshot, retry) per hour, and any command per minute. */
  rate_limits: { incidents_per_hour: number; commands_per_minute: number };
}

export const TriageConfigSchema = z
  .object({
    /** Env var holding a read-only role's connection string for triage (pg_monitor + SELECT on tracking tables). */
    database_url_env: EnvVarName.optional(),
    long_transaction_seconds: z.number().positive().default(30),
    exact_count_max_rows: z.number().int().nonnegative().default(1_000_000),
    statement_timeout: DurationSchema.prefault('5s'),
    lock_timeout: DurationSchema.prefault('1s'),
    /** Triage connections to this database at once, across every concurrent `/migrate triage` in the process. */
    max_connections: z.number().int().min(1).max(50).default(4),
  })
  .strict();

export const ServiceSchema = z
  .object({
    database_url_env: EnvVarName,
    access: AccessSchema.optional(),
    /** The migration tool and its options: one of the registry's (`adapters/migrations/registry.ts`). */
    migrations: MigrationsConfigSchema,
    snapshot: SnapshotConfigSchema,
    approvals: z
      .object({
        required: z.number().int().min(1).max(10).default(2),
        /**
         * Distinct approvers a plan with data-loss, security or irreversibility risk needs,
         * each confirming in a modal; default `required + 1`.
         */
        destructive: z.number().int().min(1).max(10).optional(),
        approvers: z.array(Approver).min(1),
        /** Page the service's rotation when a plan waited this many minutes for approvals (fractions allowed; default 10, or `defaults.approvals`). */
        page_after_minutes: PageAfterMinutesSchema.optional(),
      })
      .strict()
      .transform((a) => ({ ...a, destructive: a.destructive ?? a.required + 1 }))
      .superRefine((a, ctx) => {
        // User groups can hold any number of people; a list of users alone must be able to reach both tiers.
        const users = new Set(a.approvers.filter((x) => !x.startsWith('S'))).size;
        const groups = a.approvers.some((x) => x.startsWith('S'));
        if (!groups && users < a.required)
          ctx.addIssue({ code: 'custom', message: 'needs at least as many distinct approvers as `required`' });
        else if (a.destructive < a.required)
          ctx.addIssue({ code: 'custom', path: ['destructive'], message: 'cannot be lower than `required`' });
        else if (!groups && users < a.destructive) {
          ctx.addIssue({
            code: 'custom',
            path: ['destructive'],
            message: `destructive plans need ${a.destructive} distinct approvers (default: required + 1) but only ${users} are listed; list more approvers or a user group (S…), or set approvals.destructive`,
          });
        }
      }),
    /**
     * Link to the incident ticket, with `{incident}` (the id), `{short_id}` and `{service}` filled
     * in, e.g. `https://tickets.example.com/new?ref=migrate-bot-{short_id}`; on the resolution and the timeline.
     */
    ticket_url: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')
      .refine(
        (u) => (u.match(/\{[^}]*\}/g) ?? []).every((p) => ['{incident}', '{short_id}', '{service}'].includes(p)),
        { message: 'placeholders are {incident}, {short_id} and {service}' },
      )
      .optional(),
    /** The rollback runbook people follow (e.g. runbook 003 in your docs), bookmarked in every incident channel. */
    runbook_url: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')
      .optional(),
    /** Stakeholder channel: break-glass notices (and the incident's milestones) are posted there with a link to the incident channel. */
    announce_channel: SlackChannelId.optional(),
    /** Extra people invited to every incident channel of this service (on-call, owners). */
    invite: z.array(SlackUserId).default([]),
    /** Archive the incident channel this many minutes after the incident ended (resolved or closed); absent: never. */
    archive_after_minutes: z
      .number()
      .positive()
      .max(60 * 24 * 90)
      .optional(),
    /** Minutes between status updates (runbook 003: every 15–30 minutes). */
    status_update_minutes: z
      .number()
      .positive()
      .max(24 * 60)
      .default(15),
    /** `SET lock_timeout` for every down migration (runbook 000 "Always Use lock_timeout"). */
    lock_timeout: DurationSchema.prefault('5s'),
    /**
     * The longest one down may run (runbook 000 "Issue: Migration timeout"): its `statement_timeout`
     * and the deadline after which the bot cancels the step (a JS down that awaits forever
     * included) and fails the incident. Shown on the plan card.
     */
    step_timeout: DurationSchema.prefault('30min'),
    triage: TriageConfigSchema.prefault({}),
    /** Severity defaults of this service (docs/incident-process.md). */
    incident: IncidentConfigSchema.optional(),
    /** Paging provider (PagerDuty Events API v2); absent: no pages. */
    paging: PagingConfigSchema.optional(),
    /** Where follow-ups become tickets (Jira or Linear); absent: a checklist in the channel and the postmortem. */
    followups: FollowupsConfigSchema.optional(),
    /** Archive what a down destroys before it runs (`off`, or the schema and limits). */
    archive: ArchiveConfigSchema,
    /** Checks after every rollback and on `/migrate verify` (runbook 003 "Post-rollback verification", runbook 001 postflight). */
    verify: VerifyConfigSchema,
    /** Rehearsals (runbook 003 scenario 3: "reproduce on a restored test copy"). */
    rehearsal: RehearsalConfigSchema,
  })
  .strict();

export const ServicesFileSchema = z
  .object({
    /**
     * Settings every service inherits unless it sets its own: `access` (field by field), and the
     * incident process (`severities`, `incident`, `paging`, `followups`, `approvals.page_after_minutes`).
     */
    defaults: z
      .object({ access: AccessSchema.optional(), ...ProcessDefaultsSchema })
      .strict()
      .optional(),
    /** Default runbook link for services without their own `runbook_url`. */
    runbook_url: z
      .string()
      .regex(/^https?:\/\/\S+$/, 'must be an http(s) URL')
      .optional(),
    /** Default stakeholder channel for services without their own `announce_channel`. */
    announce_channel: SlackChannelId.optional(),
    services: z.record(
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'service names are lowercase letters, digits and -, at most 40 characters'),
      ServiceSchema,
    ),
  })
  .strict()
  .refine((f) => Object.keys(f.services).length > 0, { message: 'must list at least one service', path: ['services'] });

type ServiceFileEntry = z.infer<typeof ServiceSchema>;

/** One service from services.yaml, with paths made absolute and connection strings resolved. */
export interface ServiceConfig
  extends Omit<
    ServiceFileEntry,
    'migrations' | 'triage' | 'rehearsal' | 'verify' | 'access' | 'incident' | 'paging' | 'followups'
  > {
  /** Severities, paging and follow-ups (service sections over `defaults:`, secrets read). */
  process: ServiceProcess;
  /** Who may do what (`access:` merged over `defaults.access`). */
  access: ServiceAccess;
  /** The key under `services:`. */
  name: string;
  /** Connection string from `database_url_env` (secret: never log or post it unredacted). */
  database_url: string;
  /** The tool's options; every `*directory` key is an absolute path. */
  migrations: MigrationsConfig;
  triage: ServiceFileEntry['triage'] & { database_url: string };
  /** `database_url` is the scratch server's connection string (secret), or the service's own. */
  rehearsal: ServiceFileEntry['rehearsal'] & { database_url: string };
  /** `scratch_database_url` is resolved from `scratch_database_url_env` (secret), or empty: the service's server. */
  verify: ServiceFileEntry['verify'] & { scratch_database_url?: string };
}

/** The validated services.yaml. */
export interface ServicesConfig {
  /** Absolute path of the file it came from. */
  file: string;
  services: ReadonlyMap<string, ServiceConfig>;
}

/** Makes every `*directory` option of a tool absolute, relative to services.yaml's folder. */
function resolveDirectories(migrations: MigrationsConfig, base: string): MigrationsConfig {
  const out: MigrationsConfig = { ...migrations };
  for (const [key, value] of Object.entries(migrations)) {
    if (key.endsWith('directory') && typeof value === 'string')
      (out as Record<string, unknown>)[key] = path.resolve(base, value);
  }
  return out;
}

/**
 * Reads, parses and validates services.yaml, resolving each service's
 * `database_url_env` (and `triage.database_url_env`) from `env`.
 *
 * @param file path to services.yaml (relative to the working directory)
 * @param env variables to resolve connection strings from (default `process.env`)
 * @throws AppError `config_services_invalid` naming the file, the key path and the problem
 *   (YAML syntax errors carry their line and column; missing env vars and migrations
 *   directories that do not exist are named).
 */
export async function loadServices(
  file: string,
  env: Record<string, string | undefined> = process.env,
): Promise<ServicesConfig> {
  const abs = path.resolve(file);
  const fail = (problems: string[]): never => {
    throw new AppError({
      code: 'config_services_invalid',
      message: `${abs} is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    });
  };

  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (cause) {
    throw new AppError({
      code: 'config_services_invalid',
      message: `cannot read ${abs}: ${(cause as Error).message}`,
      cause,
    });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) fail(doc.errors.map((e) => e.message.split('\n')[0] ?? e.message));

  const parsed = ServicesFileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    fail(parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`));
  }
  const data = parsed.data!;

  const problems: string[] = [];
  const services = new Map<string, ServiceConfig>();
  for (const [name, svc] of Object.entries(data.services)) {
    const url = env[svc.database_url_env];
    if (!url)
      problems.push(`services.${name}.database_url_env: environment variable ${svc.database_url_env} is not set`);
    const triageEnv = svc.triage.database_url_env;
    const triageUrl = triageEnv ? env[triageEnv] : url;
    if (triageEnv && !triageUrl)
      problems.push(`services.${name}.triage.database_url_env: environment variable ${triageEnv} is not set`);
    const rehearsalEnv = svc.rehearsal.database_url_env;
    const rehearsalUrl = rehearsalEnv ? env[rehearsalEnv] : url;
    if (rehearsalEnv && !rehearsalUrl)
      problems.push(`services.${name}.rehearsal.database_url_env: environment variable ${rehearsalEnv} is not set`);
    const scratchEnv = svc.verify.scratch_database_url_env;
    const scratchUrl = scratchEnv ? env[scratchEnv] : undefined;
    if (scratchEnv && !scratchUrl)
      problems.push(`services.${name}.verify.scratch_database_url_env: environment variable ${scratchEnv} is not set`);
    const access = { ...data.defaults?.access, ...svc.access };
    if (!access.requesters)
      problems.push(
        `services.${name}.access.requesters: required — say who may open incidents on ${name}, in the service or under defaults:\n` +
          '      access:\n        requesters: [S0ONCALL, U0SRE001]   # Slack user groups or users; or: requesters: anyone',
      );
    const incidentProcess = resolveProcess(
      name,
      svc,
      svc.approvals.page_after_minutes,
      data.defaults ?? {},
      env,
      problems,
    );
    if (incidentProcess.paging) registerSecret(incidentProcess.paging.routing_key);
    if (incidentProcess.followups) registerSecret(incidentProcess.followups.token);
    const migrations = resolveDirectories(svc.migrations as MigrationsConfig, path.dirname(abs));
    const dir = await stat(migrations.directory).catch(() => null);
    if (!dir?.isDirectory())
      problems.push(`services.${name}.migrations.directory: ${migrations.directory} is not a directory`);
    const { incident: _incident, paging: _paging, followups: _followups, ...entry } = svc;
    services.set(name, {
      ...entry,
      process: incidentProcess,
      ...((svc.announce_channel ?? data.announce_channel)
        ? { announce_channel: svc.announce_channel ?? data.announce_channel }
        : {}),
      ...((svc.runbook_url ?? data.runbook_url) ? { runbook_url: svc.runbook_url ?? data.runbook_url } : {}),
      name,
      access: {
        requesters: access.requesters ?? [],
        readers: access.readers ?? 'anyone',
        break_glass: access.break_glass ?? [],
        private: access.private ?? false,
        rate_limits: access.rate_limits ?? { incidents_per_hour: 10, commands_per_minute: 30 },
      },
      database_url: url ?? '',
      migrations,
      triage: { ...svc.triage, database_url: triageUrl ?? '' },
      rehearsal: { ...svc.rehearsal, database_url: rehearsalUrl ?? '' },
      verify: { ...svc.verify, ...(scratchUrl ? { scratch_database_url: scratchUrl } : {}) },
    });
  }
  if (problems.length > 0) fail(problems);
  return { file: abs, services };
}
