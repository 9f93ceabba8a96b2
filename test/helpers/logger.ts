import pino from 'pino';

/** Silent unless TEST_LOG=debug etc. is set, so failures stay readable. */
export const testLogger = pino({ level: process.env.TEST_LOG ?? 'silent' });
