/**
 * Schedule versions as data: every `rules/<id>.v<N>.json` file beside this one is a version. The
 * one in force is chosen by the app (a pinned version from configuration) or by date: the latest
 * `inForceFrom` (default `effectiveFrom`) on or before the given day; on a tie the higher version.
 * Adding a version is adding a reviewed file, never code.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadSchedule, RuleFileError } from './loader';
import type { Schedule } from './schema';
import type { IsoDate } from './clock';

const RULES_DIR = path.join(__dirname, 'rules');
const VERSION_FILE = /^([a-z0-9][a-z0-9-]*)\.v(\d+)\.json$/;

const cache = new Map<string, Schedule[]>();

/** Every schedule version in `dir` (default: the bundled rules/), validated, oldest first. */
export function scheduleVersions(dir: string = RULES_DIR): Schedule[] {
  const hit = cache.get(dir);
  if (hit) return hit;
  const out: Schedule[] = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const m = VERSION_FILE.exec(name);
    if (!m || m[1] === 'title-patterns') continue;
    const s = loadSchedule(JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')), `rules/${name}`);
    if (`${s.id}.${s.version}` !== `${m[1]}.v${m[2]}`) {
      throw new RuleFileError(`rules/${name}`, [{ path: '(root)', message: `file name says ${m[1]}.v${m[2]} but the file is ${s.versionId}` }]);
    }
    out.push(s);
  }
  out.sort((a, b) => inForceFrom(a).localeCompare(inForceFrom(b)) || versionNumber(a) - versionNumber(b));
  cache.set(dir, out);
  return out;
}

export function inForceFrom(s: Schedule): IsoDate {
  return s.inForceFrom ?? s.effectiveFrom;
}

function versionNumber(s: Schedule): number {
  return Number(s.version.slice(1));
}

export class ScheduleVersionError extends Error {
  readonly code = 'unknown_schedule_version';
  constructor(message: string) {
    super(message);
    this.name = 'ScheduleVersionError';
  }
}

/** One version by its id (`3hao-ling-2009.v2`). */
export function scheduleVersion(versionId: string, dir?: string): Schedule {
  const all = scheduleVersions(dir);
  const s = all.find((v) => v.versionId === versionId);
  if (!s) throw new ScheduleVersionError(`no schedule version ${JSON.stringify(versionId)}; known: ${all.map((v) => v.versionId).join(', ')}`);
  return s;
}

/** The version in force: the pinned one, else the latest in force on `asOf` (YYYY-MM-DD). */
export function scheduleInForce(opts: { version?: string; asOf: IsoDate; dir?: string }): Schedule {
  if (opts.version) return scheduleVersion(opts.version, opts.dir);
  const all = scheduleVersions(opts.dir).filter((s) => inForceFrom(s) <= opts.asOf);
  const s = all.at(-1);
  if (!s) throw new ScheduleVersionError(`no schedule version is in force on ${opts.asOf}`);
  return s;
}
