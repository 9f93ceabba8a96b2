/**
 * Which retention schedule version governs: the one configuration pins (ARCHIVE_SCHEDULE_VERSION),
 * else the latest bundled version in force today (retention-rules/versions.ts). Versions are data
 * files; choosing one never rewrites past decisions — `applySchedule` does that, item by item.
 */
import { isoDateOf, scheduleInForce, scheduleVersion, ScheduleVersionError, type Schedule } from '../../../retention-rules';
import { AppError } from '../../errors';
import type { Runtime } from '../../runtime';

export function scheduleFor(rt: Pick<Runtime, 'config'>, asOf: string = isoDateOf(new Date())): Schedule {
  try {
    return scheduleInForce({ version: rt.config.schedule.version, asOf });
  } catch (err) {
    if (err instanceof ScheduleVersionError) throw new AppError('config_invalid', { message: `ARCHIVE_SCHEDULE_VERSION: ${err.message}`, zh: `保管期限表版本配置不正确：${err.message}` });
    throw err;
  }
}

/** A bundled version by id; a 404-style validation error names the versions that exist. */
export function scheduleById(versionId: string): Schedule {
  try {
    return scheduleVersion(versionId);
  } catch (err) {
    if (err instanceof ScheduleVersionError) throw new AppError('validation_failed', { message: err.message, zh: `没有保管期限表版本 ${versionId}`, details: { field: 'version' } });
    throw err;
  }
}
