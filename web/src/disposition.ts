// Shapes of the disposition API (services/disposition) the compliance pages use.
export interface RoundView {
  id: string; title: string; status: 'open' | 'closed'; proposer: string;
  members: Array<{ userId: string; username: string; capacity: string }>;
  asOf: string; openedAt: string; itemCount: number; opinionsGiven: number; closedAt: string | null;
  outcomes: { destroy: number; extend: number; keep: number; none: number } | null; reportKey: string | null;
}
export interface ListRow { seq: number; itemId: string; archivalCode: string | null; title: string | null; docNumber: string | null; responsible: string | null; formedOn: string | null; pages: number; pieces: number; retention: string | null; yearsKept: number | null; opinion: string; reason: string }
export type Stage = 'cancelled' | 'executing' | 'awaiting_signoffs' | 'awaiting_filing' | 'awaiting_approval' | 'approved' | 'done';
export interface ListView {
  id: string; roundId: string; title: string; proposer: string; createdAt: string; version: number; sha256: string; stage: Stage;
  rows: ListRow[];
  signatures: Array<{ step: 'appraisal' | 'head'; username: string; version: number; at: string; void: boolean; note: string }>;
  filing: { date: string; reference: string; receipt: boolean; by: string; version: number; void: boolean } | null;
  approvedAt: string | null; executableFrom: string | null;
  cancelled: { by: string; reason: string; at: string } | null;
  execution: {
    startedAt: string; supervisors: string[]; method: string; place: string; destroyed: number; skipped: number; pending: number; confirmedBy: string[];
    /** a queued run (a job): its progress */
    run: { jobId: string; state: 'queued' | 'running' | 'done' | 'failed' | 'cancelled'; stage: string | null; done: number; total: number; attempts: number; error: string | null; updatedAt: string | null } | null;
  } | null;
  chain: { appraisalSignoffs: number; filing: boolean; coolingOffDays: number };
}
export interface ListSummary { id: string; title: string; proposer: string; createdAt: string; version: number; stage: Stage; roundId: string; items: number }
export interface HoldView {
  id: string; name: string; kind: string; target: { type: string; itemIds?: string[]; label?: string; query?: Record<string, string> }; reason: string; owner: string;
  placedBy: string; placedAt: string; releasedBy: string | null; releasedAt: string | null; releaseReason: string | null; active: boolean;
  /** Items the hold covers now (active holds). */
  covers?: number;
}

export const fileToBase64 = (f: File): Promise<string> =>
  new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(f);
  });
