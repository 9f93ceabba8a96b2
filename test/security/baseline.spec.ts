/**
 * The security regression suite (`test/security/`, part of `npm test`) also holds the cases that
 * passed before issue #13, so that none of them can quietly come back. They stay where they were
 * written, next to the feature they test, and are referenced here: `npx mocha test/security`
 * runs them too, and under `npm test` each file still loads (and runs) once.
 *
 * | case | where |
 * |---|---|
 * | operator injection in bodies and queries ($ne, $where) refused at the schema | test/api/auth.spec.ts "rejects operator injection" |
 * | CSRF: cookie sessions need the double-submit header on unsafe methods | test/api/auth.spec.ts "cookie sessions are httpOnly …" |
 * | sessions: logout revokes, expiry refused, bearer/cookie tokens not interchangeable | test/api/auth.spec.ts "logout revokes …", "cookie sessions …" |
 * | same answer and timing for unknown users and wrong passwords | test/api/auth.spec.ts |
 * | every route × every role (401 / 403 / allowed), from the OpenAPI document | test/api/auth.spec.ts "permission matrix" |
 * | ID numbers masked in answers for accounts without personal.full, full views audited | test/api/personal-data.spec.ts |
 * | per-item fonds scope on reads and person files | test/api/item-scope.spec.ts |
 * | disabled accounts lose their sessions at once | test/api/accounts.spec.ts |
 * | second factor required for administrators (ARCHIVE_REQUIRE_TOTP) | test/api/totp-required.spec.ts |
 * | password spraying locks an address | test/integration/audit/login-spray.spec.ts |
 * | per-address request rate limit | test/api/rate-limit.spec.ts |
 * | audit chain tampering (altered, missing, inserted, rewritten, bad signature) | test/integration/audit/audit.spec.ts |
 */
import '../api/auth.spec';
import '../api/personal-data.spec';
import '../api/item-scope.spec';
import '../api/accounts.spec';
import '../api/totp-required.spec';
import '../api/rate-limit.spec';
import '../integration/audit/login-spray.spec';
import '../integration/audit/audit.spec';
