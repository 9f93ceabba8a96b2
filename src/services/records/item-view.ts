/**
 * The public shape of an item, shared by the API and the CLI (`archive show`, `ingest --json`).
 */
import type { ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { readPageText } from './page-store';
import { archivalFormat } from './archival-format';
import { itemLevel } from './items';

export interface ItemView {
  id: string;
  source: string;
  fonds: string;
  status: string;
  title: string | null;
  reason?: string;
  reasonZh?: string;
  jobId: string | null;
  pageCount: number;
  flags: Array<{ code: string; page: number | null; message: string; messageZh: string }>;
  pages: Array<{
    n: number;
    text?: string;
    confidence: number | null;
    width: number | null;
    height: number | null;
    dpi: number | null;
    rotation: number;
    skewDeg: number;
    colorMode: string | null;
    blank: boolean;
    lowDpi: boolean;
    /** The file does not say its resolution (dpi is then null). */
    dpiUnknown: boolean;
    unreadable: boolean;
  }>;
  metadata: unknown;
  classification: unknown;
  /** 密级: the configured clearance label of the item's access level. */
  accessLevel: string;
  archivalCode: string | null;
  /** 归档章 (DA/T 22-2015): 全宗号、年度、件号 / 机构(问题)、保管期限、页数. */
  archivalStamp: { fonds: string; year: string; piece: number; org: string; period: string; pages: number } | null;
  history: Array<{ at: string; actor: string; kind: string; changes: unknown }>;
  createdAt: string;
  filedAt: string | null;
  /** The intake call the item came with (its QC summary: GET /api/v1/batches/:id/qc). */
  batchId: string | null;
  /** Quality control: why the item is held (status qc_hold), and who accepted it, with the reason. */
  qc: Record<string, unknown> | null;
}

function stamp(rt: Runtime, item: ItemDoc): ItemView['archivalStamp'] {
  if (!item.archivalCode) return null;
  const parsed = archivalFormat(rt).parse(item.archivalCode);
  if (!parsed) return null;
  const p = parsed.parts;
  return {
    fonds: p.fonds ?? '',
    year: p.year ?? '',
    piece: parsed.piece,
    org: [p.insurance, p.stage].filter(Boolean).join('·') || (p.org ?? ''),
    period: p.period ?? '',
    pages: (item.pages ?? []).filter((x) => !x.blank).length,
  };
}

export async function presentItem(rt: Runtime, item: ItemDoc, opts: { withText?: boolean } = {}): Promise<ItemView> {
  const pages = await Promise.all(
    (item.pages ?? []).map(async (p) => ({
      n: p.n,
      ...(opts.withText ? { text: p.textKey ? (await readPageText(rt, p.textKey)).text : '' } : {}),
      confidence: p.confidence ?? null,
      width: p.width ?? null,
      height: p.height ?? null,
      dpi: p.dpi ?? null,
      rotation: p.rotation ?? 0,
      skewDeg: p.skewDeg ?? 0,
      colorMode: p.colorMode ?? null,
      blank: p.blank ?? false,
      lowDpi: p.lowDpi ?? false,
      dpiUnknown: p.dpiAssumed ?? false,
      unreadable: p.unreadable ?? false,
    })),
  );
  return {
    id: String(item._id),
    source: item.source,
    fonds: item.fonds,
    status: item.status,
    title: item.title ?? null,
    ...(item.status === 'failed' ? { reason: item.failure?.message ?? 'failed', reasonZh: item.failure?.messageZh ?? '处理失败' } : {}),
    jobId: item.jobId ?? null,
    pageCount: item.pageCount ?? 0,
    flags: (item.flags ?? []).map((f) => ({ code: f.code, page: f.page ?? null, message: f.message, messageZh: f.messageZh })),
    pages,
    metadata: item.metadata ?? null,
    classification: item.classification ?? null,
    accessLevel: rt.config.clearanceLevels[itemLevel(item)] ?? String(itemLevel(item)),
    archivalCode: item.archivalCode ?? null,
    archivalStamp: stamp(rt, item),
    history: (item.history ?? []).map((h) => ({ at: h.at.toISOString(), actor: h.actor, kind: h.kind, changes: h.changes })),
    createdAt: item.createdAt.toISOString(),
    filedAt: item.filedAt ? item.filedAt.toISOString() : null,
    batchId: item.batchId ?? null,
    qc: (item.qc as Record<string, unknown> | null) ?? null,
  };
}
