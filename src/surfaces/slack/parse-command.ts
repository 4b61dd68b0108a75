import { Command, CommanderError } from 'commander';
import { parseArgsStringToArgv } from 'string-argv';
import { z } from 'zod';
import { AppError } from '../../shared/errors.js';
import { isMigrationInput } from '../../domain/rollback/plan.js';
import { BREAK_GLASS_MIN_REASON, INCIDENT_REF } from '../../domain/incident/model/incident.js';

const ServiceName = z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, 'a service name is lowercase letters, digits and -');
const MigrationArg = z
  .string()
  .refine(isMigrationInput, 'a migration is a version like 007 or a file name like 007_add_security_tables.ts');

/** RDS snapshot identifiers (automated ones carry `rds:`) and pg_dump snapshot names. */
const SnapshotIdArg = z
  .string()
  .regex(
    /^(rds:)?[A-Za-z][A-Za-z0-9-]{0,254}$/,
    'a snapshot ID is letters, digits and hyphens, like pre-rollback-ticket-service-20261121-031207',
  );
/** Free text kept in the event log and shown in the channel. */
const ReasonArg = z.string().trim().min(3, 'a reason needs a few words').max(500, 'a reason is at most 500 characters');
/** A responder's status update: a sentence or two. */
const UpdateTextArg = z
  .string()
  .trim()
  .min(3, 'an update needs a few words')
  .max(2000, 'an update is at most 2,000 characters');
/** Break glass needs a real reason: why approvers cannot be reached. */
const BreakGlassReasonArg = z
  .string()
  .trim()
  .min(
    BREAK_GLASS_MIN_REASON,
    `a break-glass reason says why approvers cannot be reached, in at least ${BREAK_GLASS_MIN_REASON} characters`,
  )
  .max(500, 'a reason is at most 500 characters');
const RestoreTimeArg = z.iso.datetime({
  offset: true,
  message: 'a time is ISO-8601 with a zone, like 2026-11-21T03:00:00Z',
});

/** A Slack user as a slash command sends it with escaping on (`<@U123|name>`, `<@U123>`), or a bare id. */
const MENTION = /^<@([UW][A-Z0-9]{2,})(\|[^>]*)?>$|^([UW][A-Z0-9]{2,})$/;

/** The user id of a mention, or undefined. */
export function mentionedUser(text: string): string | undefined {
  const m = MENTION.exec(text.trim());
  return m ? (m[1] ?? m[3]) : undefined;
}

/** A follow-up: a sentence of work to do. */
const FollowUpTextArg = z
  .string()
  .trim()
  .min(3, 'a follow-up needs a few words saying what to do')
  .max(500, 'a follow-up is at most 500 characters');

/**
 * A wall-clock time for `--impact-started`: ISO-8601 with a zone, or `HH:MM` (UTC, today; the
 * day before when that is still to come).
 */
export function parseImpactTime(text: string, now: Date): Date | undefined {
  const hm = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (hm) {
    const d = new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), Number(hm[1]), Number(hm[2])),
    );
    if (d.getTime() > now.getTime()) d.setUTCDate(d.getUTCDate() - 1);
    return d;
  }
  const iso = RestoreTimeArg.safeParse(text.trim());
  return iso.success ? new Date(iso.data) : undefined;
}

/** A `/migrate` command, parsed and validated. */
export type MigrateCommand =
  | { kind: 'help' }
  | {
      kind: 'rollback';
      migration: string;
      service?: string;
      breakGlass?: string;
      severity?: string;
      private?: boolean;
      impactStarted?: Date;
    }
  | { kind: 'sev'; severity: string; reason?: string; service?: string }
  | { kind: 'role'; role: 'commander' | 'comms'; user: string; service?: string }
  | { kind: 'followup'; text: string; owner?: string; service?: string }
  | { kind: 'impact-started'; at: Date; service?: string }
  | { kind: 'triage'; service?: string }
  | { kind: 'status'; service?: string }
  | { kind: 'close'; service?: string; reason?: string; force?: boolean }
  | { kind: 'retry'; service?: string }
  | { kind: 'snapshot'; service?: string }
  | { kind: 'rehearse'; service?: string }
  | { kind: 'verify'; service?: string }
  | { kind: 'timeline'; service?: string }
  | { kind: 'refresh-approvers'; service?: string }
  | { kind: 'update'; text: string; service?: string }
  | { kind: 'restore'; snapshotId?: string; to?: Date; service?: string }
  | { kind: 'archive'; action: 'list' | 'drop'; table?: string; force?: boolean; service?: string }
  | { kind: 'unarchive'; incident: string; table?: string; onConflict?: 'skip' | 'overwrite'; service?: string };

/**
 * Splits slash-command text into words, shell-style (`--reason "fixed by hand"` is one
 * value; string-argv). Slack clients turn `--` into an em dash and quotes into curly
 * ones, so `—service` means `--service` and “…” means "…".
 */
export function tokenize(text: string): string[] {
  return parseArgsStringToArgv(
    text
      .replace(/[\u2014\u2013]/g, '--')
      .replace(/[\u201C\u201D]/g, '"')
      .replace(/[\u2018\u2019]/g, "'")
      .trim(),
  );
}

function invalid(message: string): AppError {
  return new AppError({
    code: 'command_invalid',
    message: `invalid /migrate command: ${message}`,
    userMessage: `${message
      .replace(/^error: /, '')
      .replace(/\s*\n\s*/g, ' ')
      .replace(/\.+$/, '')
      .replace(/^./, (c) => c.toUpperCase())}. Type \`/migrate help\` for the commands.`,
  });
}

/**
 * Parses the text after `/migrate` with commander, then validates every value with zod.
 * Empty text means `help`.
 * @throws AppError `command_invalid` with a userMessage saying what was wrong and pointing to `/migrate help`
 */
export function parseMigrateCommand(text: string): MigrateCommand {
  const args = tokenize(text);
  if (args.length === 0) return { kind: 'help' };
  let result: MigrateCommand | undefined;
  const program = new Command('/migrate')
    .exitOverride()
    .helpCommand(false)
    .helpOption(false)
    .configureOutput({ writeOut: () => undefined, writeErr: () => undefined })
    .showSuggestionAfterError(true);
  const serviceOpt = (c: Command): Command => c.option('--service <name>', 'service from services.yaml');
  program.command('help').action(() => {
    result = { kind: 'help' };
  });
  serviceOpt(
    program
      .command('rollback')
      .argument('<migration>')
      .option('--break-glass <reason>', 'approvers cannot be reached: one approval suffices')
      .option('--sev <level>', 'severity: a level (1 is the worst) or a name such as SEV2')
      .option('--private', 'a private channel; nothing in the announce channel')
      .option('--impact-started <time>', 'when customers started to feel it: HH:MM (UTC) or ISO-8601'),
  ).action(
    (
      migration: string,
      opts: { service?: string; breakGlass?: string; sev?: string; private?: boolean; impactStarted?: string },
    ) => {
      result = {
        kind: 'rollback',
        migration,
        service: opts.service,
        ...(opts.breakGlass !== undefined ? { breakGlass: opts.breakGlass } : {}),
        ...(opts.sev !== undefined ? { severity: opts.sev } : {}),
        ...(opts.private ? { private: true } : {}),
        ...(opts.impactStarted !== undefined ? { impactStarted: opts.impactStarted as unknown as Date } : {}),
      };
    },
  );
  serviceOpt(program.command('sev').argument('<level>').option('--reason <text>', 'why, for the event log')).action(
    (severity: string, opts: { service?: string; reason?: string }) => {
      result = {
        kind: 'sev',
        severity,
        service: opts.service,
        ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
      };
    },
  );
  serviceOpt(program.command('role').argument('<role>').argument('<user>')).action(
    (role: string, who: string, opts: { service?: string }) => {
      if (role !== 'commander' && role !== 'comms')
        throw invalid(`\`${role.slice(0, 20)}\` is not a role: use commander or comms`);
      const id = mentionedUser(who);
      if (!id) throw invalid(`\`${who.slice(0, 40)}\` is not a person: mention them with @`);
      result = { kind: 'role', role, user: id, service: opts.service };
    },
  );
  serviceOpt(program.command('followup').argument('<text...>')).action(
    (parts: string[], opts: { service?: string }) => {
      const last = parts.at(-1) ?? '';
      const owner = parts.length > 1 ? mentionedUser(last) : undefined;
      result = {
        kind: 'followup',
        text: (owner ? parts.slice(0, -1) : parts).join(' '),
        service: opts.service,
        ...(owner ? { owner } : {}),
      };
    },
  );
  serviceOpt(program.command('impact-started').argument('<time>')).action(
    (time: string, opts: { service?: string }) => {
      result = { kind: 'impact-started', at: time as unknown as Date, service: opts.service };
    },
  );
  serviceOpt(program.command('update').argument('<text...>')).action((words: string[], opts: { service?: string }) => {
    result = { kind: 'update', text: words.join(' '), service: opts.service };
  });
  serviceOpt(
    program
      .command('close')
      .option('--reason <text>', 'why, for the event log')
      .option('--force', 'cancel the running down migration now (approvers)'),
  ).action((opts: { service?: string; reason?: string; force?: boolean }) => {
    result = {
      kind: 'close',
      service: opts.service,
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
      ...(opts.force ? { force: true } : {}),
    };
  });
  for (const kind of [
    'triage',
    'status',
    'snapshot',
    'retry',
    'rehearse',
    'verify',
    'timeline',
    'refresh-approvers',
  ] as const) {
    serviceOpt(program.command(kind)).action((opts: { service?: string }) => {
      result = { kind, service: opts.service };
    });
  }
  serviceOpt(
    program
      .command('archive')
      .argument('<action>', 'list or drop')
      .argument('[table]', 'the archive table to drop')
      .option('--force', 'drop before archive.keep_days'),
  ).action((action: string, table: string | undefined, opts: { service?: string; force?: boolean }) => {
    const parsed = z
      .discriminatedUnion(
        'action',
        [
          z.object({ action: z.literal('list'), table: z.undefined({ error: 'archive list takes no table' }) }),
          z.object({
            action: z.literal('drop'),
            table: z
              .string({ error: 'archive drop needs the archive table, as `/migrate archive list` names it' })
              .regex(/^[a-z0-9_]{1,63}$/, 'an archive table name is lowercase letters, digits and _'),
          }),
        ],
        { error: 'archive takes `list` or `drop <table>`' },
      )
      .safeParse({ action, table });
    if (!parsed.success) throw invalid(parsed.error.issues[0]!.message);
    result = { kind: 'archive', ...parsed.data, ...(opts.force ? { force: true } : {}), service: opts.service };
  });
  serviceOpt(
    program
      .command('unarchive')
      .argument('<incident>', 'the incident that archived the data (short id)')
      .option('--table <table>', 'one archive table of it')
      .option('--on-conflict <mode>', 'skip or overwrite'),
  ).action((incident: string, opts: { service?: string; table?: string; onConflict?: string }) => {
    const parsed = z
      .object({
        incident: z
          .string()
          .transform((id) => id.toLowerCase())
          .refine(
            (id) => INCIDENT_REF.test(id),
            'unarchive takes the incident that archived the data: its short id (8 hex digits) or its full id',
          ),
        table: z
          .string()
          .regex(/^[a-z0-9_]{1,63}$/, 'an archive table name is lowercase letters, digits and _')
          .optional(),
        onConflict: z.enum(['skip', 'overwrite'], { error: '--on-conflict takes skip or overwrite' }).optional(),
      })
      .safeParse({ incident, table: opts.table, onConflict: opts.onConflict });
    if (!parsed.success) throw invalid(parsed.error.issues[0]!.message);
    result = {
      kind: 'unarchive',
      incident: parsed.data.incident,
      ...(parsed.data.table ? { table: parsed.data.table } : {}),
      ...(parsed.data.onConflict ? { onConflict: parsed.data.onConflict } : {}),
      service: opts.service,
    };
  });
  serviceOpt(program.command('restore').argument('[snapshot-id]').option('--to <time>', 'ISO-8601 UTC time')).action(
    (snapshotId: string | undefined, opts: { service?: string; to?: string }) => {
      result = {
        kind: 'restore',
        snapshotId,
        service: opts.service,
        ...(opts.to ? { to: opts.to as unknown as Date } : {}),
      };
    },
  );
  for (const c of program.commands)
    c.exitOverride()
      .helpOption(false)
      .configureOutput({ writeOut: () => undefined, writeErr: () => undefined });

  try {
    program.parse(args, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw invalid(err.message);
    throw err;
  }
  if (!result) throw invalid('unknown command');

  const checks: Array<[unknown, z.ZodType]> = [];
  if ('service' in result && result.service !== undefined) checks.push([result.service, ServiceName]);
  if (result.kind === 'rollback') checks.push([result.migration, MigrationArg]);
  if (result.kind === 'rollback' && result.breakGlass !== undefined)
    checks.push([result.breakGlass, BreakGlassReasonArg]);
  if (result.kind === 'close' && result.reason !== undefined) checks.push([result.reason, ReasonArg]);
  if (result.kind === 'update') checks.push([result.text, UpdateTextArg]);
  if (result.kind === 'followup') checks.push([result.text, FollowUpTextArg]);
  if (result.kind === 'sev' && result.reason !== undefined) checks.push([result.reason, ReasonArg]);
  const impactTyped =
    result.kind === 'impact-started' ? result.at : result.kind === 'rollback' ? result.impactStarted : undefined;
  if (impactTyped !== undefined) {
    const typed = String(impactTyped);
    const at = parseImpactTime(typed, new Date());
    if (!at)
      throw invalid(
        `\`${typed.slice(0, 40)}\`: a time is HH:MM in UTC, or ISO-8601 with a zone like 2026-11-21T03:00:00Z`,
      );
    if (result.kind === 'impact-started') result.at = at;
    else if (result.kind === 'rollback') result.impactStarted = at;
  }
  if (result.kind === 'restore') {
    if (Boolean(result.snapshotId) === Boolean(result.to))
      throw invalid('give either a snapshot ID or --to ‹ISO-8601 time›, not both or neither');
    if (result.snapshotId) checks.push([result.snapshotId, SnapshotIdArg]);
    if (result.to) {
      const to = RestoreTimeArg.safeParse(result.to);
      if (!to.success)
        throw invalid(`\`${String(result.to).slice(0, 40)}\`: ${to.error.issues[0]?.message ?? 'invalid time'}`);
      result.to = new Date(to.data);
    }
  }
  for (const [value, schema] of checks) {
    const parsed = schema.safeParse(value);
    if (!parsed.success)
      throw invalid(`\`${String(value).slice(0, 60)}\`: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  }
  if ('service' in result && result.service === undefined) delete result.service;
  return result;
}
