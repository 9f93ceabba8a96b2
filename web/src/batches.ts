// The scanning station's batches, kept on the server (GET /api/v1/batches: the signed-in person's
// own, newest first), so their progress follows the person to another browser or PC; the items'
// state always comes from the server too.
import { api } from './api';

export interface Batch {
  id: string;
  at: string;
  fonds: string;
  items: string[];
  /** Items an earlier batch took in (the same file uploaded again). */
  earlier?: string[];
}
/** Where batches were kept before they moved to the server: cleared once read. */
const OLD_KEY = 'archive.batches';

export async function loadBatches(): Promise<Batch[]> {
  try {
    localStorage.removeItem(OLD_KEY);
  } catch {
    // storage disabled: nothing to clear
  }
  return (await api<{ batches: Batch[] }>('/api/v1/batches', { query: { limit: 50 } })).batches;
}
export async function hideBatch(id: string): Promise<void> {
  await api(`/api/v1/batches/${encodeURIComponent(id)}`, { method: 'DELETE' });
}

export interface ItemRow {
  id: string; title: string | null; status: string; fonds: string; source: string; pageCount: number; archivalCode: string | null;
  flags: Array<{ code: string; page: number | null }>; needsReview: boolean;
  failure: { code: string | null; message: string | null; messageZh: string | null } | null;
  jobId: string | null; createdAt: string; ocrAt: string | null;
  pages: { blank: number; dpi: number[]; confidence: number | null };
}
