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

function fmtScope(v: '*' | string[]): string {
  return v === '*' ? '*' : v.length ? v.join(',') : '(none)';
}

export const usersCommand: Command = {
  name: 'users',
  summary: 'Accounts: create the first administrators, list, grant roles',
  usage: '<create-admin|create|list|grant|disable|enable|reset|approve-reset>',
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
          if (typeof values.name === 'string') await rt.auth.setDisplayName(user._id, values.name);
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
          const { users } = await rt.auth.listUsers();
          const rows = users.map((u) => ({ id: String(u._id), username: u.username, roles: u.roles, scope: u.scope, clearance: u.clearance, local: u.local, disabled: u.disabled }));
          if (values.json) io.out(JSON.stringify({ users: rows }));
          else for (const u of rows) io.out(`${u.username.padEnd(24)} ${u.roles.join(',').padEnd(30)} ${u.clearance}${u.local ? ' (local)' : ''}${u.disabled ? ' (disabled)' : ''}`);
        }),
    },
    {
      name: 'grant',
      summary: 'Set an account\'s roles, and optionally its scope and clearance (security administrator; never one\'s own). A new account has no scope until one is given',
      usage: 'USERNAME --roles r1,r2 [--fonds F1,F2|*] [--agencies A1|*] [--districts D1|*] [--clearance LEVEL]',
      permission: 'role.grant',
      options: {
        roles: { type: 'string', description: `comma-separated: ${ROLES.join(', ')}`, valueName: 'LIST' },
        fonds: { type: 'string', description: '全宗号 this account may work in, comma-separated, or * for all', valueName: 'LIST' },
        agencies: { type: 'string', description: 'agencies, comma-separated, or *', valueName: 'LIST' },
        districts: { type: 'string', description: 'districts, comma-separated, or *', valueName: 'LIST' },
        clearance: { type: 'string', description: 'public, internal or sensitive', valueName: 'LEVEL' },
      },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const me = cliPrincipal(rt)!;
          const target = positionals[0] ? await rt.auth.findUser(positionals[0]) : null;
          if (!target) throw new AppError('not_found', { message: `No account ${positionals[0] ?? ''}`, zh: '账号不存在' });
          const roles = String(values.roles ?? '').split(',').map((r) => r.trim()).filter(Boolean);
          const clearance = typeof values.clearance === 'string' ? values.clearance : undefined;
          const scope: Record<string, '*' | string[]> = {};
          for (const k of ['fonds', 'agencies', 'districts'] as const) {
            const v = values[k];
            if (typeof v !== 'string') continue;
            scope[k] = v.trim() === '*' ? '*' : v.split(',').map((x) => x.trim()).filter(Boolean);
            if (scope[k] !== '*' && (scope[k] as string[]).some((x) => !/^[A-Za-z0-9_-]{1,32}$/.test(x))) {
              throw new AppError('validation_failed', { message: `--${k}: letters, digits, dash or underscore, comma-separated, or *`, zh: `--${k} 须为逗号分隔的代码或 *` });
            }
          }
          const after = await rt.auth.grantRoles(me, target, { roles, scope, clearance }, { levels: rt.config.clearanceLevels, ip: 'cli' });
          io.out(values.json ? JSON.stringify({ username: target.username, roles, scope: after.scope, clearance: after.clearance }) : `${target.username}: ${roles.join(', ') || '(no roles)'}; 全宗 fonds ${fmtScope(after.scope.fonds)}; 密级 clearance ${after.clearance}`);
        }),
    },
    {
      name: 'approve-reset',
      summary: 'Approve a credential reset a system administrator asked for (security administrator): the password and TOTP are cleared, sessions end; prints the second half of the setup secret for the person',
      usage: 'USERNAME [--reset-id ID]',
      description: 'The person needs both halves: the first from the system administrator (archive users reset), the second from you. Neither of you alone can set their password (三员分立).',
      permission: 'role.grant',
      options: { 'reset-id': { type: 'string', description: 'the resetId the system administrator was given (default: the pending request)', valueName: 'ID' } },
      run: async ({ values, positionals, io }) =>
        withRuntime(async (rt) => {
          const me = cliPrincipal(rt)!;
          const target = positionals[0] ? await rt.auth.findUser(positionals[0]) : null;
          if (!target) throw new AppError('not_found', { message: `No account ${positionals[0] ?? ''}`, zh: '账号不存在' });
          const object = { type: 'user', id: String(target._id) };
          const d = authorize(me, 'role.grant', { targetUserId: String(target._id) });
          if (!d.allowed) {
            await rt.audit.record({ actor: me.username, role: me.roles.join(','), ip: 'cli', action: 'user.manage', object, outcome: 'denied', details: { reason: d.reason, verb: 'approve-reset' } });
            throw new AppError('forbidden', { details: { reason: d.reason } });
          }
          const given = values['reset-id'];
          const resetId = typeof given === 'string' ? given : (await rt.auth.pendingReset(target._id))?.resetId;
          if (!resetId) throw new AppError('not_found', { message: `No pending reset request for ${target.username}`, zh: '该账号没有待批准的重置申请' });
          const { secondHalf, expiresAt } = await rt.auth.approveReset(target._id, resetId, me.id);
          await rt.audit.record({ actor: me.username, role: me.roles.join(','), ip: 'cli', action: 'user.manage', object, outcome: 'success', details: { username: target.username, reset: 'approved', resetId } });
          if (values.json) io.out(JSON.stringify({ username: target.username, resetId, secondHalf, expiresAt: expiresAt.toISOString() }));
          else io.out(`已批准重置 / reset approved: ${target.username}\n初始化口令后半段 / second half of the setup secret (shown once, expires ${expiresAt.toISOString()}):\n  ${secondHalf}\n本人须把系统管理员给的前半段与此后半段连起来使用 / the person enters the system administrator's first half followed by this one`);
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
              : 'Ask for a reset of an account\'s password and TOTP; prints the first half of a setup secret. A security administrator approves (approve-reset): then the credentials are cleared, sessions end, and the second half is printed',
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
              const { resetId, firstHalf, expiresAt } = await rt.auth.requestReset(target._id, me.id);
              await rt.audit.record({ actor: me.username, role: me.roles.join(','), ip: 'cli', action: 'user.manage', object, outcome: 'success', details: { username: target.username, reset: 'requested', resetId } });
              if (values.json) io.out(JSON.stringify({ username: target.username, resetId, firstHalf, expiresAt: expiresAt.toISOString() }));
              else io.out(`已申请重置 / reset requested: ${target.username} (resetId ${resetId})\n初始化口令前半段 / first half of the setup secret (shown once, expires ${expiresAt.toISOString()}):\n  ${firstHalf}\n须由安全保密管理员批准并给出后半段 / a security administrator approves and gives the second half: archive users approve-reset ${target.username} --reset-id ${resetId}`);
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
