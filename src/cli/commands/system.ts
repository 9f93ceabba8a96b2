import { loadConfig } from '../../config';
import { withRuntime } from '../runtime';
import type { Command } from '../command';

export const configCommand: Command = {
  name: 'config',
  // Reads only the environment of this machine (secrets hidden), never the archive.
  permission: 'local',
  summary: 'Validate the configuration and print it (secrets hidden)',
  usage: '',
  run: async ({ values, io }) => {
    const c = loadConfig();
    const shown = {
      ...c,
      minio: { ...c.minio, secretKey: '***', executor: c.minio.executor ? { accessKey: c.minio.executor.accessKey, secretKey: '***' } : null },
      keystore: { ...c.keystore, passphrase: c.keystore.passphrase ? '***' : '(embedded passphrase file)' },
    };
    io.out(values.json ? JSON.stringify(shown) : JSON.stringify(shown, null, 2));
  },
};

export const healthCommand: Command = {
  name: 'health',
  permission: 'session',
  summary: 'Check that MongoDB, MinIO and the keys are reachable',
  usage: '',
  run: async ({ values, io }) =>
    withRuntime(async (rt) => {
      const results: Record<string, { ok: boolean; error?: string }> = {};
      for (const c of rt.readiness) {
        try {
          await c.check();
          results[c.name] = { ok: true };
        } catch (err) {
          results[c.name] = { ok: false, error: (err as Error).message };
        }
      }
      const ok = Object.values(results).every((r) => r.ok);
      if (values.json) io.out(JSON.stringify({ ok, checks: results }));
      else for (const [name, r] of Object.entries(results)) io.out(`${r.ok ? '✔' : '✘'} ${name}${r.error ? `: ${r.error}` : ''}`);
      return ok ? 0 : 1;
    }),
};
