import { group, joinWords, user, type Words } from '../../../shared/words.js';
import type { ServiceConfig } from '../../../config/services.js';

/**
 * Who is in a Slack user group (`S…`), asked when a button is pressed so a rota change applies
 * at once. Adapter: Slack `usergroups.users.list` (needs `usergroups:read`).
 * @throws AppError `slack_api_error` when Slack cannot answer (the press is refused, nothing recorded)
 */
export interface ApproverDirectory {
  usergroupMembers(groupId: string): Promise<string[]>;
}

/** True for a user group ID (`S…`) in an approvers list. */
export const isUserGroup = (id: string): boolean => id.startsWith('S');

/**
 * Is `userId` an approver of `service`: listed by ID, or a member of a listed user group
 * (resolved now through `directory`)?
 * @throws what {@link ApproverDirectory.usergroupMembers} throws, only when a group must be asked
 */
export async function isApprover(
  directory: ApproverDirectory,
  service: Pick<ServiceConfig, 'approvals'>,
  userId: string,
): Promise<boolean> {
  if (service.approvals.approvers.includes(userId)) return true;
  for (const group of service.approvals.approvers.filter(isUserGroup)) {
    if ((await directory.usergroupMembers(group)).includes(userId)) return true;
  }
  return false;
}

/** Approvers as words: each a user or a user group, joined by ", " (each surface shows them its way). */
export function approverWords(ids: readonly string[]): Words {
  return joinWords(ids.map((id) => (isUserGroup(id) ? group(id) : user(id))));
}
