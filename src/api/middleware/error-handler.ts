/**
 * The single mapping from errors to HTTP. Domain and storage errors carry a catalogue code;
 * anything unknown becomes a 500 whose body reveals nothing but the request id.
 */
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../../errors';

function isCatalogueCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CATALOGUE, code);
}

/** Errors from leaf packages (storage, ocr) and koa's own http errors, mapped to AppError. */
export function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; status?: unknown; expose?: unknown; message?: unknown; type?: unknown; details?: unknown };
  if (isCatalogueCode(e.code) && typeof e.message === 'string') {
    return new AppError(e.code, {
      details: typeof e.details === 'object' && e.details !== null ? (e.details as Record<string, unknown>) : undefined,
      cause: err,
    });
  }
  // The database's disk is full (SQLite under FerretDB: "database or disk is full"; MongoDB:
  // OutOfDiskSpace 14031 or ENOSPC): the same answer as a full object store, not a bare 500.
  if (e.code === 14031 || /database or disk is full|No space left on device|OutOfDiskSpace/i.test(String(e.message))) {
    return new AppError('storage_full', { message: 'The database has no space left and nothing was saved; an administrator must free or add space', zh: '数据库存储空间已满，未能保存；请管理员清理或扩充存储', cause: err });
  }
  // koa / raw-body errors: status + expose mean "the client's fault".
  if (typeof e.status === 'number' && e.expose === true) {
    if (e.status === 413) return new AppError('payload_too_large', { cause: err });
    if (e.status === 415) return new AppError('unsupported_media_type', { cause: err });
    if (e.status === 400 && (e.type === 'entity.parse.failed' || /JSON/i.test(String(e.message)))) {
      return new AppError('bad_json', { cause: err });
    }
    if (e.status === 404) return new AppError('not_found', { cause: err });
    if (e.status === 405) return new AppError('method_not_allowed', { cause: err });
    if (e.status >= 400 && e.status < 500) return new AppError('validation_failed', { message: String(e.message), cause: err });
  }
  return undefined;
}

export function errorHandler(logger: Logger): Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      const appErr = toAppError(err);
      const requestId = String(ctx.state.requestId ?? '');
      if (appErr && appErr.status < 500) {
        logger.warn({ code: appErr.code, status: appErr.status, details: appErr.details }, appErr.message);
        ctx.status = appErr.status;
        ctx.body = {
          error: { code: appErr.code, message: appErr.message, messageZh: appErr.zh, ...(appErr.details ? { details: appErr.details } : {}) },
          requestId,
        };
        return;
      }
      // 5xx: log everything, show nothing internal.
      logger.error({ err }, 'request failed');
      const code: ErrorCode = appErr?.code ?? 'internal_error';
      const spec = ERROR_CATALOGUE[code];
      ctx.status = appErr?.status ?? 500;
      ctx.body = { error: { code, message: spec.en, messageZh: spec.zh }, requestId };
    }
  };
}
