import { cliUserFromEnv, loadConfig } from '../../config';
import { LOCAL_OPERATOR } from '../../services/access';
import { startServer } from '../../server';
import type { Command } from '../command';

function serve(role: 'all' | 'api' | 'worker'): Command['run'] {
  return async ({ values, io }) => {
    const config = loadConfig();
    const port = typeof values.port === 'string' ? Number(values.port) : undefined;
    const cfg = port !== undefined ? loadConfig({ PORT: String(port) }) : config;
    const running = await startServer(cfg, { role: (values.role as typeof role | undefined) ?? role });
    // Starting the services is a machine-local step (like create-admin): not role-checked, but on the record.
    void running.runtime.audit
      .record({ actor: cliUserFromEnv() ?? LOCAL_OPERATOR, ip: 'cli', action: 'system.start', object: { type: 'process', id: String(process.pid) }, outcome: 'success', details: { role: (values.role as string | undefined) ?? role, url: running.url ?? null } })
      .catch(() => undefined);
    if (values.json) io.out(JSON.stringify({ url: running.url ?? null, role, workerId: running.worker?.id ?? null, controlSocket: running.controlSocket }));
    else if (running.url) io.err(`\n  档案系统已启动 / Archive is running: ${running.url}\n  健康检查 / health: ${running.url}/readyz   API: ${running.url}/api/v1/openapi.json\n  按 Ctrl-C 停止 / Ctrl-C to stop\n`);
    else io.err(`OCR worker ${running.worker?.id} running; Ctrl-C to stop`);
    await new Promise<never>(() => undefined); // runs until a signal ends the process
  };
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Start the API server (and an OCR worker unless --role api)',
  usage: '[--port N] [--role all|api|worker]',
  permission: 'local',
  options: {
    port: { type: 'string', description: 'HTTP port (overrides PORT)', valueName: 'N' },
    role: { type: 'string', description: 'all (API + worker), api or worker', valueName: 'role' },
  },
  run: serve('all'),
};

export const workerCommand: Command = {
  name: 'worker',
  summary: 'Start a background worker process (OCR and other jobs); run several beside the API',
  usage: '',
  permission: 'local',
  run: serve('worker'),
};
