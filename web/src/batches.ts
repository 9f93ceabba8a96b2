// The scanning station's batches, kept in the browser (localStorage) so their progress survives a
// page reload; the items' state always comes from the server.
export interface Batch {
  id: string;
  at: string;
  fonds: string;
  items: string[];
}
const KEY = 'archive.batches';

export function loadBatches(): Batch[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? '[]');
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}
export function saveBatches(b: Batch[]): void {
  localStorage.setItem(KEY, JSON.stringify(b.slice(0, 50)));
}

export interface ItemRow {
  id: string; title: string | null; status: string; fonds: string; source: string; pageCount: number; archivalCode: string | null;
  flags: Array<{ code: string; page: number | null }>; needsReview: boolean;
  failure: { code: string | null; message: string | null; messageZh: string | null } | null;
  jobId: string | null; createdAt: string; ocrAt: string | null;
  pages: { blank: number; dpi: number[]; confidence: number | null };
}
