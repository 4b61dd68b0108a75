import { addFollowUp } from '../../../domain/incident/use-cases/followups.js';
import { assignRole, changeSeverity, setImpactStarted } from '../../../domain/incident/use-cases/severity-and-roles.js';
import { ROLE_WORDS } from '../../../domain/incident/process/roles.js';
import { slackDate, escapeMrkdwn } from '../../../adapters/slack/render/limits.js';
import type { SurfaceDeps } from '../../surface-deps.js';
import type { MigrateCommand } from '../parse-command.js';

/** The incident-process subcommands of `/migrate`. */
export type ProcessCommand = Extract<MigrateCommand, { kind: 'sev' | 'role' | 'followup' | 'impact-started' }>;

/** True for `/migrate sev|role|followup|impact-started`. */
export const isProcessCommand = (cmd: MigrateCommand): cmd is ProcessCommand =>
  cmd.kind === 'sev' || cmd.kind === 'role' || cmd.kind === 'followup' || cmd.kind === 'impact-started';

/**
 * Runs `/migrate sev|role|followup|impact-started` for `userId` and returns the ephemeral answer
 * (the channel hears the change itself from the notice). Throws what the use case throws.
 */
export async function runProcessCommand(deps: SurfaceDeps, cmd: ProcessCommand, userId: string): Promise<string> {
  const where = (id: string | undefined) => (id ? `<#${id}>` : 'the incident channel');
  switch (cmd.kind) {
    case 'sev': {
      const i = await changeSeverity(deps, {
        service: cmd.service,
        userId,
        severity: cmd.severity,
        reason: cmd.reason,
      });
      return `Severity of incident on *${i.service}* is now *${escapeMrkdwn(i.severity ?? '')}*; announced in ${where(i.conversation?.id)}.`;
    }
    case 'role': {
      const i = await assignRole(deps, { service: cmd.service, userId, role: cmd.role, target: cmd.user });
      return `<@${cmd.user}> is now the ${ROLE_WORDS[cmd.role]} of the incident in ${where(i.conversation?.id)}.`;
    }
    case 'followup': {
      const { incident, tracker } = await addFollowUp(deps, {
        service: cmd.service,
        userId,
        text: cmd.text,
        ...(cmd.owner ? { owner: cmd.owner } : {}),
      });
      return tracker
        ? `Follow-up recorded; its ${tracker} ticket link follows in ${where(incident.conversation?.id)}.`
        : `Follow-up recorded on the checklist of ${where(incident.conversation?.id)} (no tracker is configured).`;
    }
    case 'impact-started': {
      const i = await setImpactStarted(deps, { service: cmd.service, userId, at: cmd.at });
      return `Impact started ${slackDate(cmd.at)} recorded for the incident in ${where(i.conversation?.id)}.`;
    }
  }
}
