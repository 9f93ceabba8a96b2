/**
 * One closed catalogue of application errors. Domain code throws AppError with a stable
 * snake_case code; only the HTTP edge (api/middleware/error-handler.ts) and the CLI map it to
 * a status or exit code. Every code carries a Chinese and an English message, because the
 * people who read them at a counter or a scanning station read Chinese first.
 */

export interface ErrorSpec {
  status: number;
  zh: string;
  en: string;
  /**
   * Whether a background job that failed with this code may succeed when tried again. Codes that
   * describe the input itself (a bad file, a missing item) are not: retrying burns attempts and
   * delays the archivist's answer. Absent means retryable (the transient default).
   */
  retryable?: false;
}

export const ERROR_CATALOGUE = {
  validation_failed: { status: 400, zh: '请求参数不合法', en: 'The request is not valid', retryable: false },
  bad_json: { status: 400, zh: '请求体不是合法的 JSON', en: 'The request body is not valid JSON' },
  payload_too_large: { status: 413, zh: '请求体过大', en: 'The request body is too large' },
  unsupported_media_type: { status: 415, zh: '不支持的文件类型', en: 'Unsupported file type', retryable: false },
  empty_file: { status: 400, zh: '文件为空（0 字节）', en: 'The file is empty (0 bytes)', retryable: false },
  corrupt_file: { status: 422, zh: '文件已损坏或不完整，无法读取', en: 'The file is damaged or incomplete and cannot be read', retryable: false },
  too_large: { status: 413, zh: '文件或图像尺寸超出限制', en: 'The file or image is larger than allowed', retryable: false },
  too_many_pages: { status: 413, zh: '页数超出限制', en: 'The file has more pages than allowed', retryable: false },
  encrypted_pdf: { status: 422, zh: 'PDF 已加密，无法处理；请提供未加密的扫描件', en: 'The PDF is encrypted; provide an unencrypted scan', retryable: false },
  pdf_javascript: { status: 422, zh: 'PDF 含有脚本（JavaScript），出于安全原因拒绝处理', en: 'The PDF contains JavaScript and is refused for safety', retryable: false },
  not_found: { status: 404, zh: '资源不存在', en: 'Not found' },
  route_not_found: { status: 404, zh: '接口不存在', en: 'No such API route' },
  method_not_allowed: { status: 405, zh: '不支持该请求方法', en: 'Method not allowed' },
  item_not_found: { status: 404, zh: '档案条目不存在', en: 'Archive item not found', retryable: false },
  object_not_found: { status: 404, zh: '存储对象不存在', en: 'Stored object not found' },
  conflict: { status: 409, zh: '与当前状态冲突', en: 'Conflicts with the current state' },
  duplicate_item: { status: 409, zh: '该文件已经归档', en: 'This file is already archived' },
  unauthenticated: { status: 401, zh: '未登录或登录已失效', en: 'Not signed in or the session expired' },
  forbidden: { status: 403, zh: '没有执行该操作的权限', en: 'Not allowed to do this' },
  rate_limited: { status: 429, zh: '请求过于频繁，请稍后再试', en: 'Too many requests, try again later' },
  config_invalid: { status: 500, zh: '配置不正确', en: 'The configuration is not valid' },
  integrity_error: { status: 500, zh: '数据完整性校验失败，内容可能被篡改或损坏', en: 'Integrity check failed: the content may be tampered with or damaged' },
  keystore_mismatch: { status: 503, zh: '本进程的密钥库无法解开本档案的数据密钥（密钥库、口令或数据库不匹配）', en: "This process's keystore cannot unwrap this archive's data keys (wrong keystore, passphrase or database)", retryable: false },
  key_not_found: { status: 500, zh: '找不到解密所需的密钥', en: 'The key needed to decrypt is not available' },
  object_locked: { status: 409, zh: '该对象受保留期限或冻结（对象锁定）保护，不能提前删除', en: 'The object is protected by its retention period or a legal hold (object lock) and cannot be removed early', retryable: false },
  transfer_check_failed: { status: 422, zh: '移交包四性检测未通过，未移交', en: 'The transfer package failed its 四性 check and was not released', retryable: false },
  object_shredded: { status: 410, zh: '该对象已被销毁（密钥已粉碎），无法恢复', en: 'This object was destroyed (its key was shredded) and cannot be recovered' },
  range_not_satisfiable: { status: 416, zh: '请求的字节范围无效', en: 'The requested byte range is not satisfiable' },
  second_factor_required: { status: 401, zh: '签署须再次进行二次认证（输入动态验证码）', en: 'Signing needs a fresh second-factor code (TOTP)', retryable: false },
  not_appraisable: { status: 409, zh: '该条目不能进入鉴定或销毁（未到期、永久、暂定期限、冻结中或已在鉴定中）', en: 'The item cannot enter appraisal or destruction (not due, permanent, provisional, held, or already in a round)', retryable: false },
  pages_not_editable: { status: 409, zh: '该条目的页面当前不能调整（已编档号、冻结、已销毁、已移交或正在处理）', en: "The item's pages cannot be edited now (numbered, on hold, destroyed, transferred or being processed)", retryable: false },
  item_on_hold: { status: 409, zh: '该条目已被冻结（法律保全），不得销毁', en: 'The item is under a legal hold and may not be destroyed', retryable: false },
  cooling_off: { status: 409, zh: '批准后的冷静期尚未结束，暂不能执行销毁', en: 'The cooling-off period after approval has not ended yet', retryable: false },
  service_unavailable: { status: 503, zh: '依赖的服务暂不可用', en: 'A required service is unavailable' },
  // The API process is loading the embedded full-text index after a start (services/search): a search is refused, not held, until it is in memory.
  search_index_loading: { status: 503, zh: '全文索引正在加载，请稍后再试', en: 'The full-text index is still loading; try again shortly' },
  // Retryable: the job waits with back-off until an operator frees or adds space; nothing half-stored.
  storage_full: { status: 507, zh: '存储空间已满，未能保存；请管理员清理或扩充存储后重试', en: 'The storage is full and nothing was saved; an administrator must free or add space, then it is retried' },
  internal_error: { status: 500, zh: '服务器内部错误', en: 'Internal server error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly zh: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, opts: { message?: string; zh?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    const spec: ErrorSpec = ERROR_CATALOGUE[code];
    super(opts.message ?? spec.en, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = spec.status;
    this.zh = opts.zh ?? spec.zh;
    this.details = opts.details;
  }
}

/** The catalogue's entry for an error's code (an AppError's, or another error's carrying a catalogue code); null for any other. */
export function errorSpec(err: unknown): ErrorSpec | null {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && code in ERROR_CATALOGUE ? ERROR_CATALOGUE[code as ErrorCode] : null;
}

/** False when a job failing with this error should not be tried again (see ErrorSpec.retryable). */
export function isRetryable(err: unknown): boolean {
  if ((err as { permanent?: unknown })?.permanent === true) return false;
  return errorSpec(err)?.retryable !== false;
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
