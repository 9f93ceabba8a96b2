/**
 * A tiny subcommand framework over node:util parseArgs. Every command gets --help and --json
 * for free; a module adds commands by listing them in the command tree in cli/main.ts.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AppError, isAppError } from '../errors';
import { cliInvocation } from './invocation';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description: string; valueName?: string };

export interface CommandIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** True when stderr is a terminal: progress bars go there, never into --json output. */
  isTTY: boolean;
}

export interface CommandContext<V> {
  values: V & { json: boolean };
  positionals: string[];
  io: CommandIO;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  description?: string;
  options?: Record<string, OptionSpec>;
  /** Subcommands instead of a run function, e.g. `archive keys rotate`. */
  subcommands?: Command[];
  run?: (ctx: CommandContext<Record<string, unknown>>) => Promise<number | void>;
  /** policies action the account must hold (checked in withRuntime); default: any active account */
  permission?: string;
  /**
   * A lazily loaded command: this entry carries only name, summary and usage (for the parent's
   * help) and load() returns the full command, so `archive --help` loads no service code.
   */
  load?: () => Command;
}

/** The full command behind a (possibly lazy) entry. */
export function resolveCommand(cmd: Command): Command {
  return cmd.load ? cmd.load() : cmd;
}

const COMMON: Record<string, OptionSpec> = {
  help: { type: 'boolean', short: 'h', description: 'show help for this command' },
  json: { type: 'boolean', description: 'machine-readable JSON output' },
  as: { type: 'string', description: 'act as this account (default: ARCHIVE_USER, else the local operator)', valueName: 'USER' },
};

export function helpText(cmd: Command, prefix: string): string {
  const lines = [`Usage: ${prefix} ${cmd.usage}`.trimEnd(), '', cmd.summary];
  if (cmd.description) lines.push('', cmd.description);
  if (cmd.subcommands?.length) {
    lines.push('', 'Commands:');
    const width = Math.max(...cmd.subcommands.map((s) => s.name.length));
    for (const s of cmd.subcommands) lines.push(`  ${s.name.padEnd(width)}  ${s.summary}`);
  }
  const opts = { ...(cmd.options ?? {}), ...COMMON };
  lines.push('', 'Options:');
  const shown = Object.entries(opts).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.valueName ?? 'value'}>` : ''}`;
    return [flag, o.description + (o.default !== undefined ? ` (default: ${String(o.default)})` : '')] as const;
  });
  const w = Math.max(...shown.map(([f]) => f.length));
  for (const [f, d] of shown) lines.push(`  ${f.padEnd(w)}  ${d}`);
  return lines.join('\n');
}

/** Runs argv against a command tree; returns the exit code. Errors print in zh + en (or JSON). */
export async function dispatch(root: Command, argv: string[], io: CommandIO, prefix = root.name): Promise<number> {
  const wantsJson = argv.includes('--json');
  try {
    const [first, ...rest] = argv;
    const sub = root.subcommands?.find((s) => s.name === first);
    if (sub) return await dispatch(resolveCommand(sub), rest, io, `${prefix} ${sub.name}`);
    const options = Object.fromEntries(
      Object.entries({ ...(root.options ?? {}), ...COMMON }).map(([k, o]) => {
        const { description: _d, valueName: _v, ...spec } = o;
        return [k, spec];
      }),
    ) as ParseArgsConfig['options'];
    let parsed;
    try {
      parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new AppError('validation_failed', {
        message: `${(err as Error).message}\nRun "${prefix} --help" for usage.`,
        zh: `命令参数不正确：${(err as Error).message}。运行 "${prefix} --help" 查看用法。`,
      });
    }
    const raw = parsed.values as Record<string, unknown>;
    const values = { ...raw, json: raw.json === true } as Record<string, unknown> & { json: boolean };
    if (values.help || !root.run) {
      if (!root.run && !values.help && parsed.positionals.length > 0) {
        throw new AppError('validation_failed', {
          message: `Unknown command "${parsed.positionals[0]}". Run "${prefix} --help" for the list.`,
          zh: `未知命令 "${parsed.positionals[0]}"。运行 "${prefix} --help" 查看可用命令。`,
        });
      }
      io.out(values.json ? JSON.stringify(helpJson(root, prefix)) : helpText(root, prefix));
      return values.help ? 0 : 2;
    }
    const run = root.run;
    const code = await cliInvocation.run({ command: prefix, permission: root.permission, as: typeof values.as === 'string' ? values.as : undefined }, () =>
      run({ values, positionals: parsed.positionals, io }),
    );
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    return reportError(err, io, wantsJson);
  }
}

function helpJson(cmd: Command, prefix: string): Record<string, unknown> {
  return {
    command: prefix,
    usage: `${prefix} ${cmd.usage}`.trim(),
    summary: cmd.summary,
    subcommands: cmd.subcommands?.map((s) => ({ name: s.name, summary: s.summary })) ?? [],
    options: Object.entries({ ...(cmd.options ?? {}), ...COMMON }).map(([name, o]) => ({ name, type: o.type, description: o.description })),
  };
}

export function reportError(err: unknown, io: CommandIO, json: boolean): number {
  const code = isAppError(err) ? err.code : typeof (err as { code?: unknown })?.code === 'string' ? String((err as { code: string }).code) : 'internal_error';
  const message = err instanceof Error ? err.message : String(err);
  const zh = isAppError(err) ? err.zh : undefined;
  if (json) io.out(JSON.stringify({ error: { code, message, ...(zh ? { messageZh: zh } : {}) } }));
  else io.err(`错误 / Error [${code}]: ${zh ? `${zh}\n  ${message}` : message}`);
  if (!isAppError(err) && err instanceof Error && err.stack) io.err(err.stack);
  return isAppError(err) && err.status < 500 ? 2 : 1;
}
