/**
 * The account name a CLI command asks to act as, before any account is looked up: --as, else
 * ARCHIVE_USER; undefined means the embedded local operator. Kept apart from identity.ts (which
 * loads services/access) so that the control-socket client of `archive search` can send the name
 * without loading service code; identity.ts resolves the account from the same answer.
 */
import { cliUserFromEnv } from '../config';
import type { CliInvocation } from './invocation';

export function requestedCliUser(inv: Pick<CliInvocation, 'as'> | undefined): string | undefined {
  return inv?.as ?? cliUserFromEnv();
}
