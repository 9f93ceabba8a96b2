import assert from 'node:assert/strict';
import type { Connection } from 'mongoose';
import { AuthService } from '../../../src/services/access/auth';
import { dropTestDb, openTestDb } from '../../helpers/db';

describe('sign-in throttling per client address (password spraying)', function () {
  this.timeout(60_000);
  let conn: Connection;
  let auth: AuthService;
  const PASSWORD = 'Correct-Horse-9-Battery';
  before(async () => {
    conn = await openTestDb('spray');
    auth = new AuthService(conn, { maxUsernamesPerIp: 3 });
    await auth.createUser({ username: 'real.user', roles: ['caseworker'], password: PASSWORD });
  });
  after(() => dropTestDb(conn));

  const code = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'ok';
    } catch (err) {
      return (err as { code?: string }).code;
    }
  };

  it('refuses every username from an address that failed for several usernames; other addresses are unaffected', async () => {
    const ip = '10.0.0.9';
    assert.equal(await code(auth.login({ username: 'a.one', password: 'Guess-Password-1', ip })), 'unauthenticated');
    assert.equal(await code(auth.login({ username: 'a.two', password: 'Guess-Password-1', ip })), 'unauthenticated');
    // Two usernames failed: below the limit, the real user still signs in from there.
    assert.equal(await code(auth.login({ username: 'real.user', password: PASSWORD, ip })), 'ok');
    assert.equal(await code(auth.login({ username: 'a.three', password: 'Guess-Password-1', ip })), 'unauthenticated');
    assert.equal(await code(auth.login({ username: 'real.user', password: PASSWORD, ip })), 'rate_limited');
    assert.equal(await code(auth.login({ username: 'real.user', password: PASSWORD, ip: '10.0.0.10' })), 'ok');
  });
});
