// Pages by role. `roles` lists who may open a page (any of them); the menu shows exactly these.
import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';
import type { MessageKey } from './messages';
import { apiPaths, hasRole, loadMe, me } from './session';

export const CONTENT_READERS = ['archivist', 'caseworker', 'compliance_officer', 'appraisal_member', 'agency_head'];
const DUE_API = '/api/v1/appraisal/due';
export const DISPOSITION_ROLES = ['compliance_officer', 'appraisal_member', 'agency_head', 'disposal_supervisor', 'auditor'];

export interface PageMeta {
  title: MessageKey;
  group?: MessageKey;
  roles?: string[];
  public?: boolean;
  menu?: boolean;
  /** An API path the page needs; without it on this server the page is not offered. */
  needs?: string;
}

declare module 'vue-router' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface RouteMeta extends Partial<PageMeta> {}
}

const page = (path: string, name: string, component: RouteRecordRaw['component'], meta: PageMeta): RouteRecordRaw => ({ path, name, component: component!, meta: { menu: true, ...meta } });

export const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./pages/LoginPage.vue'), meta: { public: true, title: 'login' } },
  { path: '/setup', name: 'setup', component: () => import('./pages/SetupPage.vue'), meta: { public: true, title: 'setupTitle' } },
  page('/dashboard', 'dashboard', () => import('./pages/DashboardPage.vue'), { title: 'navDashboard', roles: CONTENT_READERS }),
  page('/scan', 'scan', () => import('./pages/ScanPage.vue'), { title: 'navScan', group: 'groupArchivist', roles: ['archivist'] }),
  page('/review', 'review', () => import('./pages/ReviewPage.vue'), { title: 'navReview', group: 'groupArchivist', roles: ['archivist'] }),
  page('/dossier', 'dossier', () => import('./pages/DossierPage.vue'), { title: 'navDossier', group: 'groupArchivist', roles: ['archivist', 'caseworker', 'agency_head', 'compliance_officer', 'appraisal_member'] }),
  page('/catalogue', 'catalogue', () => import('./pages/CataloguePage.vue'), { title: 'navCatalogue', group: 'groupArchivist', roles: ['archivist', 'agency_head'] }),
  page('/qc', 'qc', () => import('./pages/QcPage.vue'), { title: 'navQc', group: 'groupArchivist', roles: ['archivist'] }),
  page('/search', 'search', () => import('./pages/SearchPage.vue'), { title: 'navSearch', group: 'groupCaseworker', roles: CONTENT_READERS }),
  { path: '/item/:id', name: 'item', component: () => import('./pages/ItemPage.vue'), meta: { title: 'navSearch', roles: CONTENT_READERS } },
  page('/access', 'access', () => import('./pages/AccessPage.vue'), { title: 'navAccess', group: 'groupCaseworker', roles: CONTENT_READERS }),
  page('/due', 'due', () => import('./pages/DuePage.vue'), { title: 'navDue', group: 'groupCompliance', roles: DISPOSITION_ROLES, needs: DUE_API }),
  page('/rounds', 'rounds', () => import('./pages/RoundsPage.vue'), { title: 'navRounds', group: 'groupCompliance', roles: DISPOSITION_ROLES, needs: DUE_API }),
  page('/lists', 'lists', () => import('./pages/ListsPage.vue'), { title: 'navLists', group: 'groupCompliance', roles: DISPOSITION_ROLES, needs: DUE_API }),
  { path: '/lists/:id', name: 'list', component: () => import('./pages/ListDetailPage.vue'), meta: { title: 'navLists', roles: DISPOSITION_ROLES, needs: DUE_API } },
  page('/holds', 'holds', () => import('./pages/HoldsPage.vue'), { title: 'navHolds', group: 'groupCompliance', roles: DISPOSITION_ROLES, needs: DUE_API }),
  page('/audit', 'audit', () => import('./pages/AuditPage.vue'), { title: 'navAudit', group: 'groupAudit', roles: ['auditor', 'secauditor', 'compliance_officer'] }),
  page('/accounts', 'accounts', () => import('./pages/AccountsPage.vue'), { title: 'navAccounts', group: 'groupAdmin', roles: ['sysadmin'] }),
  page('/roles', 'roles', () => import('./pages/RolesPage.vue'), { title: 'navRoles', group: 'groupAdmin', roles: ['secadmin'] }),
  { path: '/:rest(.*)*', name: 'notfound', component: () => import('./pages/NotFoundPage.vue'), meta: { title: 'notFoundPage' } },
];

/** Where a role starts its day. */
export function homeOf(roles: string[]): string {
  if (roles.includes('archivist')) return '/scan';
  if (roles.includes('caseworker')) return '/search';
  const disposition = apiPaths.value?.has(DUE_API);
  if (roles.includes('compliance_officer')) return disposition ? '/due' : '/dashboard';
  if (roles.some((r) => ['appraisal_member', 'agency_head', 'disposal_supervisor'].includes(r))) return disposition ? '/lists' : '/dashboard';
  if (roles.some((r) => ['auditor', 'secauditor'].includes(r))) return '/audit';
  if (roles.includes('sysadmin')) return '/accounts';
  if (roles.includes('secadmin')) return '/roles';
  return '/search';
}

export const router = createRouter({ history: createWebHashHistory(), routes });

router.beforeEach(async (to) => {
  if (to.meta.public) return true;
  if (!me.value) await loadMe();
  if (!me.value) return { name: 'login', query: to.fullPath !== '/' ? { next: to.fullPath } : {} };
  if (to.path === '/') return homeOf(me.value.roles);
  return true;
});

export function allowed(roles?: string[], needs?: string): boolean {
  if (needs && !apiPaths.value?.has(needs)) return false;
  return !roles || hasRole(...roles);
}
