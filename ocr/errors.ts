/** Why an input cannot be processed. Stable snake_case codes; the caller maps them to HTTP or job states. */
export type OcrInputErrorCode =
  | 'empty_file'
  | 'unsupported_media_type'
  | 'corrupt_file'
  | 'too_large'
  | 'too_many_pages'
  | 'encrypted_pdf'
  | 'pdf_javascript';

export class OcrInputError extends Error {
  override readonly name = 'OcrInputError';
  constructor(
    readonly code: OcrInputErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isOcrInputError(e: unknown): e is OcrInputError {
  return e instanceof OcrInputError;
}
