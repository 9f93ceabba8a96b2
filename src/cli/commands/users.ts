import { AppError } from '../../errors';
import { authorize, ROLES, THREE_ADMINS } from '../../services/access';
import { cliPrincipal } from '../identity';
import { withRuntime } from '../runtime';
import type { Command, CommandIO } from '../command';

/** Shows a one-time setup secret exactly once (create-admin, create, reset). */
function printSetupSecret(io: CommandIO, json: boolean, headline: string, out: { id?: string; username: string; role?: string; setupSecret: string; expiresAt: Date }): void {
  if (json) io.out(JSON.stringify({ ...out, expiresAt: out.expiresAt.toISOString() }));
  else io.out(`${headline}\n一次性初始化口令 / one-time setup secret (shown once, expires ${out.expiresAt.toISOString()}):\n  ${out.setupSecret}`);
}

export const usersCommand: Command = {
  name: 'users',
  summary: 'Accounts: create the first administrators, list, grant roles',
  usage: '<create-admin|create|list|grant|disable|enable|reset>',
  subcommands: [
    {
      name: 'create-admin',
      summary: 'Create an administrator account (sysadmin, secadmin or secauditor) and print its one-time setup secret; there is no default password',
      usage: 'USERNAME --role sysadmin|secadmin|secauditor',
      description: 'Run on the server machine. The person sets their password with POST /api/v1/auth/setup {username, secret, password}; the secret works once and expires in 24 hours.',
      permission: 'local',
      options: { role: { type: 'string', description: 'one of the three separated administrator roles', valueName: 'ROLE' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const username = positionals[0];
          const role = typeof values.role === 'string' ? values.role : '';
          if (!username) throw new AppError('validation_failed', { message: 'Give a username', zh: '请提供用户名' });
          if (!THREE_ADMINS.includes(role as never)) throw new AppError('validation_failed', { message: `--role must be one of ${THREE_ADMINS.join(', ')}`, zh: `--role 须为 ${THREE_ADMINS.join('、')} 之一` });
          const { user, setupSecret, expiresAt } = await rt.auth.createAdmin(username, role);
          const by = cliPrincipal(rt)?.username ?? 'cli';
          await rt.audit.record({ actor: by, ip: 'cli', action: 'user.manage', object: { type: 'user', id: String(user._id) }, outcome: 'success', details: { created: user.username, role } });
          printSetupSecret(io, values.json, `已创建 / created ${user.username} (${role})`, { id: String(user._id), username: user.username, role, setupSecret, expiresAt });
        }),
    },
    {
      name: 'create',
      summary: 'Create an account with no roles and print its one-time setup secret (system administrator); a security administrator then grants roles',
      usage: 'USERNAME [--name DISPLAY_NAME]',
      permission: 'user.manage',
      options: { name: { type: 'string', description: 'display name, e.g. 张伟', valueName: 'NAME' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const username = positionals[0];
          if (!username) throw new AppError('validation_failed', { message: 'Give a username', zh: '请提供用户名' });
          const me = cliPrincipal(rt)!;
          const { user, setupSecret, expiresAt } = await rt.auth.createAdmin(username, null);
          if (typeof values.name === 'string') await rt.auth.users.updateOne({ _id: user._id }, { $set: { displayName: values.name.slice(0, 100) } });
          await rt.audit.record({ actor: me.username, role: me.roles.join(','), ip: 'cli', action: 'user.manage', object: { type: 'user', id: String(user._id) }, outcome: 'success', details: { created: user.username } });
          printSetupSecret(io, values.json, `已创建 / created ${user.username}（尚无角色 / no roles yet: archive users grant ${user.username} --roles … --as <安全保密管理员>）`, { id: String(user._id), username: user.username, setupSecret, expiresAt });
        }),
    },
    {
      name: 'list',
      summary: 'Accounts with roles, scope and clearance',
      usage: '',
      permission: 'user.read',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const users = await rt.auth.users.find({}, { passwordHash: 0, totpSecret: 0 }).sort({ username: 1 }).lean();
          const rows = users.map((u) => ({ id: String(u._id), username: u.username, roles: u.roles, scope: u.scope, clearance: u.clearance, local: u.local, disabled: u.disabled }));
          if (values.json) io.out(JSON.stringify({ users: rows }));
          else for (const u of rows) io.out(`${u.username.padEnd(24)} ${u.roles.join(',').padEnd(30)} ${u.clearance}${u.local ? ' (local)' : ''}${u.disabled ? ' (disabled)' : ''}`);
        }),
    },
    {
      name: 'grant',
      summary: 'Set an account\'s roles (security administrator; never one\'s own)',
      usage: 'USERNAME --roles r1,r2 [--clearance LEVEL]',
      permission: 'role.grant',
      options: {
        roles: { type: 'string', description: `comma-separated: ${ROLES.join(', ')}`, valueName: 'LIST' },
        clearance: { type: 'string', description: 'public, internal or sensitive', valueName: 'LEVEL' },
      },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const me = cliPrincipal(rt)!;
          const target = positionals[0] ? await rt.auth.findUser(positionals[0]) : null;
          if (!target) throw new AppError('not_found', { message: `No account ${positionals[0] ?? ''}`, zh: '账号不存在' });
          const roles = String(values.roles ?? '').split(',').map((r) => r.trim()).filter(Boolean);
          const d = authorize(me, 'role.grant', { targetUserId: String(target._id), targetRoles: roles });
          if (!d.allowed) {
            await rt.audit.record({ actor: me.username, role: me.roles.join(','), ip: 'cli', action: 'role.grant', object: { type: 'user', id: String(target._id) }, outcome: 'denied', details: { reason: d.reason, roles } });
            throw new AppError('forbidden', { details: { reason: d.reason } });
          }
          const clearance = typeof values.clearance === 'string' ? values.clearance : undefined;
          await rt.auth.users.updateOne({ _id: target._id }, { $set: { roles, ...(clearance ? { clearance } : {}) } });
          await rt.audit.record({ actor: me.username, role: me.roles.join(','), ip: 'cli', action: 'role.grant', object: { type: 'user', id: String(target._id) }, outcome: 'success', details: { roles, before: target.roles, clearance: clearance ?? null } });
          io.out(values.json ? JSON.stringify({ username: target.username, roles }) : `${target.username}: ${roles.join(', ') || '(no roles)'}`);
        }),
    },
    ...(['disable', 'enable', 'reset'] as const).map(
      (verb): Command => ({
        name: verb,
        summary:
          verb === 'disable'
            ? 'Disable an account: its sessions end at once and sign-in is refused (system administrator; never one\'s own)'
            : verb === 'enable'
              ? 'Re-enable a disabled account'
              : 'Reset an account\'s password and TOTP: sessions end; prints a one-time setup secret for the person',
        usage: 'USERNAME',
        permission: 'user.manage',
        run: async ({ values, positionals, io }) =>
          withRuntime(async (rt) => {
            const me = cliPrincipal(rt)!;
            const target = positionals[0] ? await rt.auth.findUser(positionals[0]) : null;
            if (!target) throw new AppError('not_found', { message: `No account ${positionals[0] ?? ''}`, zh: '账号不存在' });
            const d = authorize(me, 'user.manage', { targetUserId: String(target._id) });
            const object = { type: 'user', id: String(target._id) };
            if (!d.allowed) {
              await rt.audit.record({ actor: me.username, role: me.roles.join(','), ip: 'cli', action: 'user.manage', object, outcome: 'denied', details: { reason: d.reason, verb } });
              throw new AppError('forbidden', { details: { reason: d.reason } });
            }
            if (verb === 'reset') {
              if (target.local) throw new AppError('conflict', { message: 'The local operator has no password to reset', zh: '本机操作员账号没有密码，无需重置' });
              const { setupSecret, expiresAt } = await rt.auth.resetCredentials(target._id);
              await rt.audit.record({ actor: me.username, role: me.roles.join(','), ip: 'cli', action: 'user.manage', object, outcome: 'success', details: { username: target.username, reset: true } });
              printSetupSecret(io, values.json, `已重置 / reset ${target.username}`, { username: target.username, setupSecret, expiresAt });
              return;
            }
            const disabled = verb === 'disable';
            await rt.auth.setDisabled(target._id, disabled);
            await rt.audit.record({ actor: me.username, role: me.roles.join(','), ip: 'cli', action: 'user.manage', object, outcome: 'success', details: { username: target.username, disabled } });
            io.out(values.json ? JSON.stringify({ username: target.username, disabled }) : `${target.username}: ${disabled ? '已停用 / disabled' : '已启用 / enabled'}`);
          }),
      }),
    ),
  ],
};
