/** The platform room's door: what other rooms and layers may use. */
export { type AuditAnchorStore, openAuditAnchor } from './anchor';
export { indexKey } from './secrets';
export { openStorage, type StorageHandle } from './storage';
export { invalidateEverywhere, stampedCache } from './stamped-cache';
export { migrateStorageToLockedBucket } from './storage-lock';
