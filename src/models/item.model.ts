/**
 * An archive item (件): its originals as received, its prepared pages, quality flags, and
 * (filled by filing) its description, classification and 档号. Page text is not kept here in
 * clear: it lives encrypted in the blob store beside the page images.
 */
import { Schema, type Connection, type InferSchemaType, type Model, type Types } from 'mongoose';
import { itemCodecPlugin } from './item-codec';

/** `qc_hold`: the scan failed quality control (DA/T 31-2017) and waits for a rescan or an archivist's acceptance. */
/** `merged`: its pages were appended to another item (`mergedInto`, services/pipeline/page-edits.ts); it holds nothing any more. */
export const ITEM_STATUSES = ['received', 'processing', 'qc_hold', 'filed', 'review', 'failed', 'split', 'destroyed', 'merged'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];

const originalSchema = new Schema(
  {
    blobKey: { type: String, required: true },
    filename: { type: String, required: true },
    format: { type: String, required: true },
    size: { type: Number, required: true },
    sha256: { type: String, required: true },
  },
  { _id: false },
);

const pageSchema = new Schema(
  {
    n: { type: Number, required: true },
    source: { type: Number, required: true }, // index into originals
    /** 1-based page of that original (a page edit can renumber `n`; the original is never changed). Null: written before it was kept (n then counts within the source). */
    sourcePage: { type: Number, default: null },
    imageKey: { type: String, default: null },
    textKey: { type: String, default: null },
    width: Number,
    height: Number,
    dpi: { type: Number, default: null },
    dpiAssumed: { type: Boolean, default: false },
    /** The page was still unreadable in every orientation (issue #12 §1): an archivist must look. */
    unreadable: { type: Boolean, default: false },
    rotation: { type: Number, default: 0 },
    skewDeg: { type: Number, default: 0 },
    colorMode: { type: String, default: null },
    blank: { type: Boolean, default: false },
    lowDpi: { type: Boolean, default: false },
    confidence: { type: Number, default: null },
    chars: { type: Number, default: 0 },
  },
  { _id: false },
);

const flagSchema = new Schema(
  {
    code: { type: String, required: true },
    page: { type: Number, default: null },
    message: { type: String, required: true },
    messageZh: { type: String, required: true },
  },
  { _id: false },
);

const itemSchema = new Schema(
  {
    fonds: { type: String, required: true },
    source: { type: String, required: true },
    channel: { type: String, enum: ['api', 'cli', 'hotfolder'], required: true },
    status: { type: String, enum: ITEM_STATUSES, required: true, default: 'received' },
    /** Content identity of the originals, in order: the same scans ingested twice are one item. */
    contentHash: { type: String, required: true },
    originals: { type: [originalSchema], default: [] },
    pages: { type: [pageSchema], default: [] },
    pageCount: { type: Number, default: 0 },
    pdfKey: { type: String, default: null },
    flags: { type: [flagSchema], default: [] },
    failure: { code: { type: String, default: null }, message: { type: String, default: null }, messageZh: { type: String, default: null } },
    jobId: { type: String, default: null },
    /** A scanned stack to be split at separator sheets into child items (batch scanning). */
    stack: {
      enabled: { type: Boolean, default: false },
      blankSeparators: { type: Boolean, default: false },
      children: { type: [String], default: [] },
    },
    /** For an item split off a stack: the stack item's id (its position is in `source`, `…#k`). */
    stackOf: { type: String, default: null },
    /** Data printed on the item's separator sheet (ID number, name, box), before any OCR. Sealed at rest. */
    preregistered: { type: Schema.Types.Mixed, default: null },
    /** Page edits (review queue): the item this one was split off, and the item this one's pages were merged into. */
    splitFrom: { type: String, default: null },
    mergedInto: { type: String, default: null },
    /** The intake call (one `archive ingest`, one upload) the item came in with: QC is summarised per batch. */
    batchId: { type: String, default: null },
    /**
     * Quality control (DA/T 31-2017): { held, reasons: [{code, page}], heldAt, decision: {outcome, by, reason, at} }.
     * Held items wait in status qc_hold; an accepted one goes on to filing.
     */
    qc: { type: Schema.Types.Mixed, default: null },
    title: { type: String, default: null },
    ocrAt: { type: Date, default: null },
    filedAt: { type: Date, default: null },
    /** The extracted description (ExtractedMetadata): persons, units, evidence quoting OCR text. Sealed at rest. */
    metadata: { type: Schema.Types.Mixed, default: null },
    classification: { type: Schema.Types.Mixed, default: null },
    /**
     * 密级/开放范围: rank in the configured clearance labels (0 = lowest). Its own field so that
     * no description write can clobber it (services/records/items.ts writeAccessLevel).
     */
    accessLevel: { type: Number, default: 0 },
    archivalCode: { type: String, default: null },
    archivalClass: { type: String, default: null },
    /**
     * The persons' 公民身份号码 (一人一档) and the units' 统一社会信用代码 (一户一档), for their files.
     * Write, read and query them with clear numbers: the database holds blind-index keys here and
     * the clear lists sealed in the *Sealed fields (item-codec.ts), which reads fold back in.
     */
    personIds: { type: [String], default: [] },
    unitCodes: { type: [String], default: [] },
    personIdsSealed: { type: String, default: null },
    unitCodesSealed: { type: String, default: null },
    documentDate: { type: String, default: null },
    /** A destroyed item's remains (services/disposition): the 销毁清册 fields and checksums, nothing readable. */
    tombstone: { type: Schema.Types.Mixed, default: null },
    /** 移交: the package that carried the item to an archives, the receipt, and what became of the local copy. */
    transfer: { type: Schema.Types.Mixed, default: null },
    history: {
      type: [
        new Schema(
          // `changes` (before/after of a correction: names, ID numbers) is sealed at rest.
          { at: { type: Date, required: true }, actor: { type: String, required: true }, kind: { type: String, required: true }, changes: { type: Schema.Types.Mixed, default: {} } },
          { _id: false },
        ),
      ],
      default: [],
    },
  },
  { timestamps: true, minimize: false },
);
itemSchema.plugin(itemCodecPlugin);
itemSchema.index({ fonds: 1, contentHash: 1 }, { unique: true });
itemSchema.index({ status: 1, updatedAt: 1 });
itemSchema.index({ personIds: 1 });
itemSchema.index({ archivalCode: 1 });
// The appraisal due list (services/disposition/due.ts) pages through this, never the whole table.
itemSchema.index({ status: 1, 'classification.dueOn': 1 });
itemSchema.index({ batchId: 1 });

export type ItemDoc = InferSchemaType<typeof itemSchema> & { _id: Types.ObjectId; createdAt: Date; updatedAt: Date };
export type PageRecord = InferSchemaType<typeof pageSchema>;

export function itemModel(conn: Connection): Model<ItemDoc> {
  return (conn.models.Item as Model<ItemDoc> | undefined) ?? conn.model<ItemDoc>('Item', itemSchema);
}
