// Who is asking: what an auth strategy makes of a request's credentials, in the terms oslo.policy
// checks (oslo.context's to_policy_values): user, project, roles and system scope.
export interface Identity {
  /** The strategy that vouched for it (noauth, http_basic, keystone) or `anonymous` on public routes. */
  strategy: string;
  userId: string | null;
  userName: string | null;
  /** The project a project-scoped token is for; null when system-scoped or unscoped. */
  projectId: string | null;
  projectName: string | null;
  projectDomainId: string | null;
  /** Lower-cased role names, implied roles included (Keystone expands admin -> member -> reader). */
  roles: string[];
  /** True for a system-scoped token (system_scope:all). */
  system: boolean;
}

/** The system administrator every noauth request and every http_basic user is (as in Ironic, where both bypass policy). */
export function systemAdmin(strategy: string, userName: string | null): Identity {
  return { strategy, userId: userName, userName, projectId: null, projectName: null, projectDomainId: null, roles: ['admin', 'member', 'reader'], system: true };
}

/** Nobody: the identity of a request on a public route (root documents, the ramdisk's endpoints). */
export const ANONYMOUS: Identity = { strategy: 'anonymous', userId: null, userName: null, projectId: null, projectName: null, projectDomainId: null, roles: [], system: false };

/** Who a history event names as having asked for it: the user and, for a project-scoped token, its project. */
export function historyActor(id: Identity): { user: string | null; project: string | null } {
  return { user: id.userId ?? id.userName, project: id.projectId };
}

/** oslo.policy's credential dictionary for an identity. */
export function policyCredentials(id: Identity): Record<string, string | string[] | null> {
  return {
    user_id: id.userId,
    user_name: id.userName,
    project_id: id.projectId,
    project_name: id.projectName,
    project_domain_id: id.projectDomainId,
    roles: id.roles,
    system_scope: id.system ? 'all' : null,
  };
}
