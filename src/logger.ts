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

/**
 * Logs carry no personal data (个人信息保护法 第51条: technical measures against leakage; issue
 * #13.11). The one place every line passes is pino's streamWrite hook: whatever a message, an
 * error, a validation report or a request path quotes, any run of 11 or more digits — ASCII or
 * full-width, spaced or dashed between digits, with a trailing X check character — is replaced
 * by asterisks of the same length before the line is written. That covers 公民身份号码 (15/18),
 * mobile numbers (11) and bank card numbers (16-19), whole or as the fragments an OCR error or a
 * cut snippet leaves; shorter numbers (dates, sizes, counts, ports) stay readable.
 */
const LONG_NUMBER = /[0-9\uFF10-\uFF19](?:[ \-\uFF0D]?[0-9\uFF10-\uFF19]){10,}(?:[ \-\uFF0D]?[Xx\uFF38\uFF58])?/g;

/**
 * Request ids are random UUIDs, and their digit groups (which the hyphens join) can line up into a
 * long run: about one request id in a hundred lost its digits to the mask, and with them the
 * request a log line is about. A UUID is kept whole. Object ids (24 hex) are not exempted: a
 * 24-character token could carry 18 digits of a person's number, and an id masked once in a few
 * hundred is the cheaper loss.
 */
const SYSTEM_ID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/;
const MASKABLE = new RegExp(`(${SYSTEM_ID.source})|${LONG_NUMBER.source}`, 'g');

export function maskLogText(line: string): string {
  return line.replace(MASKABLE, (m, systemId: string | undefined) => (systemId ? m : m.replace(/[0-9\uFF10-\uFF19Xx\uFF38\uFF58]/g, '*')));
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      hooks: { streamWrite: maskLogText },
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
