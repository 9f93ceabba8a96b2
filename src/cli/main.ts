/**
 * `archive` — the command line. Each subcommand lives in cli/commands; add new ones to COMMANDS.
 */
import { dispatch, type Command, type CommandIO } from './command';
import { serveCommand, workerCommand } from './commands/serve';
import { configCommand, healthCommand } from './commands/system';
import { keysCommand } from './commands/keys';
import { jobsCommand } from './commands/jobs';
import { auditCommand } from './commands/audit';
import { usersCommand } from './commands/users';
import { accessCommand } from './commands/access';
import { ingestCommand, showCommand } from './commands/ingest';
import { separatorsCommand } from './commands/separators';
import { scheduleCommand } from './commands/schedule';
import { reindexCommand, searchCommand } from './commands/search';
import { catalogueCommand, confirmCommand, correctCommand } from './commands/filing';
import { backupCommand, fsckCommand, restoreCommand } from './commands/integrity';

export const COMMANDS: Command[] = [ingestCommand, showCommand, confirmCommand, correctCommand, catalogueCommand, scheduleCommand, separatorsCommand, serveCommand, workerCommand, healthCommand, configCommand, keysCommand, jobsCommand, auditCommand, usersCommand, searchCommand, reindexCommand, accessCommand, fsckCommand, backupCommand, restoreCommand];

export const ROOT: Command = {
  name: 'archive',
  summary: '社保业务电子档案系统命令行 / Social-insurance e-archive command line',
  usage: '<command> [options]',
  description: 'Run "archive <command> --help" for a command\'s options.',
  subcommands: COMMANDS,
};

export function stdio(): CommandIO {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    isTTY: process.stderr.isTTY === true,
  };
}

export async function main(argv: string[], io: CommandIO = stdio()): Promise<number> {
  return dispatch(ROOT, argv, io);
}
