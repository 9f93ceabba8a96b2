/**
 * The storage package's closed set of failure codes. The app's edge maps each code to an HTTP
 * status and a bilingual message (src/errors.ts); nothing here knows about HTTP.
 */
export type StorageErrorCode =
  | 'integrity_error'
  | 'key_not_found'
  | 'object_shredded'
  | 'object_not_found'
  | 'range_not_satisfiable'
  | 'service_unavailable'
  /** The object store has no room left (MinIO's minimum free drive threshold): nothing was stored. */
  | 'storage_full'
  | 'invalid_argument'
  /** The object store refused: the object is under object-lock retention or a legal hold (WORM). */
  | 'object_locked';

export class StorageError extends Error {
  override readonly name = 'StorageError';
  readonly code: StorageErrorCode;
  /** Machine-readable context (object key, segment index, KEK id); never key material. */
  readonly details: Record<string, unknown>;

  constructor(code: StorageErrorCode, message: string, opts: { details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.details = opts.details ?? {};
  }
}

export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
