/**
 * Tampering with the stored audit trail the way someone with direct database access would:
 * edit the block document that holds an entry, bypassing the service entirely.
 */
import { HASH_HEX, type AuditBlockDoc } from '../../src/models/audit.model';
import type { AuditTrail } from '../../src/services/audit/trail';

export interface StoredBlock {
  doc: AuditBlockDoc;
  first: number;
  lines: string[];
  hashes: string[];
}

export async function storedBlocks(trail: AuditTrail): Promise<StoredBlock[]> {
  const docs = await trail.blocks.collection.find({}).sort({ _id: 1 }).toArray();
  return docs.map((raw) => {
    const doc = raw as unknown as AuditBlockDoc;
    const lines = doc.e.split('\n');
    return { doc, first: Number(doc._id), lines, hashes: lines.map((_, i) => doc.h.slice(i * HASH_HEX, (i + 1) * HASH_HEX)) };
  });
}

/** The stored block holding entry `seq`, and the entry's line index in it. */
export async function blockOf(trail: AuditTrail, seq: number): Promise<StoredBlock & { index: number }> {
  const b = (await storedBlocks(trail)).find((x) => x.first <= seq && seq < x.first + x.lines.length);
  if (!b) throw new Error(`no stored block holds entry ${seq}`);
  return { ...b, index: seq - b.first };
}

/** Writes a block's lines and hashes back in place (plus any other fields given). */
export async function rewriteBlock(trail: AuditTrail, b: StoredBlock, extra: Partial<AuditBlockDoc> = {}): Promise<void> {
  await trail.blocks.collection.updateOne({ _id: b.doc._id } as never, { $set: { e: b.lines.join('\n'), h: b.hashes.join(''), ...extra } });
}
