/**
 * Who may do what: one table from roles to actions, then scope (fonds / agency / district),
 * clearance and separation-of-duties rules. Pure: no I/O, so every route, CLI command and job
 * asks the same question the same way, and the tests can enumerate it.
 *
 * 三员分立 (GB/T 20271, 分级保护 practice): the system administrator manages accounts but sees no
 * archive content, the security administrator grants roles and scopes, and the security auditor
 * audits both. No account may hold two of the three, and no one grants themselves anything.
 */

export const ROLES = [
  'archivist', // 档案员
  'caseworker', // 经办人员
  'compliance_officer', // 合规专员
  'appraisal_member', // 鉴定小组成员
  'agency_head', // 负责人
  'disposal_supervisor', // 监销人 (3号令 第十二条: two people supervise destruction)
  'auditor', // 审计员
  'sysadmin', // 系统管理员
  'secadmin', // 安全保密管理员
  'secauditor', // 安全审计员
] as const;
export type Role = (typeof ROLES)[number];

/** The three separated administrator roles: one account may hold at most one of them. */
export const THREE_ADMINS: readonly Role[] = ['sysadmin', 'secadmin', 'secauditor'];

export const ACTIONS = [
  'session', // any signed-in user: own profile, logout, change own password
  'item.ingest',
  'item.read',
  'item.correct',
  'item.confirm',
  'search',
  'search.reindex', // rebuild or merge the full-text index: maintenance, prints counts only (no content)
  'catalogue.export',
  'jobs.read',
  'audit.read',
  'audit.verify',
  'user.read',
  'user.manage', // create, disable, reset credentials (not roles)
  'role.grant', // roles, scopes, clearance
  'destruction.propose',
  'destruction.approve',
  'appraisal.review',
  'destruction.execute', // 监销: start, run and confirm an approved destruction
  'disposition.read', // due list, rounds, 清册, holds, certificates: read only
  'hold.manage', // place legal holds (冻结) and release others' holds
  'retention.manage',
  'system.config',
  'keys.manage',
  'access.request', // 借阅/调阅: ask for time-limited access to an item outside one's scope or clearance
  'access.approve', // grant, refuse or end such access (never to one's own request)
  'personal.full', // see 公民身份号码 in full; everyone else sees them masked (个人信息保护法 第51条)
  'integrity.check', // run and read consistency checks (fsck) and 四性检测 reports (DA/T 70-2018)
  'backup.manage', // take backups (数据备份, 异地存储); restore is a machine-local step
  'number.withdraw', // 档号撤销: withdraw an item's 档号 with a reason (never reused, kept in the register)
  'transfer.manage', // 移交: export a transfer package, verify it, import the archives' receipt
  'storage.manage', // object-lock protection and the migration into a locked bucket (no content)
] as const;
export type Action = (typeof ACTIONS)[number];

/** Actions that touch archive content: scope and clearance apply, and the 三员 never get them. */
const CONTENT_ACTIONS: ReadonlySet<Action> = new Set(['item.ingest', 'item.read', 'item.correct', 'item.confirm', 'search', 'catalogue.export', 'destruction.propose', 'destruction.approve', 'appraisal.review', 'access.approve', 'number.withdraw', 'transfer.manage']);

export const ROLE_ACTIONS: Record<Role, readonly Action[]> = {
  archivist: ['session', 'item.ingest', 'item.read', 'item.correct', 'item.confirm', 'search', 'search.reindex', 'catalogue.export', 'jobs.read', 'destruction.propose', 'access.request', 'access.approve', 'personal.full', 'integrity.check', 'number.withdraw', 'transfer.manage'],
  caseworker: ['session', 'item.ingest', 'item.read', 'search', 'jobs.read', 'access.request', 'personal.full'],
  // Proposes appraisal and destruction (销毁清册); the appraisal group (鉴定小组, 3号令 第十条)
  // approves or rejects them; the agency head gives the final approval (第十一条).
  compliance_officer: ['session', 'item.read', 'search', 'audit.read', 'appraisal.review', 'retention.manage', 'destruction.propose', 'access.request', 'integrity.check', 'disposition.read', 'hold.manage'],
  appraisal_member: ['session', 'item.read', 'search', 'appraisal.review', 'access.request', 'disposition.read'],
  agency_head: ['session', 'item.read', 'search', 'catalogue.export', 'destruction.approve', 'access.request', 'access.approve', 'disposition.read', 'hold.manage'],
  // 监销人: supervises an approved destruction; never its proposer or approver (services/disposition).
  disposal_supervisor: ['session', 'disposition.read', 'destruction.execute'],
  // 审计员: reads the audit trail and the disposition records (due list, rounds, 清册, holds, certificates); changes nothing.
  auditor: ['session', 'audit.read', 'audit.verify', 'disposition.read'],
  sysadmin: ['session', 'user.read', 'user.manage', 'jobs.read', 'system.config', 'keys.manage', 'integrity.check', 'backup.manage', 'search.reindex', 'storage.manage'],
  secadmin: ['session', 'user.read', 'role.grant'],
  secauditor: ['session', 'user.read', 'audit.read', 'audit.verify'],
};

/** 公开 / 内部 / 敏感 by default; an agency may configure more levels, lowest first. */
export const DEFAULT_CLEARANCE_LEVELS = ['public', 'internal', 'sensitive'] as const;

/** '*' means every value; a list means only those. */
export type ScopeList = '*' | string[];
export interface Scope {
  fonds: ScopeList;
  agencies: ScopeList;
  districts: ScopeList;
}

export interface Principal {
  id: string;
  username: string;
  roles: readonly string[];
  scope: Scope;
  clearance: string;
  disabled?: boolean;
}

export interface Resource {
  type?: string;
  fonds?: string | null;
  agency?: string | null;
  district?: string | null;
  /** the resource's classification: a level name or its rank (0 = lowest) */
  level?: string | number | null;
  /** who proposed it (destruction lists, appraisals): they may not approve it */
  proposedBy?: string | null;
  /** role.grant / user.manage: the account being changed, and the roles being given */
  targetUserId?: string | null;
  targetRoles?: readonly string[];
  targetCurrentRoles?: readonly string[];
}

export type DenyReason = 'unknown_action' | 'disabled' | 'no_role' | 'out_of_scope' | 'clearance' | 'self_grant' | 'own_proposal' | 'separation_of_duties' | 'unknown_role';

export type Decision = { allowed: true } | { allowed: false; reason: DenyReason };

const ALLOW: Decision = { allowed: true };
const deny = (reason: DenyReason): Decision => ({ allowed: false, reason });

export function isAction(a: string): a is Action {
  return (ACTIONS as readonly string[]).includes(a);
}

export function isRole(r: string): r is Role {
  return (ROLES as readonly string[]).includes(r);
}

/** Every action the user's roles grant. */
export function actionsOf(roles: readonly string[]): Set<Action> {
  const out = new Set<Action>();
  for (const r of roles) if (isRole(r)) for (const a of ROLE_ACTIONS[r]) out.add(a);
  return out;
}

function inScope(list: ScopeList, value: string | null | undefined): boolean {
  if (value === undefined || value === null) return true;
  return list === '*' || list.includes(value);
}

export function levelRank(level: string | number | null | undefined, levels: readonly string[]): number {
  if (level === undefined || level === null) return 0;
  if (typeof level === 'number') return level;
  const i = levels.indexOf(level);
  // An unknown label is treated as the highest level: fail closed.
  return i < 0 ? levels.length : i;
}

/**
 * Whether the account sees only security events in the audit trail: a security auditor who is
 * not also an auditor or compliance officer reviews the two other administrators and security
 * events (三员分立), not caseworkers' business use.
 */
export function seesSecurityEventsOnly(roles: readonly string[]): boolean {
  return roles.includes('secauditor') && !roles.includes('auditor') && !roles.includes('compliance_officer');
}

/** True when the two sets of people do not overlap: nobody checks their own work. */
export function separateDuties(actorId: string, others: ReadonlyArray<string | null | undefined>): boolean {
  return !others.some((o) => o !== null && o !== undefined && o === actorId);
}

export function authorize(user: Principal, action: string, resource: Resource = {}, opts: { levels?: readonly string[] } = {}): Decision {
  if (!isAction(action)) return deny('unknown_action');
  if (user.disabled) return deny('disabled');
  if (!actionsOf(user.roles).has(action)) return deny('no_role');
  if (CONTENT_ACTIONS.has(action)) {
    if (!inScope(user.scope.fonds, resource.fonds) || !inScope(user.scope.agencies, resource.agency) || !inScope(user.scope.districts, resource.district)) return deny('out_of_scope');
    const levels = opts.levels ?? DEFAULT_CLEARANCE_LEVELS;
    // An unknown label on the user counts as below the lowest level: fail closed on both sides.
    const userRank = levels.indexOf(user.clearance);
    if (levelRank(resource.level, levels) > userRank) return deny('clearance');
  }
  if ((action === 'destruction.approve' || action === 'access.approve') && !separateDuties(user.id, [resource.proposedBy])) return deny('own_proposal');
  if (action === 'role.grant' || action === 'user.manage') {
    if (resource.targetUserId && resource.targetUserId === user.id) return deny('self_grant');
  }
  if (action === 'role.grant' && resource.targetRoles) {
    if (resource.targetRoles.some((r) => !isRole(r))) return deny('unknown_role');
    const after = new Set([...(resource.targetCurrentRoles ?? []), ...resource.targetRoles]);
    if (THREE_ADMINS.filter((r) => after.has(r)).length > 1) return deny('separation_of_duties');
    // The 三员 never see archive content, so they may not also hold a content role.
    if (THREE_ADMINS.some((r) => after.has(r)) && [...after].some((r) => isRole(r) && !THREE_ADMINS.includes(r))) return deny('separation_of_duties');
  }
  return ALLOW;
}
