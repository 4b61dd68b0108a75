import type { ServiceConfig } from '../../../config/services.js';
import { AppError } from '../../../shared/errors.js';
import { code, joinWords, strong, type Words, words } from '../../../shared/words.js';
import { approverWords, isUserGroup } from '../ports/approvers.js';
import type { IncidentDeps } from '../ports/deps.js';
import { resolveService } from './resolve-service.js';

/**
 * What a person asks to do, for the access rules of services.yaml (`access:`):
 * `request` opens work on the service (rollback, restore, snapshot), `read` looks at it
 * (triage, status, plan, timeline, verify), `break_glass` opens a rollback with one approval.
 */
export type AccessAction = 'request' | 'read' | 'break_glass';

const LIST: Record<AccessAction, 'requesters' | 'readers' | 'break_glass'> = {
  request: 'requesters',
  read: 'readers',
  break_glass: 'break_glass',
};

/**
 * Is `userId` allowed `action` on `service`: `anyone`, listed by id, or a member of a listed
 * user group (asked through `deps.directory`, Slack `usergroups.users.list`)?
 * @throws what the directory throws, only when a group must be asked
 */
export async function mayAct(
  deps: Pick<IncidentDeps, 'directory'>,
  service: Pick<ServiceConfig, 'access'>,
  userId: string,
  action: AccessAction,
): Promise<boolean> {
  const who = service.access[LIST[action]];
  if (who === 'anyone') return true;
  if (who.includes(userId)) return true;
  for (const group of who.filter(isUserGroup)) {
    if ((await deps.directory.usergroupMembers(group)).includes(userId)) return true;
  }
  return false;
}

/** Who may do `action`, in words: "anyone in the workspace", "nobody", or the people and groups. */
function whoMay(service: Pick<ServiceConfig, 'access'>, action: AccessAction): Words {
  const who = service.access[LIST[action]];
  if (who === 'anyone') return words`anyone in the workspace`;
  if (who.length === 0) return words`nobody (no ${code(`access.${LIST[action]}`)} in services.yaml)`;
  return approverWords(who);
}

/**
 * Refuses `userId` unless `action` is allowed on `service` (see {@link mayAct}). A refusal is
 * logged as `access_refused` with the user, the command and the service, and says who may do it;
 * nothing is opened, recorded or snapshotted (callers check before anything else).
 * @param command the command as the user typed it, for the log and the message (e.g. `rollback`)
 * @throws AppError `access_refused` (details: `command`, `action`), or what the directory throws
 */
export async function requireAccess(
  deps: Pick<IncidentDeps, 'directory' | 'logger'>,
  service: ServiceConfig,
  userId: string,
  action: AccessAction,
  command: string,
): Promise<void> {
  if (await mayAct(deps, service, userId, action)) return;
  deps.logger.warn({ event: 'access_refused', user: userId, command, service: service.name }, 'access_refused');
  const doing =
    action === 'break_glass'
      ? words`use ${code('--break-glass')} on ${strong(service.name)}`
      : words`run ${code(`/migrate ${command}`)} on ${strong(service.name)}`;
  const fix =
    action === 'break_glass'
      ? words` To allow it, list them under ${code('access.break_glass')} in services.yaml.`
      : words``;
  throw new AppError({
    code: 'access_refused',
    message: `${userId} may not ${action} on ${service.name} (${command})`,
    details: { command, action, service: service.name },
    userMessage: joinWords(
      [words`You may not ${doing}. Who may: ${whoMay(service, action)}. Nothing was opened or recorded.`, fix],
      '',
    ),
  });
}

/**
 * Resolves `serviceName` and refuses `userId` unless they are one of its readers
 * (`access.readers`, default anyone): triage, status, plan, timeline and verify.
 * @throws AppError `command_unknown_service`, `access_refused`
 */
export async function requireReader(
  deps: Pick<IncidentDeps, 'directory' | 'logger' | 'services'>,
  serviceName: string | undefined,
  userId: string,
  command: string,
): Promise<ServiceConfig> {
  const service = resolveService(deps.services, serviceName);
  await requireAccess(deps, service, userId, 'read', command);
  return service;
}
