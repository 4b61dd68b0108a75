import { type Command, InvalidArgumentError } from 'commander';
import { closeIncident } from '../../domain/incident/use-cases/close-incident.js';
import { readableStatus } from '../../domain/incident/use-cases/incident-status.js';
import { shortId } from '../../domain/incident/model/incident.js';
import { takeOnDemandSnapshot } from '../../domain/incident/use-cases/on-demand-snapshot.js';
import { resolveService } from '../../domain/incident/use-cases/resolve-service.js';
import { AppError } from '../../shared/errors.js';
import { utcSecondStamp } from '../../shared/clock.js';
import { EXIT } from './exit-codes.js';
import { outcomeText, snapshotText, statusText } from './format.js';
import { noticePlainText } from './notice-text.js';
import { runCliRollback } from './rollback-command.js';
import { requireAccess } from '../../domain/incident/use-cases/access.js';
import { operator, removedAsOption, run, type CliContext, type Common, type Engine } from './cli-run.js';

const slackUsers = (value: string): string[] => {
  const ids = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!ids.length) throw new InvalidArgumentError('give Slack user IDs separated by commas, e.g. U0SRE001,U0OWN001');
  return ids;
};

/** `rollback`: opens an incident with approvals recorded from the command line and follows it to its end. */
export function addRollbackCommand(program: Command, ctx: CliContext): void {
  program
    .command('rollback <service> <migration>')
    .description(
      'open an incident and roll back <migration> and everything after it, with approvals given by named people; exit 0 rolled back, 3 verification failed, 4 rollback failed',
    )
    .option('--approved-by <users>', 'Slack user IDs of the approvers, comma-separated', slackUsers)
    .option('--reason <text>', 'why the approvals are given here rather than in Slack (required with --approved-by)')
    .option('--confirm <service>', 'type the service name to confirm a destructive plan')
    .option(
      '--break-glass <reason>',
      'approvers cannot be reached: one approval suffices (reason of at least 20 characters; announced)',
    )
    .addOption(removedAsOption())
    .option(
      '--timeout <minutes>',
      'stop watching after this long (the incident goes on)',
      (v) => {
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('minutes, a positive number');
        return n;
      },
      120,
    )
    .option('--json', 'print JSON')
    .action(
      (
        serviceName: string,
        migration: string,
        opts: Common & {
          approvedBy?: string[];
          reason?: string;
          confirm?: string;
          breakGlass?: string;
          as?: string;
          timeout: number;
        },
      ) =>
        run(
          ctx,
          opts,
          true,
          async (engine, progress) => {
            const { deps } = engine;
            if (!opts.approvedBy?.length || !opts.reason) {
              throw new AppError({
                code: 'command_invalid',
                message: 'missing approvals',
                userMessage:
                  'rollback needs --approved-by U…,U… and --reason "…": the people who approved, and why they approved outside Slack. Nothing was done.',
              });
            }
            const incident = await runCliRollback(deps, progress, {
              service: serviceName,
              migration,
              requestedBy: operator(engine),
              approvals: {
                approvedBy: opts.approvedBy,
                reason: opts.reason,
                operator: operator(engine),
                ...(opts.confirm !== undefined ? { confirmedAs: opts.confirm } : {}),
              },
              ...(opts.breakGlass !== undefined ? { breakGlass: opts.breakGlass } : {}),
              timeoutMs: opts.timeout * 60_000,
            });
            const code =
              incident.state === 'resolved'
                ? EXIT.ok
                : incident.state === 'resolved_with_warnings'
                  ? EXIT.postflight
                  : EXIT.rollback;
            return {
              code,
              json: {
                incident: {
                  id: incident.id,
                  state: incident.state,
                  channel: incident.conversation?.name ?? null,
                  steps: incident.steps,
                  failure: incident.failure,
                },
              },
              text: outcomeText(incident),
            };
          },
          'rollback',
        ),
    );
}

/** `snapshot`, `status` and `close`. */
export function addIncidentCommands(program: Command, ctx: CliContext): void {
  program
    .command('snapshot <service>')
    .description('a snapshot now (pg_dump, RDS or Aurora as configured); exit 2 when it fails')
    .addOption(removedAsOption())
    .option('--json', 'print JSON')
    .action((serviceName: string, opts: Common & { as?: string }) =>
      run(
        ctx,
        opts,
        false,
        async (engine, progress) => {
          const { deps } = engine;
          const service = resolveService(deps.services, serviceName);
          await requireAccess(deps, service, operator(engine), 'request', 'snapshot');
          const name = `pre-rollback-${service.name}-${utcSecondStamp(deps.clock.now())}`;
          progress.status(`taking snapshot ${name} (${service.snapshot.provider})`);
          const record = await takeOnDemandSnapshot(
            deps,
            { service: service.name, requestedBy: operator(engine), name },
            async (notice) => progress.line(noticePlainText(notice)),
          );
          if (!record)
            return {
              code: EXIT.migration,
              json: { snapshot: null, name },
              text: `Snapshot ${name} of ${service.name} failed (see above).`,
            };
          return { code: EXIT.ok, json: { snapshot: record }, text: snapshotText(record) };
        },
        'snapshot',
      ),
    );

  program
    .command('status [service]')
    .description('open incidents (or the named service): state, approvals, snapshot, steps, jobs, tracking table head')
    .option('--json', 'print JSON')
    .action((serviceName: string | undefined, opts: Common) =>
      run(
        ctx,
        opts,
        false,
        async (engine) => {
          const { deps } = engine;
          const views = await readableStatus(deps, serviceName, () => operator(engine));
          const json = views.map((v) => ({
            service: v.service.name,
            incident: v.incident,
            approvals: v.approvals,
            required: v.required,
            jobs: v.jobs,
            head: v.head,
          }));
          return { code: EXIT.ok, json, text: statusText(views) };
        },
        'status',
      ),
    );

  program
    .command('close <incident>')
    .description(
      'end an open incident (cancel before the rollback, stop after the step in progress, or close a failed one)',
    )
    .requiredOption('--reason <text>', 'why (goes to the event log)')
    .option('--force', 'cancel the running down migration now (approvers only)')
    .addOption(removedAsOption())
    .option('--json', 'print JSON')
    .action((ref: string, opts: Common & { reason: string; as?: string; force?: boolean }) =>
      run(
        ctx,
        opts,
        false,
        async (engine) => {
          const { deps } = engine;
          const incident = await findIncident(deps, ref);
          const outcome = await closeIncident(deps, incident.service, operator(engine), opts.reason, {
            force: opts.force === true,
          });
          return {
            code: EXIT.ok,
            json: { kind: outcome.kind, incident: { id: outcome.incident.id, state: outcome.incident.state } },
            text: `Incident ${shortId(incident.id)}: ${outcome.kind} (${outcome.incident.state.replace(/_/g, ' ')}).`,
          };
        },
        'close',
      ),
    );
}

/**
 * The incident a full id or its 8-character short id (as the channel name shows it) names.
 * @throws AppError `command_invalid` when none or several match
 */
async function findIncident(
  deps: Engine['deps'],
  ref: string,
): Promise<NonNullable<Awaited<ReturnType<Engine['deps']['repo']['get']>>>> {
  const id = ref.trim().toLowerCase();
  if (!/^[0-9a-f-]{8,36}$/.test(id))
    throw new AppError({
      code: 'command_invalid',
      message: 'bad incident id',
      userMessage: `\`${ref}\` is not an incident id: give the 8 characters the channel name ends with, or the full id.`,
    });
  const candidates = [
    ...(await deps.repo.listOpen()),
    ...(await Promise.all([...deps.services.services.keys()].map((s) => deps.repo.latestByService(s)))).filter(
      (i) => i !== null,
    ),
  ];
  const found = [...new Map(candidates.filter((i) => i.id.startsWith(id)).map((i) => [i.id, i])).values()];
  if (found.length !== 1) {
    throw new AppError({
      code: 'command_invalid',
      message: 'incident not found',
      userMessage: found.length
        ? `\`${ref}\` matches ${found.length} incidents; give more of the id.`
        : `No open or latest incident has id \`${ref}\`. \`migrate-bot status\` lists them.`,
    });
  }
  return found[0]!;
}
