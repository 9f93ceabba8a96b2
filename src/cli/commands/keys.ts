import { sealLegacyItems } from '../../services/records';
import { withRuntime } from '../runtime';
import type { Command } from '../command';

export const keysCommand: Command = {
  name: 'keys',
  summary: 'Key-encryption keys (KEKs): list, rotate, rewrap',
  usage: '<list|rotate|rewrap|seal-items>',
  subcommands: [
    {
      name: 'list',
      permission: 'keys.manage',
      summary: 'List the KEKs in the keystore and which one is active',
      usage: '',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const { keyring } = rt.storage;
          const keys = keyring.kekIds().map((id) => ({ id, active: id === keyring.activeKekId }));
          if (values.json) io.out(JSON.stringify({ keys, keystore: rt.config.keystore.dir }));
          else {
            for (const k of keys) io.out(`${k.active ? '*' : ' '} ${k.id}${k.active ? '  当前使用 / active for new writes' : ''}`);
            io.out(`密钥库 keystore: ${rt.config.keystore.dir}`);
          }
        }),
    },
    {
      name: 'rotate',
      permission: 'keys.manage',
      summary: 'Create a new KEK and make it active for new writes (old objects stay readable)',
      usage: '',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const id = await rt.storage.keyring.addKek({ activate: true });
          if (values.json) io.out(JSON.stringify({ active: id }));
          else io.out(`新的密钥已启用 / new active KEK: ${id}\n运行 "archive keys rewrap" 可将已有对象的数据密钥迁移到新密钥 / run "archive keys rewrap" to move existing data keys to it`);
        }),
    },
    {
      name: 'rewrap',
      permission: 'keys.manage',
      summary: 'Re-wrap every object\'s data key with the active KEK (content is not re-encrypted)',
      usage: '',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const res = await rt.storage.blobs.rewrapAll();
          if (values.json) io.out(JSON.stringify({ ...res, kek: rt.storage.keyring.activeKekId }));
          else io.out(`已迁移 ${res.rewrapped} 个数据密钥 / rewrapped ${res.rewrapped} data keys to ${rt.storage.keyring.activeKekId}`);
        }),
    },
    {
      name: 'seal-items',
      permission: 'keys.manage',
      summary: 'Seal the personal fields of items stored before sealing at rest existed (idempotent)',
      usage: '',
      run: async ({ values, io }) =>
        withRuntime(async (rt) => {
          const res = await sealLegacyItems(rt);
          if (values.json) io.out(JSON.stringify(res));
          else io.out(`已加密 ${res.sealed} 件（共检查 ${res.scanned} 件）/ sealed ${res.sealed} of ${res.scanned} items`);
        }),
    },
  ],
};
