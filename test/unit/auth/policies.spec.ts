import assert from 'node:assert/strict';
import { ACTIONS, authorize, ROLE_ACTIONS, ROLES, separateDuties, THREE_ADMINS, type Principal, type Resource } from '../../../src/services/access/policies';

const ALL = { fonds: '*', agencies: '*', districts: '*' } as const;
function user(roles: string[], over: Partial<Principal> = {}): Principal {
  return { id: `u-${roles.join('-')}`, username: roles.join('+'), roles, scope: { ...ALL }, clearance: 'sensitive', ...over };
}

describe('policies.authorize (table-driven)', () => {
  const cases: Array<[string, Principal, string, Resource, true | string]> = [
    ['archivist ingests', user(['archivist']), 'item.ingest', { fonds: 'Z001' }, true],
    ['caseworker reads', user(['caseworker']), 'item.read', { fonds: 'Z001', level: 'internal' }, true],
    ['caseworker may not correct', user(['caseworker']), 'item.correct', {}, 'no_role'],
    ['caseworker may not read the audit trail', user(['caseworker']), 'audit.read', {}, 'no_role'],
    ['sysadmin sees no archive content', user(['sysadmin']), 'item.read', {}, 'no_role'],
    ['sysadmin may not search', user(['sysadmin']), 'search', {}, 'no_role'],
    ['sysadmin manages accounts', user(['sysadmin']), 'user.manage', { targetUserId: 'other' }, true],
    ['sysadmin may not grant roles', user(['sysadmin']), 'role.grant', { targetUserId: 'other', targetRoles: ['archivist'] }, 'no_role'],
    ['sysadmin may not read audit', user(['sysadmin']), 'audit.read', {}, 'no_role'],
    ['secadmin grants a role', user(['secadmin']), 'role.grant', { targetUserId: 'other', targetRoles: ['archivist'] }, true],
    ['secadmin may not grant to self', user(['secadmin']), 'role.grant', { targetUserId: 'u-secadmin', targetRoles: ['secauditor'] }, 'self_grant'],
    ['no one holds two of the three admins', user(['secadmin']), 'role.grant', { targetUserId: 'x', targetRoles: ['secauditor'], targetCurrentRoles: ['sysadmin'] }, 'separation_of_duties'],
    ['a three-admin role never joins a content role', user(['secadmin']), 'role.grant', { targetUserId: 'x', targetRoles: ['sysadmin'], targetCurrentRoles: ['archivist'] }, 'separation_of_duties'],
    ['unknown roles are refused', user(['secadmin']), 'role.grant', { targetUserId: 'x', targetRoles: ['root'] }, 'unknown_role'],
    ['secadmin sees no content', user(['secadmin']), 'item.read', {}, 'no_role'],
    ['secauditor reads the audit trail', user(['secauditor']), 'audit.read', {}, true],
    ['secauditor verifies it', user(['secauditor']), 'audit.verify', {}, true],
    ['secauditor grants nothing', user(['secauditor']), 'role.grant', { targetUserId: 'x', targetRoles: ['auditor'] }, 'no_role'],
    ['sysadmin may not manage own account', user(['sysadmin']), 'user.manage', { targetUserId: 'u-sysadmin' }, 'self_grant'],
    ['compliance officer proposes destruction', user(['compliance_officer']), 'destruction.propose', { fonds: 'Z001' }, true],
    ['appraisal member reviews, does not propose', user(['appraisal_member']), 'destruction.propose', { fonds: 'Z001' }, 'no_role'],
    ['the auditor reads no archive content', user(['auditor']), 'item.read', { fonds: 'Z001' }, 'no_role'],
    ['appraisal member may not approve', user(['appraisal_member']), 'destruction.approve', {}, 'no_role'],
    ['agency head approves a list proposed by someone else', user(['agency_head']), 'destruction.approve', { proposedBy: 'u-archivist' }, true],
    ['agency head may not approve own proposal', user(['agency_head', 'archivist'], { id: 'head1' }), 'destruction.approve', { proposedBy: 'head1' }, 'own_proposal'],
    ['archivist may not approve', user(['archivist']), 'destruction.approve', { proposedBy: 'x' }, 'no_role'],
    ['out of fonds scope', user(['archivist'], { scope: { fonds: ['Z001'], agencies: '*', districts: '*' } }), 'item.read', { fonds: 'Z002' }, 'out_of_scope'],
    ['in fonds scope', user(['archivist'], { scope: { fonds: ['Z001'], agencies: '*', districts: '*' } }), 'item.read', { fonds: 'Z001' }, true],
    ['out of agency scope', user(['caseworker'], { scope: { fonds: '*', agencies: ['A1'], districts: '*' } }), 'search', { agency: 'A2' }, 'out_of_scope'],
    ['out of district scope', user(['caseworker'], { scope: { fonds: '*', agencies: '*', districts: ['330102'] } }), 'item.read', { district: '330106' }, 'out_of_scope'],
    ['public clearance cannot read internal', user(['caseworker'], { clearance: 'public' }), 'item.read', { level: 'internal' }, 'clearance'],
    ['internal clearance reads internal', user(['caseworker'], { clearance: 'internal' }), 'item.read', { level: 'internal' }, true],
    ['internal clearance cannot read sensitive (rank 2)', user(['caseworker'], { clearance: 'internal' }), 'item.read', { level: 2 }, 'clearance'],
    ['unknown level label fails closed', user(['caseworker'], { clearance: 'sensitive' }), 'item.read', { level: 'top-secret' }, 'clearance'],
    ['a user with an unknown clearance label reads nothing', user(['caseworker'], { clearance: 'bogus' }), 'item.read', { level: 'public' }, 'clearance'],
    ['disabled users are refused everything', user(['archivist'], { disabled: true }), 'item.read', {}, 'disabled'],
    ['unknown actions are refused', user(['archivist']), 'item.delete', {}, 'unknown_action'],
    ['unknown roles grant nothing', user(['superuser']), 'item.read', {}, 'no_role'],
    ['every signed-in role has a session', user(['auditor']), 'session', {}, true],
  ];
  for (const [name, u, action, resource, expected] of cases) {
    it(name, () => {
      const d = authorize(u, action, resource);
      if (expected === true) assert.deepEqual(d, { allowed: true });
      else assert.deepEqual(d, { allowed: false, reason: expected });
    });
  }

  it('the role table names only known actions, and every role can at least hold a session', () => {
    for (const r of ROLES) {
      for (const a of ROLE_ACTIONS[r]) assert.ok((ACTIONS as readonly string[]).includes(a), `${r}: ${a}`);
      assert.ok(ROLE_ACTIONS[r].includes('session'));
    }
  });

  it('the three administrators never touch archive content', () => {
    for (const r of THREE_ADMINS) {
      for (const a of ['item.read', 'item.ingest', 'search', 'item.correct', 'catalogue.export'] as const) {
        assert.equal(authorize(user([r]), a).allowed, false, `${r} ${a}`);
      }
    }
  });

  it('honours configured clearance levels', () => {
    const levels = ['open', 'restricted', 'secret'];
    assert.equal(authorize(user(['caseworker'], { clearance: 'secret' }), 'item.read', { level: 'secret' }, { levels }).allowed, true);
    assert.equal(authorize(user(['caseworker'], { clearance: 'restricted' }), 'item.read', { level: 'secret' }, { levels }).allowed, false);
    assert.equal(authorize(user(['caseworker'], { clearance: 'restricted' }), 'item.read', { level: 1 }, { levels }).allowed, true);
  });

  it('separateDuties is true only when the actor is none of the others', () => {
    assert.equal(separateDuties('a', ['b', null, undefined]), true);
    assert.equal(separateDuties('a', ['b', 'a']), false);
  });
});
