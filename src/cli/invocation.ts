/**
 * The command being run (its permission and --as), noted by dispatch() and read by withRuntime().
 * Kept apart from identity.ts so that `archive --help` loads no service code (see cli/main.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CliInvocation {
  command: string;
  /** policies action; 'local' = a machine-bootstrap step (e.g. the first admin), audited but not role-checked */
  permission?: string;
  as?: string;
  /** what the command's audit entry names, set by the command as it learns it */
  auditObject?: { type: string; id: string };
  auditDetails?: Record<string, unknown>;
}

export const cliInvocation = new AsyncLocalStorage<CliInvocation>();
