/** The audit room's door: what other rooms and layers may use. */
export { loadAuditSigner, signingPaths } from './signing';
export { AuditTrail } from './trail';
