// The one way the UI talks to the server: same-origin /api/v1 with the httpOnly session cookie,
// the double-submit CSRF header on unsafe methods, and errors carrying the catalogue's stable code
// and both languages' messages (src/errors.ts).
import { locale } from './i18n';

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    public messageZh: string,
    public messageEn: string,
    public details?: Record<string, unknown>,
  ) {
    super(messageEn);
  }
  /** The message in the chosen language, with the stable code. */
  text(): string {
    return `${locale.value === 'zh' ? this.messageZh : this.messageEn}（${this.code}）`;
  }
}

function cookie(name: string): string {
  const m = document.cookie.split('; ').find((c) => c.startsWith(`${name}=`));
  return m ? decodeURIComponent(m.slice(name.length + 1)) : '';
}

export const unauthorized = { handler: null as null | (() => void) };

export function csrfHeader(): Record<string, string> {
  return { 'x-csrf-token': cookie('archive_csrf') };
}

async function failure(res: Response): Promise<ApiError> {
  let body: { error?: { code?: string; message?: string; messageZh?: string; details?: Record<string, unknown> } } | null = null;
  try {
    body = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  } catch {
    body = null;
  }
  const e = body?.error;
  return new ApiError(res.status, e?.code ?? `http_${res.status}`, e?.messageZh ?? `服务器返回 ${res.status}`, e?.message ?? `HTTP ${res.status}`, e?.details);
}

export interface ApiOptions {
  method?: string;
  body?: unknown;
  /** FormData for uploads: sent as multipart, not JSON. */
  form?: FormData;
  query?: Record<string, string | number | boolean | null | undefined>;
  /** Answer the raw response (downloads). */
  raw?: boolean;
  /** Do not treat a 401 as "signed out" (the sign-in form itself). */
  quiet401?: boolean;
}

export function withQuery(path: string, query?: ApiOptions['query']): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers are typed by each caller
export async function api<T = any>(path: string, opts: ApiOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') Object.assign(headers, csrfHeader());
  const res = await fetch(withQuery(path, opts.query), {
    method,
    headers,
    body: opts.form ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
    credentials: 'same-origin',
  });
  if (!res.ok) {
    const err = await failure(res);
    if (res.status === 401 && !opts.quiet401) unauthorized.handler?.();
    throw err;
  }
  if (opts.raw) return res as T;
  if (res.status === 204) return undefined as T;
  return res.headers.get('content-type')?.includes('json') ? ((await res.json()) as T) : ((await res.text()) as T);
}

/** Fetches a file (PDF, CSV) with the session and hands it to the browser as a download. */
export async function download(path: string, filename: string, opts: ApiOptions = {}): Promise<void> {
  const res = await api<Response>(path, { ...opts, raw: true });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Any thrown value as text for a person: catalogue errors in the chosen language with their code. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.text();
  return err instanceof Error ? err.message : String(err);
}
