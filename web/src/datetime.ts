/**
 * One way to write a moment on every page: 2026-12-04 21:54, the form Chinese forms and our own
 * dates (2026-12-04) use, in the reader's local time. toLocaleString('zh-CN') gave 2026/12/4
 * 21:54:19 next to dates written 2026-12-04, and the English pages another order again.
 */
const pad = (n: number) => String(n).padStart(2, '0');

export function dateTime(at: string | number | Date | null | undefined, opts: { seconds?: boolean } = {}): string {
  if (at === null || at === undefined || at === '') return '—';
  const d = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(d.getTime())) return '—';
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${day} ${pad(d.getHours())}:${pad(d.getMinutes())}${opts.seconds ? `:${pad(d.getSeconds())}` : ''}`;
}
