/**
 * Every role, every page its menu offers (Debian's Chromium, real server, FerretDB and MinIO): each
 * page loads without a request the server refuses. A refused request is an error on the person's
 * screen ("无权执行此操作") for something they never asked for, and a `denied` entry in the audit
 * trail that looks like someone trying what they may not. Found this way: the audit trail page
 * verified the hash chain for a compliance officer, who may read the trail but not verify it.
 */
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { ROLES } from '../../src/services/access';
import { actor } from '../helpers/disposition';
import { buildItem } from '../helpers/factories';
import { openTestRuntime, serveTestApp } from '../helpers/runtime';
import { launch, openContext, openPage, signInUi } from './browser';

const PASSWORD = 'Correct-Horse-42';

describe('web UI: every page of every role\'s menu opens without a refused request (Chromium)', function () {
  this.timeout(600_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: Awaited<ReturnType<typeof serveTestApp>>;
  let base: string;
  let browser: Browser;

  before(async () => {
    browser = await launch();
    ctx = await openTestRuntime();
    server = await serveTestApp(ctx.rt);
    base = server.base;
    // Something in the archive, so that lists have a row to show.
    await buildItem(ctx.rt, { title: '工伤认定决定书' });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await ctx?.close();
  });

  for (const role of ROLES) {
    it(`${role}: the menu's pages`, async () => {
      const a = await actor(ctx.rt, `menu.${role}`, role, { password: PASSWORD });
      const desk = await openContext(browser);
      try {
        const { page, problems } = await openPage(desk);
        await signInUi(page, base, `menu.${role}`, PASSWORD, a.code);
        const paths = await page.locator('.side-link').evaluateAll((links) => links.map((l) => l.getAttribute('href') ?? ''));
        assert.ok(paths.length > 0, `${role} has a menu`);
        // The home page the sign-in lands on counts too.
        await page.waitForLoadState('networkidle');
        const refused: string[] = problems.length ? [`home: ${problems.join(' | ')}`] : [];
        for (const href of paths) {
          problems.length = 0;
          await page.goto(`${base}/${href}`);
          await page.waitForLoadState('networkidle');
          // Anything the page loads after its first requests (charts, vocabularies) has its moment too.
          await page.waitForTimeout(300);
          if (problems.length) refused.push(`${href}: ${problems.join(' | ')}`);
          assert.equal(await page.getByText('页面不存在').count(), 0, `${href} exists`);
        }
        assert.deepEqual(refused, [], `${role}'s pages made no refused requests and no script errors`);
        await page.close();
      } finally {
        await desk.close();
      }
    });
  }
});
