/**
 * The compliance path in the browser (Debian's Chromium, real server, FerretDB and MinIO): a
 * compliance officer takes a due item from the due list through appraisal, the 销毁清册, the
 * 鉴定小组's sign-offs, 备案, the 主要负责人's approval and the two 监销人's supervised destruction
 * to a certificate that verifies — every other role signing in and signing with a fresh TOTP code.
 * Each person signs in once, through the form, and keeps that browser session (as at a desk): a
 * code can be used only once, so signing in again at each step waited out 30 s windows for codes.
 */
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { itemModel } from '../../src/models/item.model';
import { actor, makeDueItem, type Actor } from '../helpers/disposition';
import { openTestRuntime, serveTestApp } from '../helpers/runtime';
import { answerPrompt, launch, openContext, openPage, shot, signInUi } from './browser';

const PASSWORD = 'Correct-Horse-42';

describe('web UI: a due item taken to a verified certificate of destruction (Chromium)', function () {
  this.timeout(600_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: Awaited<ReturnType<typeof serveTestApp>>;
  let base: string;
  let browser: Browser;
  const a: Record<string, Actor> = {};
  let itemId: string;

  before(async () => {
    // The UI is built (if stale) before the server starts: the server reads web/dist once.
    browser = await launch();
    // No cooling-off period in the test: destruction may start as soon as it is approved.
    ctx = await openTestRuntime({ ARCHIVE_DISPOSAL_COOLING_DAYS: '0' });
    server = await serveTestApp(ctx.rt);
    base = server.base;
    for (const [name, role] of [['co', 'compliance_officer'], ['m1', 'appraisal_member'], ['m2', 'appraisal_member'], ['head', 'agency_head'], ['s1', 'disposal_supervisor'], ['s2', 'disposal_supervisor']] as const) {
      a[name] = await actor(ctx.rt, `ui.${name}`, role, { password: PASSWORD, fonds: ['Z001'] });
    }
    itemId = await makeDueItem(ctx.rt, { title: '失业保险金申领登记表（到期）' });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await ctx?.close();
  });

  const desks = new Map<string, BrowserContext>();

  /** Each person signs in through the form with password and a fresh code, once: their browser keeps the session. */
  async function signIn(name: string): Promise<void> {
    const desk = await openContext(browser);
    const { page, problems } = await openPage(desk);
    await signInUi(page, base, `ui.${name}`, PASSWORD, a[name]!.code);
    assert.deepEqual(problems, [], `no script errors or CSP violations while ${name} signs in`);
    await page.close();
    desks.set(name, desk);
  }

  /** A fresh page in the person's signed-in browser, opened at `path`. */
  async function as(name: string, path: string, body: (page: Page) => Promise<void>): Promise<void> {
    const { page, problems } = await openPage(desks.get(name)!);
    await page.goto(`${base}/#${path}`);
    await page.locator('[data-test=who]').filter({ hasText: `ui.${name}` }).waitFor();
    await body(page);
    assert.deepEqual(problems, [], `no script errors or CSP violations for ${name}`);
    await page.close();
  }

  it('appraisal, list, sign-offs, filing, approval, supervised destruction, certificate verified', async () => {
    // Everyone signs in first: their later codes (signatures) then fall in later 30 s windows.
    for (const name of Object.keys(a)) await signIn(name);
    let roundPath = '';
    await as('co', '/due', async (page) => {
      const row = page.locator('[data-test=due] .el-table__row').filter({ hasText: '失业保险金申领登记表（到期）' });
      await row.waitFor();
      await shot(page, 'compliance-due');
      await row.locator('.el-checkbox').click();
      await page.locator('[data-test=open-round]').click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('鉴定名称').fill('2026年第一批到期档案鉴定');
      await dialog.getByLabel('鉴定小组成员 1 用户名').fill('ui.m1');
      await dialog.getByLabel('鉴定小组成员 2 用户名').fill('ui.m2');
      await dialog.getByRole('button', { name: '对所选档案发起鉴定' }).click();
      await page.locator('[data-test=round-detail]').waitFor();
      roundPath = page.url().slice(page.url().indexOf('#') + 1);
    });
    for (const m of ['m1', 'm2']) {
      await as(m, roundPath, async (page) => {
        await page.locator('[data-test=round-detail] .el-table__row').filter({ hasText: '失业保险金申领登记表（到期）' }).waitFor();
        await page.getByRole('button', { name: '全部填为“销毁”' }).click();
        await page.locator('[data-test=submit-opinions]').click();
        await page.getByText('意见已提交').waitFor();
      });
    }
    let listPath = '';
    await as('co', roundPath, async (page) => {
      await page.locator('[data-test=close-round]').click();
      await page.locator('.el-message-box').filter({ hasText: '结束鉴定后' }).getByRole('button', { name: '结束鉴定' }).click();
      await page.locator('[data-test=outcomes]').filter({ hasText: '销毁 1' }).waitFor();
      // Each member's opinion, beside the item it is on.
      await page.locator('.el-table__row').filter({ hasText: '失业保险金申领登记表（到期）' }).filter({ hasText: 'ui.m1：销毁；ui.m2：销毁' }).waitFor();
      await shot(page, 'compliance-round');
      await page.locator('[data-test=create-list]').click();
      await page.locator('[data-test=stage]').filter({ hasText: '待鉴定小组签署' }).waitFor();
      listPath = page.url().slice(page.url().indexOf('#') + 1);
    });
    for (const m of ['m1', 'm2']) {
      await as(m, listPath, async (page) => {
        await page.locator('[data-test=sign]').click();
        await answerPrompt(page, '签署清册第 1 版', await a[m]!.code());
        await page.locator('[data-test=signatures]').filter({ hasText: `ui.${m}` }).waitFor();
      });
    }
    await as('co', listPath, async (page) => {
      await page.locator('[data-test=stage]').filter({ hasText: '待备案' }).waitFor();
      await page.getByLabel('备案文号').fill('人社档备〔2026〕12号');
      await page.getByRole('button', { name: '登记备案' }).click();
      await page.locator('[data-test=stage]').filter({ hasText: '待主要负责人批准' }).waitFor();
    });
    await as('head', listPath, async (page) => {
      await page.locator('[data-test=approve]').click();
      await answerPrompt(page, '批准销毁清册第 1 版', await a.head!.code());
      await page.locator('[data-test=stage]').filter({ hasText: '已批准' }).waitFor();
      await shot(page, 'compliance-approved');
    });
    await as('s1', listPath, async (page) => {
      const exec = page.locator('[data-test=execution]');
      await exec.getByLabel('我的动态验证码').fill(await a.s1!.code());
      await exec.getByLabel('另一名监销人').fill('ui.s2');
      await exec.getByLabel('其密码').fill(PASSWORD);
      await exec.getByLabel('其动态验证码').fill(await a.s2!.code());
      await exec.locator('[data-test=start]').click();
      await page.locator('.el-message-box').filter({ hasText: '不可恢复地销毁' }).getByRole('button', { name: '启动销毁' }).click();
      await exec.locator('[data-test=run]').click();
      await exec.locator('[data-test=exec-progress]').filter({ hasText: '已销毁 1 件' }).waitFor();
      await exec.locator('[data-test=confirm]').click();
      await answerPrompt(page, '确认本清册的销毁已完成', await a.s1!.code());
      await exec.getByText('已确认：ui.s1').waitFor();
    });
    await as('s2', listPath, async (page) => {
      const exec = page.locator('[data-test=execution]');
      await exec.locator('[data-test=confirm]').click();
      await answerPrompt(page, '确认本清册的销毁已完成', await a.s2!.code());
      await page.locator('[data-test=stage]').filter({ hasText: '已销毁' }).waitFor();
    });
    await as('co', listPath, async (page) => {
      await page.locator('[data-test=certificate]').waitFor();
      // The compliance officer sees who supervised the destruction, beside the certificate.
      const record = await page.locator('[data-test=exec-record]').innerText();
      assert.match(record, /ui\.s1、ui\.s2|ui\.s2、ui\.s1/, 'the two supervisors are named');
      await page.locator('[data-test=verify]').click();
      const check = page.locator('[data-test=check]');
      await check.waitFor();
      assert.match(await check.innerText(), /证明有效/);
      // The files a person holds (downloaded earlier, or handed over) are checked the same way,
      // chosen with the page's own buttons, which name the file chosen.
      const listId = listPath.split('/').pop()!;
      const pdf = await (await page.request.get(`${base}/api/v1/disposal/lists/${listId}/certificate`)).body();
      const p7s = await (await page.request.get(`${base}/api/v1/disposal/lists/${listId}/certificate.p7s`)).body();
      await page.locator('[data-test=cert-pdf]').setInputFiles({ name: 'certificate.pdf', mimeType: 'application/pdf', buffer: pdf });
      await page.locator('[data-test=cert-p7s]').setInputFiles({ name: 'certificate.p7s', mimeType: 'application/pkcs7-signature', buffer: p7s });
      await page.getByText('certificate.p7s').waitFor();
      const [answer] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/api/v1/disposal/certificates/verify')),
        page.getByRole('button', { name: '校验所选文件' }).click(),
      ]);
      assert.equal(((await answer.json()) as { ok: boolean }).ok, true, 'the chosen files verify');
      await check.filter({ hasText: '证明有效' }).waitFor();
      await shot(page, 'compliance-certificate');
    });
    assert.equal((await itemModel(ctx.rt.db).findById(itemId).lean())!.status, 'destroyed');
  });

  it('a legal hold placed on a person takes their due item off the due list; another manager releases it with a reason', async () => {
    const ID = '110105198703152318';
    const heldId = await makeDueItem(ctx.rt, { title: '失业保险金申领登记表（涉诉）', personIds: [ID] });
    const dueTotal = async (page: Page) => (await page.locator('.toolbar .muted').first().innerText()).match(/共 (\d+) 条/)?.[1];
    await as('co', '/due', async (page) => {
      await page.getByText('失业保险金申领登记表（涉诉）').waitFor();
      assert.equal(await dueTotal(page), '1');
    });
    await as('co', '/holds', async (page) => {
      await page.getByLabel('名称').fill('劳动争议仲裁案 2026-017');
      await page.getByLabel('事由').fill('仲裁期间保留全部待遇材料');
      // The value's label says what it takes for the target chosen (a person by default).
      await page.getByLabel('公民身份号码', { exact: true }).fill(ID);
      await page.getByRole('button', { name: '设置冻结' }).click();
      const row = page.locator('[data-test=holds] .el-table__row').filter({ hasText: '劳动争议仲裁案 2026-017' });
      await row.waitFor();
      const text = await row.innerText();
      assert.match(text, /生效中/);
      assert.ok(!text.includes(ID), 'the ID number is shown masked');
      assert.equal(await row.locator('[data-test=covers]').innerText(), '现冻结 1 件', 'how many items it holds now');
      assert.equal(await row.getByRole('button', { name: '解除冻结' }).count(), 0, 'whoever placed a hold does not release it');
      await shot(page, 'compliance-holds');
    });
    await as('co', '/due', async (page) => {
      await page.getByText('共 0 条').waitFor();
    });
    // The item itself says it is held, and by which hold.
    await as('co', `/item/${heldId}`, async (page) => {
      assert.match(await page.locator('[data-test=hold-banner]').innerText(), /本条目已冻结（劳动争议仲裁案 2026-017）/);
    });
    await as('head', '/holds', async (page) => {
      const row = page.locator('[data-test=holds] .el-table__row').filter({ hasText: '劳动争议仲裁案 2026-017' });
      await row.getByRole('button', { name: '解除冻结' }).click();
      await answerPrompt(page, '解除冻结“劳动争议仲裁案 2026-017”', '仲裁已结案，裁决书已归档');
      await row.filter({ hasText: '已解除' }).waitFor();
      assert.match(await row.innerText(), /ui\.head/, 'who released it is shown');
    });
    await as('co', '/due', async (page) => {
      await page.getByText('失业保险金申领登记表（涉诉）').waitFor();
    });
  });
});
