/** The audit room's door: what other rooms and layers may use. */
export { loadAuditSigner } from './signing';
export { AuditTrail } from './trail';
