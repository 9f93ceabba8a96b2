/**
 * `archive` — the command line. Each subcommand lives in cli/commands; add new ones to COMMANDS.
 *
 * Commands are loaded lazily: this list carries each command's name, summary and usage for
 * `archive --help`, and load() requires its module only when that command runs, so a command
 * pays only for the services it uses (test/unit/cli/lazy-commands.spec.ts keeps the summaries
 * here equal to the modules').
 */
/* eslint-disable @typescript-eslint/no-require-imports -- lazy loading is the point of this file */
import { dispatch, resolveCommand, type Command, type CommandIO } from './command';

type Cmds = Record<string, Command>;
const lazy = (name: string, summary: string, usage: string, load: () => Command): Command => ({ name, summary, usage, load });
const ingest = (): Cmds => require('./commands/ingest') as Cmds;
const filing = (): Cmds => require('./commands/filing') as Cmds;
const serve = (): Cmds => require('./commands/serve') as Cmds;
const system = (): Cmds => require('./commands/system') as Cmds;
const search = (): Cmds => require('./commands/search') as Cmds;
const integrity = (): Cmds => require('./commands/integrity') as Cmds;
const disposition = (): Cmds => require('./commands/disposition') as Cmds;
const pick = (mod: () => Cmds, name: string) => (): Command => {
  const c = mod()[name];
  if (!c) throw new Error(`cli: ${name} missing from its module`);
  return c;
};

export const COMMANDS: Command[] = [
  lazy('ingest', 'Ingest scans: each PATH (a file, or a folder of page images) becomes one item (件)', 'PATH... [--fonds CODE] [--wait] [--json]', pick(ingest, 'ingestCommand')),
  lazy('show', 'Show one item: description, pages with OCR text, quality flags', 'ID [--json]', pick(ingest, 'showCommand')),
  lazy('confirm', 'Accept the proposed description of an item (issues its 档号)', 'ID [--as USER]', pick(filing, 'confirmCommand')),
  lazy('correct', "Correct an item's classification or description", 'ID [--item ROW] [--date YYYY-MM-DD] [--title T] [--doc-number 文号] [--person ID:NAME ...] [--unit [CODE:]NAME ...] [--as USER]', pick(filing, 'correctCommand')),
  lazy('catalogue', '归档文件目录 (DA/T 22-2015) as CSV or printable PDF', '[--fonds CODE] [--year YYYY] [--format csv|pdf] [--out FILE]', pick(filing, 'catalogueCommand')),
  lazy('schedule', 'The retention schedule (《社会保险业务档案管理规定（试行）》附件): show, list versions, check and apply a version', '<show|versions|review FILE|apply VERSION>', pick(() => require('./commands/schedule') as Cmds, 'scheduleCommand')),
  lazy('number', '档号: withdraw a number (撤销) and read the withdrawal register (空号登记)', '<withdraw ITEM --reason TEXT|register>', pick(() => require('./commands/schedule') as Cmds, 'numberCommand')),
  lazy('storage', 'Object-lock protection of the stored objects (WORM): status, protect filed items, migrate into a locked bucket', '<status|protect|protection ITEM|migrate-lock --to BUCKET>', pick(() => require('./commands/storage') as Cmds, 'storageCommand')),
  lazy('transfer', "移交: export a signed BagIt transfer package, verify it (四性), import the archives' receipt", '<export|verify DIR|receipt FILE|list>', pick(() => require('./commands/transfer') as Cmds, 'transferCommand')),
  lazy('separators', 'Print separator sheets (QR) for batch scanning: put one before each item of a stack', '--out FILE.pdf [--count N] [--box BOX] [--person ID:NAME ...]', pick(() => require('./commands/separators') as Cmds, 'separatorsCommand')),
  lazy('qc', 'Quality control of scans (DA/T 31-2017): batch summary, accept a held scan', '<summary|accept> ...', pick(() => require('./commands/qc') as Cmds, 'qcCommand')),
  lazy('serve', 'Start the API server (and an OCR worker unless --role api)', '[--port N] [--role all|api|worker]', pick(serve, 'serveCommand')),
  lazy('worker', 'Start a background worker process (OCR and other jobs); run several beside the API', '', pick(serve, 'workerCommand')),
  lazy('health', 'Check that MongoDB, MinIO and the keys are reachable', '', pick(system, 'healthCommand')),
  lazy('config', 'Validate the configuration and print it (secrets hidden)', '', pick(system, 'configCommand')),
  lazy('keys', 'Key-encryption keys (KEKs): list, rotate, rewrap', '<list|rotate|rewrap|seal-items>', pick(() => require('./commands/keys') as Cmds, 'keysCommand')),
  lazy('jobs', 'Show the background job queue', '<status|show ID>', pick(() => require('./commands/jobs') as Cmds, 'jobsCommand')),
  lazy('audit', 'The tamper-evident audit trail: verify the chain, list entries', '<verify|list|anchor>', pick(() => require('./commands/audit') as Cmds, 'auditCommand')),
  lazy('users', 'Accounts: create the first administrators, list, grant roles', '<create-admin|create|list|grant|disable|enable|reset|approve-reset>', pick(() => require('./commands/users') as Cmds, 'usersCommand')),
  lazy('search', '全文检索 / Search archive items by OCR text and description', 'QUERY [--limit N] [--person ID] [--json]', pick(search, 'searchCommand')),
  lazy('reindex', '重建全文索引 / Rebuild the full-text search index from the archive', '[--merge] [--json]', pick(search, 'reindexCommand')),
  lazy('access', '借阅/调阅 / Time-limited access to items outside your scope: request, list, approve, refuse, end', '<request|list|approve|reject|end>', pick(() => require('./commands/access') as Cmds, 'accessCommand')),
  lazy('fsck', 'Check the archive for inconsistencies (items ↔ blobs, search index, 档号 numbering, stuck jobs, audit chain)', '[--repair] [--only items,orphans,numbering,jobs,audit] [--rate N] [--resume]', pick(integrity, 'fsckCommand')),
  lazy('check', '四性检测 (DA/T 70-2018): 真实性、完整性、可用性、安全性 — run now, list, show, export', '<run|list|show>', pick(integrity, 'checkCommand')),
  lazy('backup', 'Back up the database, mirror the encrypted objects, and the keystore to a separate place (数据备份, 异地存储)', '[--to URL] [--keys-to URL] [--keep N] | --list [--to URL]', pick(integrity, 'backupCommand')),
  lazy('restore', 'Restore a backup into fresh (empty) services: keystore, database, objects; then re-apply destructions and fsck', '--from URL [--backup ID] [--keys-from URL] --yes', pick(integrity, 'restoreCommand')),
  lazy('appraisal', '鉴定 / Appraisal: the due list, rounds with the 鉴定小组, opinions, the report', '<due|open|opinion|close|show|list|report>', pick(disposition, 'appraisalCommand')),
  lazy('disposal', '销毁 / Destruction: the 销毁清册, sign-offs, 备案, approval, supervised destruction, certificate', '<list|show|create|edit|sign|file|approve|reject|pdf|start|execute|confirm|certificate|verify-certificate|reapply>', pick(disposition, 'disposalCommand')),
  lazy('hold', '冻结 / Legal holds: place, release, list', '<list|show|place|release>', pick(disposition, 'holdCommand')),
];

/** Every command, loaded (the permission matrix test and tools that walk the whole tree). */
export function loadCommands(): Command[] {
  return COMMANDS.map(resolveCommand);
}

export const ROOT: Command = {
  name: 'archive',
  summary: '社保业务电子档案系统命令行 / Social-insurance e-archive command line',
  usage: '<command> [options]',
  description: 'Run "archive <command> --help" for a command\'s options.',
  subcommands: COMMANDS,
};

/**
 * Whether the reader of our standard output has gone (`archive show ID | head`). The command still
 * finishes its work (an ingest half done would have to be resumed by a worker); what it would
 * have printed is dropped, instead of a crash with a stack trace (EPIPE).
 */
let stdoutGone = false;
let watchingStdout = false;
function watchStdout(): void {
  if (watchingStdout) return;
  watchingStdout = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') stdoutGone = true;
    else process.stderr.write(`stdout: ${e.message}\n`);
  });
}

export function stdio(): CommandIO {
  watchStdout();
  return {
    out: (line) => (stdoutGone ? true : process.stdout.write(`${line}\n`)),
    err: (line) => process.stderr.write(`${line}\n`),
    isTTY: process.stderr.isTTY === true,
  };
}

export async function main(argv: string[], io: CommandIO = stdio()): Promise<number> {
  return dispatch(ROOT, argv, io);
}
