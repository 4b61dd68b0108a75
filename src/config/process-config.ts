import { EnvVarName } from './env-var-name.js';
import { z } from 'zod';

/**
 * The company's incident process in services.yaml: severities, the default severity, paging
 * and follow-up tickets. Every section may sit in a service or under the top-level `defaults:`
 * (a service's own section replaces the default one whole); `severities` is file-wide.
 * See docs/incident-process.md.
 */

const HttpsUrl = z
  .string()
  .regex(/^https?:\/\/[^\s/]+(\/\S*)?$/, 'must be an http(s) URL like https://example.atlassian.net');

/** One severity level; the list's order is the level: the first is SEV1 (the worst). */
export const SeveritySchema = z
  .object({
    /** As people say it, e.g. `SEV1`, `P1`, `Critical`: letters, digits and `-`, at most 16 characters. */
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9-]{0,15}$/, 'a severity name is like SEV1 or P2 (letters, digits, -)'),
    /** One line for people choosing it, e.g. "customers cannot use the product". */
    description: z.string().trim().min(3).max(200),
    /** Page the service's on-call when an incident opens at this severity (needs `paging:`). */
    page: z.boolean().default(false),
    /** Minutes between status updates at this severity; absent: the service's `status_update_minutes`. */
    status_update_minutes: z
      .number()
      .positive()
      .max(24 * 60)
      .optional(),
  })
  .strict();

/** A severity level as configured. */
export type SeverityLevel = z.infer<typeof SeveritySchema>;

/**
 * SEV1–SEV4 as most incident processes define them (PagerDuty's "Severity levels" guide): the
 * two worst page on open. Status updates follow the service's `status_update_minutes` unless a
 * level sets its own (docs/incident-process.md shows SEV1 every 15 and SEV3 every 30 minutes).
 */
export const DEFAULT_SEVERITIES: readonly SeverityLevel[] = [
  {
    name: 'SEV1',
    description: 'critical: customers cannot use the product, or data is being lost',
    page: true,
  },
  {
    name: 'SEV2',
    description: 'major: a core feature is down or badly degraded for many customers',
    page: true,
  },
  { name: 'SEV3', description: 'minor: limited impact, a workaround exists', page: false },
  { name: 'SEV4', description: 'low: no customer impact yet', page: false },
];

export const SeveritiesSchema = z
  .array(SeveritySchema)
  .min(1)
  .max(10)
  .refine((l) => new Set(l.map((s) => s.name.toLowerCase())).size === l.length, 'severity names must be unique');

/** `incident:` of a service. */
export const IncidentConfigSchema = z
  .object({
    /** Severity of an incident opened without `--sev`: a name from `severities` (default: the third, SEV3). */
    default_severity: z.string().min(1).max(16).optional(),
  })
  .strict();

/**
 * `paging:` — PagerDuty Events API v2 (developer.pagerduty.com "Send an Alert Event"):
 * `trigger`, `acknowledge` and `resolve` events with a `dedup_key` per incident.
 */
export const PagingConfigSchema = z.discriminatedUnion('provider', [
  z
    .object({
      provider: z.literal('pagerduty'),
      /** Env var holding the service integration's routing key (32 characters; a secret). */
      routing_key_env: EnvVarName,
      /** Events API endpoint; another URL for a proxy or a test stand-in. */
      events_url: HttpsUrl.default('https://events.pagerduty.com/v2/enqueue'),
    })
    .strict(),
]);

/**
 * `followups:` — where follow-ups become tickets: Jira (Cloud REST v3 `POST /rest/api/3/issue`;
 * the variable holds `email:api_token`, sent as Basic auth; a value without `:` is a Data Center
 * personal access token, sent as Bearer) or Linear (GraphQL `issueCreate`).
 */
export const FollowupsConfigSchema = z.discriminatedUnion('provider', [
  z
    .object({
      provider: z.literal('jira'),
      /** The Jira site, e.g. `https://acme.atlassian.net`. */
      base_url: HttpsUrl,
      project_key: z.string().regex(/^[A-Z][A-Z0-9_]{1,9}$/, 'a Jira project key is like OPS or DBA2'),
      issue_type: z.string().trim().min(1).max(60).default('Task'),
      token_env: EnvVarName,
    })
    .strict(),
  z
    .object({
      provider: z.literal('linear'),
      /** Linear's GraphQL endpoint. */
      base_url: HttpsUrl.default('https://api.linear.app/graphql'),
      /** The team's id (a UUID, from Linear's settings or `teams` query). */
      team_id: z.uuid({ message: 'a Linear team id is a UUID' }),
      token_env: EnvVarName,
    })
    .strict(),
]);

/** `approvals.page_after_minutes` default: page the approvers' rotation when a plan waited this long. */
export const DEFAULT_PAGE_AFTER_MINUTES = 10;

/** `approvals.page_after_minutes`: minutes, fractions allowed, at most a day. */
export const PageAfterMinutesSchema = z
  .number()
  .positive()
  .max(24 * 60);

/** What `defaults:` may hold besides `access`. */
export const ProcessDefaultsSchema = {
  severities: SeveritiesSchema.optional(),
  incident: IncidentConfigSchema.optional(),
  paging: PagingConfigSchema.optional(),
  followups: FollowupsConfigSchema.optional(),
  approvals: z.object({ page_after_minutes: PageAfterMinutesSchema.optional() }).strict().optional(),
};

type PagingEntry = z.infer<typeof PagingConfigSchema>;
type FollowupsEntry = z.infer<typeof FollowupsConfigSchema>;

/** Paging of a service, resolved: the routing key read from its variable (a secret: never log or post it). */
export type ServicePaging = PagingEntry & { routing_key: string };
/** Follow-up tickets of a service, resolved: the token read from its variable (a secret). */
export type ServiceFollowups = FollowupsEntry & { token: string };

/** A service's incident process after `defaults:` are applied and secrets are read. */
export interface ServiceProcess {
  /** The file's severities, worst first. */
  severities: readonly SeverityLevel[];
  /** The name of the default severity. */
  defaultSeverity: string;
  paging: ServicePaging | null;
  followups: ServiceFollowups | null;
  /** Minutes a plan may wait for approvals before the approvers are paged. */
  pageAfterMinutes: number;
}

/**
 * Resolves a service's process settings: its own sections over `defaults:`, the secrets from
 * `env`. Problems are pushed to `problems` as `key.path: what is wrong`.
 */
export function resolveProcess(
  name: string,
  own: { incident?: { default_severity?: string }; paging?: PagingEntry; followups?: FollowupsEntry },
  ownPageAfter: number | undefined,
  defaults: {
    severities?: SeverityLevel[];
    incident?: { default_severity?: string };
    paging?: PagingEntry;
    followups?: FollowupsEntry;
    approvals?: { page_after_minutes?: number };
  },
  env: Record<string, string | undefined>,
  problems: string[],
): ServiceProcess {
  const severities = defaults.severities ?? DEFAULT_SEVERITIES;
  const wanted = own.incident?.default_severity ?? defaults.incident?.default_severity;
  const found = wanted
    ? severities.find((s) => s.name.toLowerCase() === wanted.toLowerCase())
    : (severities[2] ?? severities.at(-1));
  if (!found)
    problems.push(
      `services.${name}.incident.default_severity: ${wanted} is not one of the severities (${severities.map((s) => s.name).join(', ')})`,
    );
  const pagingEntry = own.paging ?? defaults.paging;
  const routingKey = pagingEntry ? env[pagingEntry.routing_key_env] : undefined;
  if (pagingEntry && !routingKey)
    problems.push(
      `services.${name}.paging.routing_key_env: environment variable ${pagingEntry.routing_key_env} is not set`,
    );
  const followupsEntry = own.followups ?? defaults.followups;
  const token = followupsEntry ? env[followupsEntry.token_env] : undefined;
  if (followupsEntry && !token)
    problems.push(`services.${name}.followups.token_env: environment variable ${followupsEntry.token_env} is not set`);
  return {
    severities,
    defaultSeverity: found?.name ?? severities[0]!.name,
    paging: pagingEntry && routingKey ? { ...pagingEntry, routing_key: routingKey } : null,
    followups: followupsEntry && token ? { ...followupsEntry, token } : null,
    pageAfterMinutes: ownPageAfter ?? defaults.approvals?.page_after_minutes ?? DEFAULT_PAGE_AFTER_MINUTES,
  };
}
