/**
 * Records of appraisal (鉴定), destruction (销毁) and legal holds (冻结). Every step that must happen
 * once is an insert against a unique `_id` (FerretDB 1.24 has no atomic conditional update): a
 * claim on an item, a list version, a signature, a 备案, the start of execution, a register entry.
 * Nothing here is ever deleted except item claims (released when a round or list lets an item go):
 * the 销毁清册, the register and the certificates are permanent records (3号令 第十二条 ≈ R6).
 */
import { Schema, type Connection, type Model, type Types } from 'mongoose';

const Mixed = Schema.Types.Mixed;

function model<T>(conn: Connection, name: string, schema: Schema<T>, collection: string): Model<T> {
  return (conn.models[name] as Model<T> | undefined) ?? conn.model<T>(name, schema, collection);
}

export interface RoundMember {
  userId: string;
  username: string;
  capacity: string;
}

export interface AppraisalRoundDoc {
  _id: Types.ObjectId;
  title: string;
  proposerId: string;
  proposerName: string;
  members: RoundMember[];
  itemIds: string[];
  asOf: string;
  openedAt: Date;
}
const roundSchema = new Schema<AppraisalRoundDoc>(
  {
    title: { type: String, required: true },
    proposerId: { type: String, required: true },
    proposerName: { type: String, required: true },
    members: { type: Mixed, required: true },
    itemIds: { type: [String], required: true },
    asOf: { type: String, required: true },
    openedAt: { type: Date, required: true },
  },
  { versionKey: false },
);
roundSchema.index({ openedAt: -1 });

export interface ItemOutcome {
  itemId: string;
  kind: 'destroy' | 'extend' | 'keep' | 'none';
  reason: string;
  retention?: string;
  dueOn?: string;
}

/** A round's close: once (the round's id), with every item's outcome and the report. */
export interface AppraisalClosureDoc {
  _id: string;
  closedAt: Date;
  closedBy: string;
  outcomes: ItemOutcome[];
  reportKey: string | null;
  reportSha256: string | null;
}
const closureSchema = new Schema<AppraisalClosureDoc>(
  { _id: String, closedAt: { type: Date, required: true }, closedBy: { type: String, required: true }, outcomes: { type: Mixed, required: true }, reportKey: { type: String, default: null }, reportSha256: { type: String, default: null } },
  { versionKey: false },
);

/** One member's opinion on one item in a round (`round:item:user`); changeable until the round closes. */
export interface AppraisalOpinionDoc {
  _id: string;
  roundId: string;
  itemId: string;
  userId: string;
  username: string;
  opinion: 'destroy' | 'extend' | 'keep';
  period: string | null;
  years: number | null;
  reason: string;
  at: Date;
}
const opinionSchema = new Schema<AppraisalOpinionDoc>(
  {
    _id: String,
    roundId: { type: String, required: true },
    itemId: { type: String, required: true },
    userId: { type: String, required: true },
    username: { type: String, required: true },
    opinion: { type: String, required: true },
    period: { type: String, default: null },
    years: { type: Number, default: null },
    reason: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
opinionSchema.index({ roundId: 1 });

/** An item taken into an open round or a list (its id): it cannot enter another one meanwhile. */
export interface DispositionClaimDoc {
  _id: string;
  roundId: string;
  listId: string | null;
  at: Date;
}
const claimSchema = new Schema<DispositionClaimDoc>({ _id: String, roundId: { type: String, required: true }, listId: { type: String, default: null }, at: { type: Date, required: true } }, { versionKey: false });
claimSchema.index({ roundId: 1 });

export interface DestructionListDoc {
  _id: Types.ObjectId;
  roundId: string;
  title: string;
  proposerId: string;
  proposerName: string;
  createdAt: Date;
}
const listSchema = new Schema<DestructionListDoc>(
  { roundId: { type: String, required: true }, title: { type: String, required: true }, proposerId: { type: String, required: true }, proposerName: { type: String, required: true }, createdAt: { type: Date, required: true } },
  { versionKey: false },
);
listSchema.index({ createdAt: -1 });
// One 清册 per appraisal round.
listSchema.index({ roundId: 1 }, { unique: true });

/** 销毁清册 row (regulations.md §4.4 + issue #11 §3). */
export interface ListRow {
  seq: number;
  itemId: string;
  archivalCode: string | null;
  title: string | null;
  docNumber: string | null;
  responsible: string | null;
  formedOn: string | null;
  pages: number;
  pieces: number;
  retention: string | null;
  yearsKept: number | null;
  opinion: string;
  reason: string;
}

/** One version of a list (`list:n`): an edit is a new version, which voids every earlier signature. */
export interface ListVersionDoc {
  _id: string;
  listId: string;
  n: number;
  rows: ListRow[];
  sha256: string;
  note: string;
  by: string;
  at: Date;
}
const versionSchema = new Schema<ListVersionDoc>(
  { _id: String, listId: { type: String, required: true }, n: { type: Number, required: true }, rows: { type: Mixed, required: true }, sha256: { type: String, required: true }, note: { type: String, default: '' }, by: { type: String, required: true }, at: { type: Date, required: true } },
  { versionKey: false },
);
versionSchema.index({ listId: 1, n: -1 });

/** A signature on a list version (`list:n:user`): one per person per version, whatever the step. */
export interface ListSignatureDoc {
  _id: string;
  listId: string;
  version: number;
  step: 'appraisal' | 'head';
  userId: string;
  username: string;
  listSha256: string;
  note: string;
  at: Date;
}
const signatureSchema = new Schema<ListSignatureDoc>(
  {
    _id: String,
    listId: { type: String, required: true },
    version: { type: Number, required: true },
    step: { type: String, required: true },
    userId: { type: String, required: true },
    username: { type: String, required: true },
    listSha256: { type: String, required: true },
    note: { type: String, default: '' },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
signatureSchema.index({ listId: 1 });

/** 备案 with the same-level 人社行政部门 (`list:n`): date, their reference, the receipt scan (encrypted blob). */
export interface ListFilingDoc {
  _id: string;
  listId: string;
  version: number;
  date: string;
  reference: string;
  receiptKey: string | null;
  receiptSha256: string | null;
  by: string;
  at: Date;
}
const filingSchema = new Schema<ListFilingDoc>(
  {
    _id: String,
    listId: { type: String, required: true },
    version: { type: Number, required: true },
    date: { type: String, required: true },
    reference: { type: String, required: true },
    receiptKey: { type: String, default: null },
    receiptSha256: { type: String, default: null },
    by: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
filingSchema.index({ listId: 1 });

/** A list rejected or withdrawn (its id): its items stay and are free again. */
export interface ListCancelDoc {
  _id: string;
  by: string;
  reason: string;
  at: Date;
}
const cancelSchema = new Schema<ListCancelDoc>({ _id: String, by: { type: String, required: true }, reason: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });

export interface Supervisor {
  userId: string;
  username: string;
}

/** The start of destruction (the list's id): once, with the two 监销人 who authenticated. */
export interface ExecutionDoc {
  _id: string;
  version: number;
  supervisors: Supervisor[];
  method: string;
  place: string;
  startedAt: Date;
  /** The queued run (jobs/queue.ts) of the destruction, the latest one; null while none was queued. */
  jobId?: string | null;
}
const executionSchema = new Schema<ExecutionDoc>(
  { _id: String, version: { type: Number, required: true }, supervisors: { type: Mixed, required: true }, method: { type: String, required: true }, place: { type: String, default: '' }, startedAt: { type: Date, required: true }, jobId: { type: String, default: null } },
  { versionKey: false },
);

/** A supervisor's confirmation at the end (`list:user`). */
export interface ConfirmationDoc {
  _id: string;
  listId: string;
  userId: string;
  username: string;
  note: string;
  at: Date;
}
const confirmationSchema = new Schema<ConfirmationDoc>(
  { _id: String, listId: { type: String, required: true }, userId: { type: String, required: true }, username: { type: String, required: true }, note: { type: String, default: '' }, at: { type: Date, required: true } },
  { versionKey: false },
);
confirmationSchema.index({ listId: 1 });

/**
 * The permanent destruction register (one entry per destroyed item, its id). Written before the
 * first blob is shredded, so a crash mid-way is finished from here, and re-applied after every
 * restore (reapplyDestructions) so a backup from before the destruction never brings an item back.
 */
export interface RegisterDoc {
  _id: string;
  listId: string;
  row: ListRow;
  checksums: Array<{ key: string; sha256: string }>;
  blobKeys: string[];
  registeredAt: Date;
  destroyedAt: Date | null;
}
const registerSchema = new Schema<RegisterDoc>(
  { _id: String, listId: { type: String, required: true }, row: { type: Mixed, required: true }, checksums: { type: Mixed, required: true }, blobKeys: { type: [String], required: true }, registeredAt: { type: Date, required: true }, destroyedAt: { type: Date, default: null } },
  { versionKey: false },
);
registerSchema.index({ listId: 1 });

/** Per-item execution outcome (`list:item`): done, or skipped with the reason (a hold after approval). */
export interface ExecItemDoc {
  _id: string;
  listId: string;
  itemId: string;
  outcome: 'destroyed' | 'skipped';
  reason: string;
  at: Date;
}
const execItemSchema = new Schema<ExecItemDoc>(
  { _id: String, listId: { type: String, required: true }, itemId: { type: String, required: true }, outcome: { type: String, required: true }, reason: { type: String, default: '' }, at: { type: Date, required: true } },
  { versionKey: false },
);
execItemSchema.index({ listId: 1 });

/** Permanent documents the workflow produces (report, 清册, certificate, receipt): the blob key. */
export interface DispositionDocumentDoc {
  _id: string;
  kind: 'appraisal_report' | 'destruction_list' | 'destruction_certificate' | 'certificate_signature' | 'filing_receipt';
  refId: string;
  sha256: string;
  size: number;
  retention: 'Y';
  createdAt: Date;
}
const documentSchema = new Schema<DispositionDocumentDoc>(
  { _id: String, kind: { type: String, required: true }, refId: { type: String, required: true }, sha256: { type: String, required: true }, size: { type: Number, required: true }, retention: { type: String, default: 'Y' }, createdAt: { type: Date, required: true } },
  { versionKey: false },
);
documentSchema.index({ refId: 1 });

export const HOLD_KINDS = ['litigation', 'dispute', 'audit', 'unsettled_accounts'] as const;
export type HoldKind = (typeof HOLD_KINDS)[number];

/** What a hold covers: items, a person's file (一人一档), a unit's file (一户一档), or a saved query. */
export interface HoldTarget {
  type: 'items' | 'person' | 'unit' | 'query';
  itemIds?: string[];
  /** person: 公民身份号码 as a blind-index key; unit: 统一社会信用代码 blind-index key */
  key?: string;
  /** shown in lists: masked ID number or the unit code */
  label?: string;
  query?: { fonds?: string; category?: string; year?: string; dossier?: string };
}

export interface LegalHoldDoc {
  _id: Types.ObjectId;
  name: string;
  kind: HoldKind;
  target: HoldTarget;
  reason: string;
  owner: string;
  placedById: string;
  placedBy: string;
  placedAt: Date;
}
const holdSchema = new Schema<LegalHoldDoc>(
  {
    name: { type: String, required: true },
    kind: { type: String, required: true },
    target: { type: Mixed, required: true },
    reason: { type: String, required: true },
    owner: { type: String, required: true },
    placedById: { type: String, required: true },
    placedBy: { type: String, required: true },
    placedAt: { type: Date, required: true },
  },
  { versionKey: false },
);
holdSchema.index({ placedAt: -1 });

export interface HoldReleaseDoc {
  _id: string;
  byId: string;
  by: string;
  reason: string;
  at: Date;
}
const releaseSchema = new Schema<HoldReleaseDoc>({ _id: String, byId: { type: String, required: true }, by: { type: String, required: true }, reason: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });

export const appraisalRoundModel = (c: Connection) => model(c, 'AppraisalRound', roundSchema, 'appraisal_rounds');
export const appraisalClosureModel = (c: Connection) => model(c, 'AppraisalClosure', closureSchema, 'appraisal_closures');
export const appraisalOpinionModel = (c: Connection) => model(c, 'AppraisalOpinion', opinionSchema, 'appraisal_opinions');
export const dispositionClaimModel = (c: Connection) => model(c, 'DispositionClaim', claimSchema, 'disposition_claims');
export const destructionListModel = (c: Connection) => model(c, 'DestructionList', listSchema, 'destruction_lists');
export const listVersionModel = (c: Connection) => model(c, 'DestructionListVersion', versionSchema, 'destruction_list_versions');
export const listSignatureModel = (c: Connection) => model(c, 'DestructionSignature', signatureSchema, 'destruction_signatures');
export const listFilingModel = (c: Connection) => model(c, 'DestructionFiling', filingSchema, 'destruction_filings');
export const listCancelModel = (c: Connection) => model(c, 'DestructionCancel', cancelSchema, 'destruction_cancels');
export const executionModel = (c: Connection) => model(c, 'DestructionExecution', executionSchema, 'destruction_executions');
export const confirmationModel = (c: Connection) => model(c, 'DestructionConfirmation', confirmationSchema, 'destruction_confirmations');
export const registerModel = (c: Connection) => model(c, 'DestructionRegister', registerSchema, 'destruction_register');
export const execItemModel = (c: Connection) => model(c, 'DestructionItem', execItemSchema, 'destruction_items');
export const dispositionDocumentModel = (c: Connection) => model(c, 'DispositionDocument', documentSchema, 'disposition_documents');
export const legalHoldModel = (c: Connection) => model(c, 'LegalHold', holdSchema, 'legal_holds');
export const holdReleaseModel = (c: Connection) => model(c, 'HoldRelease', releaseSchema, 'legal_hold_releases');

export function registerDispositionModels(c: Connection): void {
  for (const m of [appraisalRoundModel, appraisalClosureModel, appraisalOpinionModel, dispositionClaimModel, destructionListModel, listVersionModel, listSignatureModel, listFilingModel, listCancelModel, executionModel, confirmationModel, registerModel, execItemModel, dispositionDocumentModel, legalHoldModel, holdReleaseModel]) m(c);
}
