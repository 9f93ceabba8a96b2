/** The transfer room's door (移交, issue #11 §6): packages out, the 四性 check, receipts in. */
export { checkPackage, exportTransfer, listTransfers, transferPackageDir, verifyTransfer, type ExportResult } from './package';
export { importReceipt, ReceiptSchema, type Receipt, type ReceiptResult } from './receipt';
export type { CheckFinding, CheckReport } from './checks';
