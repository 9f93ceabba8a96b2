/**
 * The caseworker's workplace in a real browser (Debian's Chromium, driven by playwright-core)
 * against the real API, FerretDB, MinIO and an item that went through the real OCR pipeline: one
 * page upright, one scanned upside down (turned upright during capture).
 */
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { Browser } from 'playwright-core';
import { itemModel } from '../../src/models/item.model';
import { ingestItem } from '../../src/services/capture';
import { listAccess, requestAccess, toPrincipal } from '../../src/services/access';
import { drainUntil } from '../helpers/jobs';
import { openTestRuntime, serveTestApp } from '../helpers/runtime';
import { renderScan } from '../helpers/scan';
import { answerPrompt, launch, openPage, shot, signInUi, waitForImage } from './browser';

const PASSWORD = 'Correct-Horse-42';
const NAME = '欧阳振华';
const ID = '110105198703152318';

describe('web UI: the caseworker signs in, searches, reads the page with the hit marked (Chromium)', function () {
  this.timeout(400_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: Awaited<ReturnType<typeof serveTestApp>>;
  let base: string;
  let browser: Browser;
  let itemId: string;

  before(async function () {
    // The UI is built (if stale) before the server starts: the server reads web/dist once.
    browser = await launch();
    ctx = await openTestRuntime();
    const rt = ctx.rt;
    server = await serveTestApp(rt);
    base = server.base;
    await rt.auth.createUser({ username: 'web.caseworker', roles: ['caseworker'], password: PASSWORD, clearance: 'sensitive', scope: { fonds: '*', agencies: '*', districts: '*' } });
    const upright = await renderScan(['工伤认定决定书', `受伤职工姓名：${NAME}`, `公民身份号码：${ID}`, '经调查核实，认定为工伤。', '决定日期：2019年5月20日'], { dpi: 300 });
    // The second sheet went through the scanner upside down.
    const turned = await sharp(await renderScan(['工伤认定调查笔录', `被调查人：${NAME}`, '事故经过：搬运货物时摔伤。', '调查日期：2019年5月10日'], { dpi: 300 })).rotate(180).png().toBuffer();
    const res = await ingestItem(rt, { fonds: 'Z001', source: 'web-e2e', channel: 'api', files: [{ filename: 'p1.png', body: upright }, { filename: 'p2.png', body: turned }] });
    itemId = String(res.item._id);
    const items = itemModel(rt.db);
    await drainUntil(rt, async () => ['filed', 'review', 'failed'].includes((await items.findById(itemId).lean())!.status), { timeoutMs: 300_000, what: 'the item filed' });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await ctx?.close();
  });

  it('signs in, finds the person by name and by ID number with named facets, opens the hit boxed on the page turned during capture', async () => {
    const { page, problems } = await openPage(browser);
    await page.goto(base);
    await page.getByPlaceholder('用户名').fill('web.caseworker');
    await page.getByPlaceholder('密码').fill('wrong-password-1');
    await page.getByRole('button', { name: '登录' }).click();
    const alert = page.getByRole('alert').filter({ hasText: /用户名或密码|登录/ });
    await alert.waitFor();
    assert.match(await alert.innerText(), /（[a-z_]+）/, 'the error shows its stable code');
    await page.getByPlaceholder('密码').fill(PASSWORD);
    await page.getByRole('button', { name: '登录' }).click();
    await page.getByText('web.caseworker（经办人员）').waitFor();

    // By name.
    await page.getByLabel('检索词').fill(NAME);
    await page.getByRole('button', { name: '检索' }).click();
    const hit = page.locator('article.hit').first();
    await hit.waitFor();
    assert.match(await page.locator('[data-test=summary]').innerText(), /共 1 件/);
    assert.ok((await hit.locator('mark').allInnerTexts()).join('').includes(NAME.slice(0, 2)), 'the snippet marks the name');
    const facets = await page.locator('aside.facets').innerText();
    assert.match(facets, /工伤保险/, 'the 险种 facet shows a name, not a code');
    assert.doesNotMatch(facets, /^GS（/m, 'no bare 险种 code');
    await shot(page, 'caseworker-search');

    // By ID number.
    await page.getByLabel('检索词').fill(ID);
    await page.getByRole('button', { name: '检索' }).click();
    await page.locator('[data-test=summary]').filter({ hasText: /共 1 件/ }).waitFor();

    // Back to the name, and open the item on the page that was upside down.
    await page.getByLabel('检索词').fill(NAME);
    await page.getByRole('button', { name: '检索' }).click();
    await page.locator('[data-test=summary]').filter({ hasText: /共 1 件/ }).waitFor();
    await page.locator('article.hit a.title').first().click();
    await page.locator('[data-test=facts]').waitFor();
    assert.match(await page.locator('[data-test=facts]').innerText(), new RegExp(ID), 'a caseworker sees the ID number in full');
    assert.equal(await page.locator(`a[href="/api/v1/items/${itemId}/pdf"]`).count(), 1, 'the watermarked PDF can be downloaded');
    assert.equal(await page.locator('.thumbs img').count(), 2);

    await page.getByRole('button', { name: '第2页' }).click();
    await page.locator('[data-test=page-of]').filter({ hasText: '第 2 / 2 页' }).waitFor();
    await waitForImage(page, '.page img.full');
    await page.locator('.page .box').first().waitFor({ timeout: 15_000 });
    const frame = (await page.locator('[data-test=page]').boundingBox())!;
    const box = (await page.locator('.page .box').first().boundingBox())!;
    // 被调查人 is the second line: in the top half of the upright page, not in a corner of the turned scan.
    const rel = { x: (box.x - frame.x) / frame.width, y: (box.y - frame.y) / frame.height };
    assert.ok(rel.y > 0.05 && rel.y < 0.5 && rel.x > 0.05 && rel.x < 0.9, `the hit box sits on the name line of the upright page (at ${JSON.stringify(rel)})`);
    await shot(page, 'caseworker-item-rotated');

    // Zoom keeps the box on its words.
    await page.getByRole('button', { name: '放大' }).click();
    const frame2 = (await page.locator('[data-test=page]').boundingBox())!;
    const box2 = (await page.locator('.page .box').first().boundingBox())!;
    assert.ok(frame2.width > frame.width * 1.2, 'zoomed in');
    assert.ok(Math.abs((box2.y - frame2.y) / frame2.height - rel.y) < 0.01, 'the box stays on its words when zoomed');
    // Keyboard page navigation.
    await page.keyboard.press('PageUp');
    await page.locator('[data-test=page-of]').filter({ hasText: '第 1 / 2 页' }).waitFor();

    // English switch: the same page in English.
    await page.getByRole('button', { name: '切换到英文界面' }).click();
    await page.getByText('Page 1 of 2').waitFor();
    await shot(page, 'caseworker-item-en');
    await page.getByRole('button', { name: 'Switch to Chinese' }).click();
    assert.deepEqual(problems, []);

    await ctx.rt.audit.flush();
    const trail = await ctx.rt.audit.list({ actor: 'web.caseworker', limit: 200 });
    assert.ok(trail.some((e) => e.action === 'search' && (e.details as { total?: number }).total === 1), 'the search is recorded');
    assert.ok(trail.some((e) => e.action === 'item.view' && e.object?.id === itemId), 'the page view is recorded');
    await page.close();
  });

  it('an outsider asks for access (借阅), an archivist approves it, the reader sees the time left and opens the item', async () => {
    await ctx.rt.auth.createUser({ username: 'web.outsider', roles: ['caseworker'], password: PASSWORD, clearance: 'sensitive', scope: { fonds: ['Z999'], agencies: '*', districts: '*' } });
    await ctx.rt.auth.createUser({ username: 'web.approver', roles: ['archivist'], password: PASSWORD, clearance: 'sensitive', scope: { fonds: '*', agencies: '*', districts: '*' } });
    const { page, problems } = await openPage(browser, { expected: /status of 403/ });
    await signInUi(page, base, 'web.outsider', PASSWORD);
    await page.goto(`${base}/#/item/${itemId}`);
    await page.getByText('您无权查阅此条目，可申请借阅。').waitFor();
    await page.getByLabel('利用目的').fill('核对工伤待遇申请材料');
    await page.getByRole('button', { name: '提交申请' }).click();
    await page.getByText('申请已提交，等待审批').waitFor();
    await page.goto(`${base}/#/access`);
    const pending = page.locator('.el-table__row').filter({ hasText: '待审批' });
    await pending.waitFor();
    // The reader may not read the item yet: the list names it by number only, not by its title.
    const title = (await itemModel(ctx.rt.db).findById(itemId).lean())!.title!;
    assert.equal(await pending.locator('[data-test=access-item]').innerText(), `条目 ${itemId}`);

    const approver = await openPage(browser);
    await signInUi(approver.page, base, 'web.approver', PASSWORD);
    await approver.page.goto(`${base}/#/access`);
    // The approver judges the request by what it is for: the item's title and 档号, not an id.
    const asked = approver.page.locator('.el-table__row').filter({ hasText: 'web.outsider' });
    assert.match(await asked.locator('[data-test=access-item]').innerText(), new RegExp(title));
    await asked.getByRole('button', { name: '批准' }).click();
    await approver.page.getByRole('dialog').getByText(`批准 web.outsider 借阅《${title}》 7 天？`).waitFor();
    await approver.page.getByRole('dialog').getByRole('button', { name: '确定' }).click();
    await approver.page.locator('.el-table__row').filter({ hasText: '已批准' }).waitFor();
    assert.deepEqual(approver.problems, []);
    await approver.page.close();

    await page.getByRole('button', { name: '刷新' }).click();
    const row = page.locator('.el-table__row').filter({ hasText: '已批准' });
    await row.waitFor();
    assert.match(await row.locator('[data-test=remaining]').innerText(), /^[67] 天 \d+ 小时$/, 'the remaining time of the running grant is shown');
    assert.equal(await row.locator('[data-test=access-item]').innerText(), title, 'while the grant runs the reader sees what it is for');
    await shot(page, 'caseworker-access');
    await row.getByRole('link').click();
    await page.locator('[data-test=facts]').waitFor();
    // Reading through the grant, the reader is told so and until when.
    assert.match(await page.locator('[data-test=grant-banner]').innerText(), /您正通过借阅查阅此条目，借阅至 \d{4}-\d{2}-\d{2} \d{2}:\d{2} 结束/);
    // Two documents in one item (件): the decision and, behind it, the investigation record. The
    // item is dated by the decision (正文), not by the record (附件) (DA/T 22-2015 件内排序).
    assert.match(await page.locator('[data-test=facts]').innerText(), /2019-05-20/);
    await waitForImage(page, '.page img.full');
    await shot(page, 'caseworker-item-grant');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('a refusal says why, beside the request, for the requester to read', async () => {
    const user = await ctx.rt.auth.createUser({ username: 'web.outsider2', roles: ['caseworker'], password: PASSWORD, clearance: 'sensitive', scope: { fonds: ['Z999'], agencies: '*', districts: '*' } });
    const asked = await requestAccess(ctx.rt, toPrincipal(user), { itemId, reason: '核对工伤待遇申请材料', days: 3 });
    const approver = await openPage(browser);
    await signInUi(approver.page, base, 'web.approver', PASSWORD);
    await approver.page.goto(`${base}/#/access`);
    const row = approver.page.locator('.el-table__row').filter({ hasText: 'web.outsider2' });
    await row.getByRole('button', { name: '拒绝' }).click();
    await answerPrompt(approver.page, /拒绝 web\.outsider2 借阅《/, '该材料已由本人领取，无需借阅');
    await row.filter({ hasText: '已拒绝' }).waitFor();
    assert.equal(await row.locator('[data-test=decision-note]').innerText(), '该材料已由本人领取，无需借阅');
    assert.deepEqual(approver.problems, []);
    await approver.page.close();
    const mine = await listAccess(ctx.rt, toPrincipal(user));
    assert.deepEqual(mine.map((g) => [g.id, g.status, g.note]), [[asked.id, 'rejected', '该材料已由本人领取，无需借阅']]);
  });

  it('a new account sets its password with the one-time setup secret, then signs in', async () => {
    const { user, setupSecret } = await ctx.rt.auth.createAdmin('web.newcomer', null);
    await ctx.rt.auth.setRoles(user._id, ['caseworker']);
    const { page, problems } = await openPage(browser);
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
    assert.deepEqual(problems, []);
    await page.close();
  });
});
