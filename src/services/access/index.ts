/** The access room's door: what other rooms and layers may use. */
export { ACCESS_STATUSES, type AccessGrantView, type AccessStatus, activeGrant, decideAccess, endAccess, endGrantsBelow, listAccess, MAX_ACCESS_DAYS, requestAccess } from './access-grants';
export { AuthService, LOCAL_OPERATOR, RESET_ID_LENGTH, sha256, toPrincipal } from './auth';
export { maskPersonalData, showsIdNumbers } from './personal-data';
export { actionsOf, authorize, DEFAULT_CLEARANCE_LEVELS, type Principal, type Resource, ROLES, seesSecurityEventsOnly, THREE_ADMINS } from './policies';
export { newTotpSecret, verifyTotp } from './totp';
export { authorizeItem, ingestFonds, itemResource, mayActOn, mayReadRow, type ItemAccess } from './item-access';
