/**
 * Structured JSON logs. Every line written while a request (or job) is in flight carries its
 * id, taken from an AsyncLocalStorage context, so no code has to thread a logger through calls.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';

export interface LogContext {
  requestId?: string;
  jobId?: string;
  user?: string;
}

export const logContext = new AsyncLocalStorage<LogContext>();

const REDACT = [
  'password', '*.password', 'passphrase', '*.passphrase', 'secretKey', '*.secretKey', 'token', '*.token',
  'authorization', '*.authorization', 'req.headers.authorization', 'req.headers.cookie', 'headers.cookie',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT, censor: '[redacted]' },
      mixin: () => ({ ...logContext.getStore() }),
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Runs fn with ids that every log line inside it will carry. */
export function withLogContext<T>(ctx: LogContext, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...ctx }, fn);
}
