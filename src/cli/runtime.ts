/** Opens a Runtime for a one-shot CLI command and always closes it. Logs go to stderr. */
import pino from 'pino';
import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { createRuntime, type Runtime } from '../runtime';
import { checkCliCommand, withOutcomeAudited } from './identity';

export async function withRuntime<T>(fn: (rt: Runtime) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, pino.destination(2));
  const rt = await createRuntime(config, { logger });
  try {
    return await withOutcomeAudited(await checkCliCommand(rt), () => fn(rt));
  } finally {
    await rt.close();
  }
}
