/** The records room's door: what other rooms and layers may use. */
export { catalogueCsv, cataloguePage, cataloguePdf, catalogueRows, type CatalogueFilter } from './catalogue';
export { sealLegacyItems } from './item-seal';
export { presentItem, type ItemView } from './item-view';
export { assertItemId, describedFields, findItem, isItemId, ITEM_STATUSES, itemLevel, loadItem, STATUS, statusIn, setItemRetention, tombstoneItem, tombstoneItems, writeAccessLevel, writeDescription, writeQcAccepted, writeQcHold, writeRetention, writeRetry, writeTransfer, type HistoryEntry, type RetentionChange, type Tombstone } from './items';
export { pageImage, pageText, pageThumbnail, watermarkedPdf } from './retrieval';
export { newOriginalKey, pageKeys, readPageText, readPageTexts, type KnownItem, type StoredPageText } from './page-store';
export { archivalFormat } from './archival-format';
export { dossierOf, DOSSIER_STATUSES, linkItem, namesOnFile, openDossier, rebuildDossierLinks, reviewNamesOnFile, unitNamesOnFile, unlinkItem, type DossierKind, type DossierRow } from './dossier';
export type { Classification, Evidence, ExtractedMetadata, PageText } from './item-types';
export { itemBlobKeys, itemProtection, mirrorLegalHold, protectFiledItems, protectItem, retainUntilOf, type ProtectionReport } from './protection';
export { filedItemIds, findItems, listItems, type FondsScope, type ItemListQuery } from './item-lists';
export { dashboardStats, type DashboardStats } from './stats';
