import { type Command, InvalidArgumentError } from 'commander';
import { addFollowUp } from '../../domain/incident/use-cases/followups.js';
import { assignRole, changeSeverity } from '../../domain/incident/use-cases/severity-and-roles.js';
import { recoveryReport, type ServiceReport } from '../../domain/incident/process/report.js';
import { shortDuration } from '../../domain/incident/process/lifecycle.js';
import { ROLE_NAMES, ROLE_WORDS, type RoleName } from '../../domain/incident/process/roles.js';
import { renderTextTable } from '../../shared/text-table.js';
import { EXIT } from './exit-codes.js';
import { AppError } from '../../shared/errors.js';
import { operator, removedAsOption, run, type CliContext, type Common } from './cli-run.js';

/** Refused input of a command: nothing was done. */
const refused = (what: string): AppError =>
  new AppError({ code: 'command_invalid', message: what, userMessage: `${what} Nothing was done.` });

const UNIT_MS = { h: 3_600_000, d: 86_400_000 } as const;

/** `--since 30d` / `12h`: a window back from now, ms. */
export function parseSince(value: string): number {
  const m = /^(\d{1,4})(h|d)$/.exec(value.trim());
  if (!m || Number(m[1]) === 0) throw new InvalidArgumentError('a window like 30d or 12h');
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

const dur = (ms: number | null): string => (ms === null ? '—' : shortDuration(ms));
const tally = (counts: Record<string, number>): string =>
  Object.entries(counts)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ') || '—';

/** The report as a table per service (incidents, rollbacks/restores, median and p90 time to recover, …). */
export function reportText(rows: readonly ServiceReport[], sinceDays: string): string {
  if (!rows.length) return `No incidents opened in the last ${sinceDays}.`;
  const { lines } = renderTextTable(
    [
      'service',
      'incidents',
      'rollbacks',
      'restores',
      'recovered',
      'median recover',
      'p90 recover',
      'median approve',
      'severities',
      'failures',
    ],
    rows.map((r) => ({
      service: r.service,
      incidents: r.incidents,
      rollbacks: r.rollbacks,
      restores: r.restores,
      recovered: r.recovered,
      'median recover': dur(r.medianTimeToRecoverMs),
      'p90 recover': dur(r.p90TimeToRecoverMs),
      'median approve': dur(r.medianTimeToApproveMs),
      severities: tally(r.bySeverity),
      failures: tally(r.failures),
    })),
  );
  return [`Incidents opened in the last ${sinceDays}:`, ...lines].join('\n');
}

/** `sev`, `role`, `followup` and `report`: the incident process from a terminal, with the Slack commands' rules. */
export function addProcessCommands(program: Command, ctx: CliContext): void {
  program
    .command('sev <service> <level>')
    .description("change the open incident's severity (a level, 1 the worst, or a name such as SEV2); announced")
    .option('--reason <text>', 'why, for the event log')
    .addOption(removedAsOption())
    .option('--json', 'print JSON')
    .action((serviceName: string, level: string, opts: Common & { reason?: string }) =>
      run(
        ctx,
        opts,
        false,
        async (engine) => {
          const incident = await changeSeverity(engine.deps, {
            service: serviceName,
            userId: operator(engine),
            severity: level,
            ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
          });
          return {
            code: EXIT.ok,
            json: { incident: { id: incident.id, severity: incident.severity } },
            text: `Severity of ${incident.service}'s incident is now ${incident.severity}.`,
          };
        },
        'sev',
      ),
    );

  program
    .command('role <service> <role> <user>')
    .description(`hand a role of the open incident (${ROLE_NAMES.join(' or ')}) to a Slack user ID`)
    .addOption(removedAsOption())
    .option('--json', 'print JSON')
    .action((serviceName: string, role: string, who: string, opts: Common) =>
      run(
        ctx,
        opts,
        false,
        async (engine) => {
          if (!ROLE_NAMES.includes(role as RoleName))
            throw refused(`${role} is not a role: use ${ROLE_NAMES.join(' or ')}.`);
          const incident = await assignRole(engine.deps, {
            service: serviceName,
            userId: operator(engine),
            role: role as RoleName,
            target: who.trim(),
          });
          return {
            code: EXIT.ok,
            json: { incident: { id: incident.id, roles: incident.roles } },
            text: `${who} is now the ${ROLE_WORDS[role as RoleName]} of ${incident.service}'s incident.`,
          };
        },
        'role',
      ),
    );

  program
    .command('followup <service> <text>')
    .description(
      "record a follow-up on the service's open or latest incident; filed as a ticket when followups: is configured",
    )
    .option('--owner <user>', 'Slack user ID of who owns it')
    .addOption(removedAsOption())
    .option('--json', 'print JSON')
    .action((serviceName: string, text: string, opts: Common & { owner?: string }) =>
      run(
        ctx,
        opts,
        true,
        async (engine) => {
          const trimmed = text.trim();
          if (trimmed.length < 3 || trimmed.length > 500)
            throw refused('A follow-up is 3 to 500 characters saying what to do.');
          const { followUp, tracker } = await addFollowUp(engine.deps, {
            service: serviceName,
            userId: operator(engine),
            text: trimmed,
            ...(opts.owner ? { owner: opts.owner } : {}),
          });
          return {
            code: EXIT.ok,
            json: { followUp },
            text: tracker
              ? `Follow-up ${followUp.id} recorded; its ${tracker} ticket is being filed.`
              : `Follow-up ${followUp.id} recorded (no tracker configured).`,
          };
        },
        'followup',
      ),
    );

  program
    .command('report')
    .description(
      'recovery figures per service: incidents, rollbacks vs restores, median and p90 time to recover, failures by code',
    )
    .option('--since <window>', 'how far back, e.g. 30d or 12h', parseSince, 30 * UNIT_MS.d)
    .option('--json', 'print JSON')
    .action((opts: Common & { since: number }) =>
      run(
        ctx,
        opts,
        false,
        async (engine) => {
          const since = new Date(engine.deps.clock.now().getTime() - opts.since);
          const rows = recoveryReport(await engine.deps.process.openedSince(since));
          const window =
            opts.since % UNIT_MS.d === 0 ? `${opts.since / UNIT_MS.d} days` : `${opts.since / UNIT_MS.h} hours`;
          return {
            code: EXIT.ok,
            json: { since: since.toISOString(), services: rows },
            text: reportText(rows, window),
          };
        },
        'report',
      ),
    );
}
