import type { ApproverRoster } from '../model/incident.js';
import { group, joinWords, user, type Words } from '../../../shared/words.js';
import type { ServiceConfig } from '../../../config/services.js';

/**
 * Who is in a Slack user group (`S…`): asked when an incident opens (its approver roster), on
 * `/migrate refresh-approvers`, and at a press only for a group Slack could not list at the opening.
 * Adapter: Slack `usergroups.users.list` (needs `usergroups:read`).
 * @throws AppError `slack_api_error` when Slack cannot answer (a press is refused, nothing recorded)
 */
export interface ApproverDirectory {
  usergroupMembers(groupId: string): Promise<string[]>;
  /**
   * Is `userId` an active person of the workspace (Slack `users.info`: found, not deactivated,
   * not a bot)? Roles go only to such people. Needs `users:read`.
   * @throws AppError `slack_api_error` when Slack cannot answer
   */
  isActiveUser(userId: string): Promise<boolean>;
}

/** True for a user group ID (`S…`) in an approvers list. */
export const isUserGroup = (id: string): boolean => id.startsWith('S');

/**
 * Is `userId` an approver: for an incident with a roster, one of the users read when it opened
 * (or a member of a group Slack could not list then, asked now); otherwise listed in
 * services.yaml by ID, or a member of a listed user group (asked now through `directory`).
 * @throws what {@link ApproverDirectory.usergroupMembers} throws, only when a group must be asked
 */
export async function isApprover(
  directory: ApproverDirectory,
  service: Pick<ServiceConfig, 'approvals'>,
  userId: string,
  incident?: { approvers: ApproverRoster | null } | null,
): Promise<boolean> {
  const roster = incident?.approvers;
  if (roster) {
    if (roster.users.includes(userId)) return true;
    for (const group of roster.unresolvedGroups)
      if ((await directory.usergroupMembers(group)).includes(userId)) return true;
    return false;
  }
  if (service.approvals.approvers.includes(userId)) return true;
  for (const group of service.approvals.approvers.filter(isUserGroup)) {
    if ((await directory.usergroupMembers(group)).includes(userId)) return true;
  }
  return false;
}

/**
 * The approvers of `service` now: its listed users and the members of its listed user groups
 * (Slack `usergroups.users.list`); a group Slack cannot list is kept as unresolved, to be asked
 * at each press. Never throws.
 * @param now the time it is read (`asOf`)
 */
export async function readApproverRoster(
  directory: ApproverDirectory,
  service: Pick<ServiceConfig, 'approvals'>,
  now: Date,
): Promise<ApproverRoster> {
  const users = new Set<string>();
  const unresolvedGroups: string[] = [];
  for (const id of service.approvals.approvers) {
    if (!isUserGroup(id)) users.add(id);
    else {
      try {
        for (const member of await directory.usergroupMembers(id)) users.add(member);
      } catch {
        unresolvedGroups.push(id);
      }
    }
  }
  return { asOf: now.toISOString(), users: [...users], unresolvedGroups };
}

/** Approvers as words: each a user or a user group, joined by ", " (each surface shows them its way). */
export function approverWords(ids: readonly string[]): Words {
  return joinWords(ids.map((id) => (isUserGroup(id) ? group(id) : user(id))));
}
