/**
 * The caseworker's web UI in a real browser (Debian's Chromium, driven by playwright-core) against
 * the real API, FerretDB, MinIO and an item that went through the real OCR pipeline.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { itemModel } from '../../src/models/item.model';
import { ingestItem } from '../../src/services/capture/intake';
import { drainUntil } from '../helpers/jobs';
import { openTestRuntime, serveTestApp } from '../helpers/runtime';
import { renderScan } from '../helpers/scan';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PASSWORD = 'Correct-Horse-42';
const NAME = '欧阳振华';
const ID = '110105198703152318';

describe('web UI: sign in, search, read the page with the hit marked (Chromium)', function () {
  this.timeout(300_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: Awaited<ReturnType<typeof serveTestApp>>;
  let base: string;
  let browser: Browser;
  let itemId: string;

  before(async function () {
    assert.ok(fs.existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: run bash scripts/system-deps.sh browser`);
    ctx = await openTestRuntime();
    const rt = ctx.rt;
    server = await serveTestApp(rt);
    base = server.base;
    await rt.auth.createUser({ username: 'web.caseworker', roles: ['caseworker'], password: PASSWORD, clearance: 'sensitive', scope: { fonds: '*', agencies: '*', districts: '*' } });
    const page = await renderScan(['工伤认定决定书', `受伤职工姓名：${NAME}`, `公民身份号码：${ID}`, '经调查核实，认定为工伤。', '决定日期：2019年5月20日'], { dpi: 300 });
    const res = await ingestItem(rt, { fonds: 'Z001', source: 'web-e2e.png', channel: 'api', files: [{ filename: 'web-e2e.png', body: page }] });
    itemId = String(res.item._id);
    const items = itemModel(rt.db);
    await drainUntil(rt, async () => ['filed', 'review', 'failed'].includes((await items.findById(itemId).lean())!.status), { timeoutMs: 240_000, what: 'the item filed' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await ctx?.close();
  });

  it('a caseworker signs in, finds the item by name with facets, opens it and sees the page with the name marked', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      // The browser logs every non-2xx answer; the 401s of signing in are the UI working as meant.
      if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(m.text());
    });
    await page.goto(base);
    await page.getByPlaceholder('用户名').fill('web.caseworker');
    await page.getByPlaceholder('密码').fill('wrong-password-1');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByRole('alert').filter({ hasText: /用户名或密码|登录/ }).waitFor();
    await page.getByPlaceholder('密码').fill(PASSWORD);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByText('web.caseworker（经办人员）').waitFor();

    await page.getByLabel('检索词').fill(NAME);
    await page.getByRole('button', { name: '检索' }).click();
    const hit = page.locator('article.hit').first();
    await hit.waitFor();
    assert.match(await page.locator('.pager').innerText(), /共 1 件/);
    assert.ok((await hit.locator('mark').allInnerTexts()).join('').includes(NAME.slice(0, 2)), 'the snippet marks the name');
    assert.ok((await page.locator('aside a').count()) > 0, 'facets with counts are shown');
    if (process.env.WEB_SCREENSHOTS) await page.screenshot({ path: `${process.env.WEB_SCREENSHOTS}/search.png`, fullPage: true });

    await hit.locator('a.title').click();
    await page.locator('.page img').waitFor();
    // Runs in the browser; typed loosely here because the tests compile without the DOM library.
    await page.waitForFunction("(() => { const img = document.querySelector('.page img'); return !!img && img.complete && img.naturalWidth > 0; })()");
    await page.locator('.page .box').first().waitFor({ timeout: 10_000 });
    assert.ok((await page.locator('.page .box').count()) >= 1, 'the name is marked on the page image');
    if (process.env.WEB_SCREENSHOTS) await page.screenshot({ path: `${process.env.WEB_SCREENSHOTS}/item.png`, fullPage: true });
    assert.equal(await page.locator('.thumbs img').count(), 1);
    assert.match(await page.locator('.facts').innerText(), new RegExp(ID), 'a caseworker sees the ID number in full');
    assert.equal(await page.locator(`a[href="/api/v1/items/${itemId}/pdf"]`).count(), 1, 'the watermarked PDF can be downloaded');
    assert.deepEqual(problems, []);

    await ctx.rt.audit.flush();
    const trail = await ctx.rt.audit.list({ actor: 'web.caseworker', limit: 100 });
    assert.ok(trail.some((e) => e.action === 'search' && (e.details as { total?: number }).total === 1), 'the search is recorded');
    assert.ok(trail.some((e) => e.action === 'item.view' && e.object?.id === itemId), 'the page view is recorded');
  });

  it('a new account sets its password with the one-time setup secret, then signs in', async () => {
    const { user, setupSecret } = await ctx.rt.auth.createAdmin('web.newcomer', null);
    await ctx.rt.auth.setRoles(user._id, ['caseworker']);
    const page = await browser.newPage();
    await page.goto(`${base}/#/setup`);
    await page.getByPlaceholder('用户名').fill('web.newcomer');
    await page.getByPlaceholder(/^初始化口令/).fill(setupSecret);
    await page.getByPlaceholder('新密码（至少 12 位，含三类字符）').fill('Blue-River-Stone-42');
    await page.getByPlaceholder('再次输入新密码').fill('Blue-River-Stone-42');
    await page.getByRole('button', { name: '设置密码' }).click();
    await page.getByText('密码已设置，请登录').waitFor();
    await page.getByPlaceholder('用户名').fill('web.newcomer');
    await page.getByPlaceholder('密码').fill('Blue-River-Stone-42');
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByText('web.newcomer（经办人员）').waitFor();
    await page.close();
  });
});
