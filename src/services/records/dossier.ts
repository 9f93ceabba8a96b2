/**
 * A person's or a unit's file (一人一档 / 一户一档): their readable items in formation order
 * (3号令 第八条 files by person and by unit). The caller passes who may see what, so the records
 * room stays below access.
 */
import { itemModel, type ItemDoc } from '../../models/item.model';
import type { Runtime } from '../../runtime';
import { STATUS, statusIn } from './items';

export interface DossierEntry {
  id: string;
  title: string | null;
  archivalCode: string | null;
  documentDate: string | null;
  documentType: string | null;
  status: string;
}

/** `personId` (公民身份号码) or `unitCode` (统一社会信用代码), given in clear: the codec blinds it. */
export async function dossierOf(rt: Runtime, of: { personId: string } | { unitCode: string }, mayRead: (item: ItemDoc) => boolean): Promise<{ total: number; items: DossierEntry[] }> {
  const filter = 'personId' in of ? { personIds: of.personId } : { unitCodes: of.unitCode };
  const items = (await itemModel(rt.db).find({ ...filter, status: statusIn(STATUS.readable) }).lean<ItemDoc[]>()).filter(mayRead);
  items.sort((a, b) => (a.documentDate ?? '9999').localeCompare(b.documentDate ?? '9999') || (a.archivalCode ?? '').localeCompare(b.archivalCode ?? ''));
  return {
    total: items.length,
    items: items.map((it) => ({
      id: String(it._id),
      title: it.title ?? null,
      archivalCode: it.archivalCode ?? null,
      documentDate: it.documentDate ?? null,
      documentType: (it.classification as { documentType?: string } | null)?.documentType ?? null,
      status: it.status,
    })),
  };
}
