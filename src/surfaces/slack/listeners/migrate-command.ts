import { refreshApprovers } from '../../../domain/incident/use-cases/refresh-approvers.js';
import { codeSpan, errorMrkdwn, wordsMrkdwn } from '../../../adapters/slack/render/words-mrkdwn.js';
import { postHumanUpdate } from '../../../domain/incident/use-cases/human-update.js';
import { postTimeline } from '../../../domain/incident/use-cases/post-timeline.js';
import { verifyService } from '../../../domain/incident/use-cases/verify-service.js';
import { verificationMessage } from '../../../adapters/slack/render/verification-blocks.js';
import { requestRehearsal } from '../../../domain/incident/use-cases/rehearse.js';
import { openIncidentFor } from '../../../domain/incident/use-cases/close-incident.js';
import type { App, RespondFn } from '@slack/bolt';
import type { SurfaceDeps } from '../../surface-deps.js';
import { closeIncident } from '../../../domain/incident/use-cases/close-incident.js';
import { readableStatus } from '../../../domain/incident/use-cases/incident-status.js';
import { retryIncident } from '../../../domain/incident/use-cases/retry-incident.js';
import { offendingOf, shortId } from '../../../domain/incident/model/incident.js';
import { openIncident } from '../../../domain/incident/use-cases/open-incident.js';
import { openRestore } from '../../../domain/incident/use-cases/open-restore.js';
import { resolveService } from '../../../domain/incident/use-cases/resolve-service.js';
import { AppError, isAppError } from '../../../shared/errors.js';
import { code, words } from '../../../shared/words.js';
import { escapeMrkdwn } from '../../../adapters/slack/render/limits.js';
import { requireReader } from '../../../domain/incident/use-cases/access.js';
import { requestSnapshot } from '../../../domain/incident/use-cases/on-demand-snapshot.js';
import { helpMessage } from '../../../adapters/slack/render/help-blocks.js';
import { statusMessage, statusOverview } from '../../../adapters/slack/render/status-blocks.js';
import { triageMessage } from '../../../adapters/slack/render/triage-blocks.js';
import { parseMigrateCommand, type MigrateCommand } from '../parse-command.js';
import { runArchiveCommand } from './archive-commands.js';
import { isProcessCommand, runProcessCommand } from './process-commands.js';

/** What a `/migrate` handler needs from the slash-command payload. */
export interface MigrateCommandInput {
  text: string;
  userId: string;
  channelId: string;
  /** The command's response_url, for answers that come later from a job. */
  responseUrl?: string;
}

/**
 * Handles `/migrate …` after the ack (Slack "Acknowledge within 3 seconds": work happens after it).
 * Every answer goes to the user as an ephemeral reply through `respond`
 * (the command's response_url); errors show their userMessage and change nothing.
 */
export async function handleMigrateCommand(
  deps: SurfaceDeps,
  input: MigrateCommandInput,
  respond: RespondFn,
): Promise<void> {
  const log = deps.logger.child({ command: 'migrate', user: input.userId });
  const reply = (msg: { text: string; blocks?: unknown[] }) =>
    respond({ response_type: 'ephemeral', replace_original: false, ...msg } as Parameters<RespondFn>[0]);
  let command = 'unparsed';
  try {
    const cmd = parseMigrateCommand(input.text);
    command = cmd.kind;
    await withinRateLimits(deps, cmd, input.userId);
    await runMigrateCommand(deps, cmd, input, reply);
    deps.metrics.commands.inc({ command, outcome: 'ok', surface: 'slack' });
  } catch (err) {
    deps.metrics.commands.inc({
      command,
      outcome: isAppError(err) && err.userMessage ? 'refused' : 'error',
      surface: 'slack',
    });
    if (isAppError(err, 'access_refused')) deps.metrics.accessRefusals.inc({ command, surface: 'slack' });
    if (isAppError(err, 'rate_limited'))
      deps.metrics.rateLimited.inc({ command, limit: String(err.details?.limit ?? 'unknown') });
    if (!isAppError(err) || !err.userMessage) log.error({ err }, '/migrate failed');
    else log.info({ code: err.code, reason: err.message }, '/migrate refused');
    await reply({ text: errorMrkdwn(err) }).catch((e: unknown) => log.error({ err: e }, 'could not reply'));
  }
}

/** Commands that open work on a service (an incident, a snapshot, a new round), limited per hour. */
const OPENING: ReadonlySet<MigrateCommand['kind']> = new Set(['rollback', 'restore', 'unarchive', 'snapshot', 'retry']);

/**
 * Counts the command against its user's limits (services.yaml `access.rate_limits` of the service
 * it names, or of the first service when it names none).
 * @throws AppError `rate_limited` saying which limit and when to try again; nothing was done
 */
async function withinRateLimits(deps: SurfaceDeps, cmd: MigrateCommand, userId: string): Promise<void> {
  if (!deps.rateLimiter || cmd.kind === 'help') return;
  const named = 'service' in cmd && cmd.service ? deps.services.services.get(cmd.service) : undefined;
  const service = named ?? [...deps.services.services.values()][0]!;
  const decision = await deps.rateLimiter.consume(userId, service.access.rate_limits, OPENING.has(cmd.kind));
  if (decision.allowed) return;
  const what = decision.limit === 'incidents_per_hour' ? 'incident-opening commands an hour' : 'commands a minute';
  throw new AppError({
    code: 'rate_limited',
    message: `${userId} reached ${decision.limit} (${decision.max})`,
    details: { limit: decision.limit },
    userMessage: words`You have reached ${decision.max} ${what} (${code(`access.rate_limits.${decision.limit}`)} in services.yaml). Try again in ${decision.retryAfterSeconds} s. Nothing was done.`,
  });
}

/** Runs one parsed `/migrate` command and answers through `reply`; throws what the use case throws. */
async function runMigrateCommand(
  deps: SurfaceDeps,
  cmd: MigrateCommand,
  input: MigrateCommandInput,
  reply: (msg: { text: string; blocks?: unknown[] }) => Promise<unknown>,
): Promise<void> {
  if (isProcessCommand(cmd)) {
    await reply({ text: await runProcessCommand(deps, cmd, input.userId) });
    return;
  }
  if (cmd.kind === 'archive' || cmd.kind === 'unarchive') {
    await reply({ text: await runArchiveCommand(deps, cmd, input) });
    return;
  }
  switch (cmd.kind) {
    case 'help':
      await reply(helpMessage(deps.services.services.values()));
      return;
    case 'rollback': {
      const incident = await openIncident(deps, {
        service: cmd.service,
        migration: cmd.migration,
        requestedBy: input.userId,
        responseUrl: input.responseUrl,
        ...(cmd.breakGlass !== undefined ? { breakGlass: cmd.breakGlass } : {}),
        ...(cmd.severity !== undefined ? { severity: cmd.severity } : {}),
        ...(cmd.private ? { private: true } : {}),
        ...(cmd.impactStarted ? { impactStarted: cmd.impactStarted } : {}),
      });
      await reply({
        text:
          incident.state === 'failed'
            ? `Incident \`${shortId(incident.id)}\` opened for the rollback of ${codeSpan(incident.migration)} on *${incident.service}*, but it could not proceed: ${incident.failure ? wordsMrkdwn(incident.failure.message) : 'see the channel'} The channel link follows.`
            : `Opening incident \`${shortId(incident.id)}\` (${incident.severity ? `*${incident.severity}*` : 'no severity'}${incident.private ? ', private' : ''}): rollback of ${codeSpan(incident.migration)} on *${incident.service}*${incident.breakGlass ? ' under :rotating_light: *break glass* (one approval; announced in the channel)' : ''}. The channel link follows as soon as it exists.`,
      });
      return;
    }
    case 'triage': {
      const service = await requireReader(deps, cmd.service, input.userId, 'triage');
      const open = await deps.repo.findOpenByService(service.name);
      const report = await deps.triage(service, open ? { offending: offendingOf(open) } : {});
      if (open?.conversation?.id) {
        await deps.notifier.triage(open, report);
        await reply({ text: `Triage of *${service.name}* posted in <#${open.conversation?.id}>.` });
      } else {
        // Ephemeral replies cannot carry files: full tables are uploaded only in an incident channel.
        const msg = triageMessage(report);
        await reply({ text: msg.text, blocks: msg.blocks });
      }
      return;
    }
    case 'status': {
      const views = await readableStatus(deps, cmd.service, () => input.userId);
      await reply(views.length === 1 ? statusMessage(views[0]!) : statusOverview(views));
      return;
    }
    case 'snapshot': {
      const outcome = await requestSnapshot(deps, {
        service: cmd.service,
        requestedBy: input.userId,
        ...(input.responseUrl ? { responseUrl: input.responseUrl } : {}),
      });
      await reply({
        text:
          outcome.kind === 'waived'
            ? `:warning: Snapshots of *${outcome.service}* are waived in services.yaml: _${escapeMrkdwn(outcome.reason)}_`
            : `:camera: Taking snapshot ${codeSpan(outcome.name)} of *${outcome.service}* (${outcome.provider}). Progress ${outcome.conversationId ? `in <#${outcome.conversationId}>` : 'here'}.`,
      });
      return;
    }
    case 'restore': {
      const incident = await openRestore(deps, {
        service: cmd.service,
        snapshotId: cmd.snapshotId,
        to: cmd.to,
        requestedBy: input.userId,
        responseUrl: input.responseUrl,
      });
      await reply({
        text: `Opening restore incident \`${shortId(incident.id)}\`: ${codeSpan(incident.restore?.target)} will be a new copy, checked before anything opened; it needs ${resolveService(deps.services, incident.service).approvals.required} approvals. The channel link follows as soon as it exists.`,
      });
      return;
    }
    case 'close': {
      const outcome = await closeIncident(deps, cmd.service, input.userId, cmd.reason, { force: cmd.force === true });
      const where = `<#${outcome.incident.conversation?.id}>`;
      const text = {
        closed: `Incident in ${where} ${outcome.incident.steps.some((s) => s.status === 'done') ? 'closed' : 'cancelled'}.`,
        stopping:
          outcome.kind === 'stopping' && outcome.force
            ? `The running down migration in ${where} is being cancelled now; the incident then fails with the steps that completed.`
            : `The rollback in ${where} stops after the step in progress; the incident then fails with the steps that completed. A step that hangs: \`/migrate close --force\`.`,
        failed: `The rollback in ${where} had no running job; it is marked failed with the steps the tracking table shows. \`/migrate retry\` or \`/migrate close\` from there.`,
      }[outcome.kind];
      await reply({ text });
      return;
    }
    case 'update': {
      const incident = await postHumanUpdate(deps, cmd.service, input.userId, cmd.text);
      await reply({
        text: `Update posted in <#${incident.conversation?.id}>; the next scheduled status update is skipped.`,
      });
      return;
    }
    case 'timeline': {
      const service = await requireReader(deps, cmd.service, input.userId, 'timeline');
      const incident = await deps.repo.latestByService(service.name);
      if (!incident?.conversation?.id) {
        await reply({ text: `*${service.name}* has had no incident with a channel yet, so there is no timeline.` });
        return;
      }
      await postTimeline(deps, incident, service);
      await reply({
        text: `Timeline and postmortem draft of incident \`${shortId(incident.id)}\` posted in <#${incident.conversation?.id}>.`,
      });
      return;
    }
    case 'verify': {
      await requireReader(deps, cmd.service, input.userId, 'verify');
      const { report, posted } = await verifyService(deps, cmd.service);
      const msg = verificationMessage(cmd.service ?? resolveService(deps.services, undefined).name, report);
      await reply(posted ? { text: `${msg.text} Details in <#${posted}>.` } : msg);
      return;
    }
    case 'rehearse': {
      const { incident } = await openIncidentFor(deps, cmd.service, input.userId, 'rehearse');
      await reply({ text: wordsMrkdwn(await requestRehearsal(deps, incident, input.userId)) });
      return;
    }
    case 'refresh-approvers': {
      const { incident, added, removed } = await refreshApprovers(deps, cmd.service, input.userId);
      await reply({
        text: `Approvers of incident \`${shortId(incident.id)}\` read again: ${added.length} added, ${removed.length} removed (details in <#${incident.conversation?.id}>).`,
      });
      return;
    }
    case 'retry': {
      const round = await retryIncident(deps, cmd.service, input.userId);
      await reply({
        text: `Round ${round.attempt} started in <#${round.conversation?.id}>: triage, a new snapshot and a new plan card follow there; approvals start from zero.`,
      });
      return;
    }
  }
}

/**
 * Registers `/migrate` (one listener per surface, bolt-ts starter layout). The ack goes first and
 * alone; the command's work (triage, lookups, opening the incident) then runs under `afterAck`,
 * the process-wide cap on post-ack work, so a burst of commands cannot starve the acks of the next.
 */
export function registerMigrateCommand(
  app: App,
  deps: SurfaceDeps,
  afterAck: <T>(work: () => Promise<T>, key?: string) => Promise<T> = (w) => w(),
): void {
  app.command('/migrate', async ({ command, ack, respond }) => {
    await ack();
    await afterAck(
      () =>
        handleMigrateCommand(
          deps,
          {
            text: command.text,
            userId: command.user_id,
            channelId: command.channel_id,
            responseUrl: command.response_url,
          },
          respond,
        ),
      command.user_id,
    );
  });
}
