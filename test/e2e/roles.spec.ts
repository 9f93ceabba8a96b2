/**
 * Each role's main path through the web workplace, in Debian's Chromium against the real server,
 * FerretDB, MinIO and OCR pipeline: the archivist scans a batch and corrects one filing; the
 * auditor filters the trail; each administrator sees only their own pages (三员分立); the
 * dashboard draws its figures.
 */
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { itemModel, type ItemDoc } from '../../src/models/item.model';
import { buildItem } from '../helpers/factories';
import { drainUntil } from '../helpers/jobs';
import { openTestRuntime, serveTestApp } from '../helpers/runtime';
import { renderScan } from '../helpers/scan';
import { launch, openPage, shot, signInUi, waitForImage } from './browser';

const PASSWORD = 'Correct-Horse-42';

describe('web UI: every role\'s main path (Chromium)', function () {
  this.timeout(400_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let server: Awaited<ReturnType<typeof serveTestApp>>;
  let base: string;
  let browser: Browser;

  before(async function () {
    // The UI is built (if stale) before the server starts: the server reads web/dist once.
    browser = await launch();
    ctx = await openTestRuntime();
    server = await serveTestApp(ctx.rt);
    base = server.base;
    for (const [username, role] of [['ui.archivist', 'archivist'], ['ui.auditor', 'auditor'], ['ui.secauditor', 'secauditor'], ['ui.sysadmin', 'sysadmin'], ['ui.secadmin', 'secadmin'], ['ui.compliance', 'compliance_officer']]) {
      await ctx.rt.auth.createUser({ username: username!, roles: [role!], password: PASSWORD, clearance: 'sensitive', scope: { fonds: '*', agencies: '*', districts: '*' } });
    }
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await ctx?.close();
  });

  it('the archivist uploads a batch, watches it (through a reload), and corrects the filing in the review queue', async () => {
    const { page, problems } = await openPage(browser);
    await signInUi(page, base, 'ui.archivist', PASSWORD);
    await page.getByRole('heading', { name: '扫描工作站' }).waitFor();
    // 150 dpi: below the 200 dpi floor (DA/T 31-2017), so QC holds the item until a person rescans
    // or accepts it; the page gives no date, so once accepted it waits in review for its 形成日期.
    const scan = await renderScan(['工伤认定决定书', '受伤职工姓名：李秀英', '公民身份号码：110105198703152318', '经调查核实，认定为工伤。'], { dpi: 150, fontSizePt: 18 });
    await page.locator('[data-test=files]').setInputFiles({ name: 'batch-001.png', mimeType: 'image/png', buffer: scan });
    await page.getByText('已选 1 个文件').waitFor();
    await page.getByRole('button', { name: '上传并处理' }).click();
    await page.locator('[data-test=batch]').first().waitFor();
    const items = itemModel(ctx.rt.db);
    const item = (await items.findOne({ source: 'batch-001.png' }).lean<ItemDoc>())!;
    assert.ok(item, 'the upload created an item');
    const id = String(item._id);
    const settled = (...s: string[]) => async () => s.includes((await items.findById(id).lean())!.status);
    await drainUntil(ctx.rt, settled('qc_hold', 'filed', 'review', 'failed'), { timeoutMs: 300_000, what: 'the uploaded item through capture' });
    assert.equal((await items.findById(id).lean())!.status, 'qc_hold', 'a 150 dpi scan is held by QC');
    await page.reload();
    const batch = page.locator('[data-test=batch]').first();
    await batch.locator('[data-test=batch-items]').filter({ hasText: '件：1 / 1' }).waitFor({ timeout: 20_000 });
    assert.match(await batch.locator('[data-test=batch-eta]').innerText(), /已完成/);
    await page.waitForTimeout(700); // the progress bar's fill animates
    await shot(page, 'archivist-scan');
    // Another browser (another PC: its own storage) shows the same batch: the list is on the server.
    const elsewhere = await openPage(browser);
    await signInUi(elsewhere.page, base, 'ui.archivist', PASSWORD);
    await elsewhere.page.locator('[data-test=batch] [data-test=batch-items]').filter({ hasText: '件：1 / 1' }).waitFor({ timeout: 20_000 });
    assert.deepEqual(elsewhere.problems, []);
    await elsewhere.page.close();
    // The same scan uploaded again (from another folder): said to be in already, not a second item.
    await page.locator('[data-test=files]').setInputFiles({ name: 'again/batch-001.png', mimeType: 'image/png', buffer: scan });
    await page.getByRole('button', { name: '上传并处理' }).click();
    await page.getByText(/1 件此前已接收，未重复归档/).waitFor();
    assert.equal(await items.countDocuments({ 'originals.sha256': item.originals[0]!.sha256 }), 1, 'no second item');
    // Its batch lists the item, marked as taken in before, and the QC statistics count it once.
    await page.locator('[data-test=batch]').first().locator('[data-test=batch-earlier]').waitFor();
    await page.locator('.el-message').filter({ hasText: '此前已接收' }).waitFor({ state: 'hidden', timeout: 15_000 });

    // The batch links to the QC queue; the archivist accepts the scan with a reason.
    await batch.locator('[data-test=batch-held]').click();
    const panel = page.locator('[data-test=review-panel]');
    await panel.waitFor();
    assert.match(await page.locator('.queue').innerText(), /分辨率低/, 'the queue says why the item is held');
    await panel.locator('[data-test=accept-scan]').click();
    await page.locator('.el-message-box input').fill('原件已遗失，无法重新扫描');
    await page.locator('.el-message-box').getByRole('button', { name: '接受此扫描件…' }).click();
    await page.getByText('已接受，继续归档').waitFor();
    const accepted = (await items.findById(id).lean<ItemDoc>())!;
    assert.equal((accepted.qc as any)?.decision?.reason, '原件已遗失，无法重新扫描');
    await drainUntil(ctx.rt, settled('filed', 'review', 'failed'), { timeoutMs: 300_000, what: 'the accepted item filed' });
    assert.equal((await items.findById(id).lean())!.status, 'review', 'no 形成日期 on the page: review');

    // The person's file already has their registration, filed under the name 李秀瑛, with their
    // employer; the scan named the employer by its 统一社会信用代码, one character of its name misread.
    const registration = { name: '李秀瑛', idNumber: '110105198703152318', evidence: [] };
    const UNIT = '91110105MA01ABCD13';
    const employer = { name: '北京市朝阳区星光科技有限公司', creditCode: UNIT, evidence: [] };
    await buildItem(ctx.rt, { personIds: [registration.idNumber], unitCodes: [UNIT], metadata: { persons: [registration], units: [employer] }, title: '参保人员基本信息登记表', documentDate: '2012-04-24' });
    const read = (await items.findById(id).lean<ItemDoc>())!.metadata as Record<string, unknown>;
    await items.updateOne({ _id: id }, { $set: { metadata: { ...read, units: [{ ...employer, name: '北京市朝阳区星光科技有限公三' }] } } });
    await page.getByText('待审核与有质量标记').click();
    await page.locator('.page img.full').waitFor();
    assert.match(await page.locator('.queue').innerText(), /分辨率低/, 'the queue shows the quality flag');
    assert.notEqual(await panel.locator('[data-test=citation]').innerText(), '—', 'the proposed classification cites the schedule');
    assert.match(await panel.locator('[data-test=review-reason]').innerText(), /未找到形成日期/, 'the review reason reads in Chinese');
    await shot(page, 'archivist-review');
    // The file names the person otherwise than the scan was read: offered, taken only on a click.
    const onFile = panel.locator('[data-test=name-on-file]');
    assert.match(await onFile.innerText(), /此人档案（一人一档）中的姓名为「李秀瑛」/);
    assert.equal(await panel.getByLabel('姓名').inputValue(), '李秀英', 'nothing filled in unasked');
    await onFile.locator('[data-test=take-name-on-file]').click();
    assert.equal(await panel.getByLabel('姓名').inputValue(), '李秀瑛');
    await onFile.waitFor({ state: 'hidden' });
    // This scan is right (the name was changed since): the reviewer keeps it.
    await panel.getByLabel('姓名').fill('李秀英');
    await onFile.waitFor();
    // The unit likewise, by its 统一社会信用代码.
    const unitOnFile = panel.locator('[data-test=unit-on-file]');
    assert.match(await unitOnFile.innerText(), /该单位档案中的名称为「北京市朝阳区星光科技有限公司」/);
    assert.equal(await panel.getByLabel('单位名称').inputValue(), '北京市朝阳区星光科技有限公三', 'nothing filled in unasked');
    await unitOnFile.locator('[data-test=take-unit-on-file]').click();
    await unitOnFile.waitFor({ state: 'hidden' });
    assert.equal(await panel.getByLabel('单位名称').inputValue(), '北京市朝阳区星光科技有限公司');

    // Page edits: the page turned 180° and back; each time only that page is read again (a worker job).
    const edits = page.locator('[data-test=page-edits]');
    const before = (await items.findById(id).lean<ItemDoc>())!.pages[0]!;
    const rotations = async () => (await items.findById(id).lean<ItemDoc>())!.history.filter((h) => h.kind === 'page_rotated').length;
    // Turned, then 撤销 turns it back (a rotation can be undone, so the page offers it).
    for (const [k, turned, button] of [[1, (before.rotation + 180) % 360, 'rotate-180'], [2, before.rotation, 'undo']] as const) {
      await edits.locator(`[data-test=${button}]`).click();
      await edits.locator('[data-test=page-working]').waitFor();
      await drainUntil(ctx.rt, async () => (await rotations()) === k && ['review', 'filed', 'qc_hold'].includes((await items.findById(id).lean())!.status), { timeoutMs: 120_000, what: `rotation ${k} read and re-filed` });
      await page.getByText('第 1 页已旋转并重新识别').last().waitFor({ timeout: 30_000 });
      assert.equal((await items.findById(id).lean<ItemDoc>())!.pages[0]!.rotation, turned, `rotation ${k} is kept on the page`);
      if (k === 1) {
        await waitForImage(page, '.page img.full');
        await shot(page, 'archivist-review-rotated');
      }
    }
    await edits.locator('[data-test=page-working]').waitFor({ state: 'hidden', timeout: 30_000 });
    assert.equal(await edits.locator('[data-test=undo]').count(), 0, 'an undone edit offers no further undo');
    const back = (await items.findById(id).lean<ItemDoc>())!;
    assert.equal(back.originals[0]!.sha256, item.originals[0]!.sha256, 'the original scan is untouched');
    assert.notEqual(back.pages[0]!.imageKey, before.imageKey, 'the page image was prepared again');
    await page.locator('.el-message').first().waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);

    await panel.getByLabel('形成日期').fill('2020-03-06');
    await panel.getByLabel('题名').fill('工伤认定决定书（李秀英）');
    // The unit read wrong (or not at all: the page was read again since) is typed in; the
    // catalogue prints it as 责任者.
    await panel.getByLabel('单位名称').fill('北京市朝阳区星光科技有限公司');
    await panel.locator('[data-test=save-correction]').click();
    await page.getByText('已更正：工伤认定决定书（李秀英）').waitFor();
    const after = (await items.findById(id).lean<ItemDoc>())!;
    assert.equal(after.title, '工伤认定决定书（李秀英）');
    assert.equal((after.metadata as { units?: Array<{ name: string | null }> }).units?.[0]?.name, '北京市朝阳区星光科技有限公司', 'the unit typed in is the first unit');
    assert.ok(after.history.some((h) => h.kind === 'correction' && h.actor === 'ui.archivist'), 'the correction is in the item history');
    await page.getByText('审核队列为空。').waitFor();

    await page.getByRole('link', { name: '归档文件目录' }).click();
    await page.getByRole('button', { name: '预览' }).click();
    await page.locator('[data-test=catalogue] .el-table__row').filter({ hasText: '工伤认定决定书（李秀英）' }).filter({ hasText: '北京市朝阳区星光科技有限公司' }).waitFor();
    await shot(page, 'archivist-catalogue');

    await page.getByRole('link', { name: '一人一档 / 一户一档' }).click();
    await page.getByRole('textbox', { name: '公民身份号码' }).fill('110105198703152318');
    await page.getByRole('button', { name: '查看档案' }).click();
    await page.locator('.el-table__row').filter({ hasText: '工伤认定决定书（李秀英）' }).waitFor();
    assert.match(await page.locator('[data-test=dossier-who]').innerText(), /李秀英\s*110105198703152318/);
    await shot(page, 'archivist-dossier');
    // A filed item's description corrected where it is read: the 文号 was not on the scan.
    await page.getByRole('link', { name: '工伤认定决定书（李秀英）' }).click();
    await page.locator('[data-test=correct]').click();
    const dlg = page.getByRole('dialog');
    await dlg.getByLabel('文号').fill('京人社工伤认字〔2020〕18号');
    await shot(page, 'archivist-item-correct');
    await dlg.locator('[data-test=save-item-correction]').click();
    await page.locator('[data-test=doc-number]').filter({ hasText: '京人社工伤认字〔2020〕18号' }).waitFor();
    assert.equal(((await items.findById(id).lean<ItemDoc>())!.metadata as { docNumber?: string }).docNumber, '京人社工伤认字〔2020〕18号');
    assert.ok((await items.findById(id).lean<ItemDoc>())!.history.filter((h) => h.kind === 'correction').length >= 2, 'a second correction in the history');
    // Back where the person came from: the person's file, not a search they never made.
    await page.locator('[data-test=back]').click();
    await page.locator('[data-test=dossier-who]').filter({ hasText: '李秀英' }).waitFor();
    assert.match(page.url(), /#\/dossier\?kind=person&code=110105198703152318/);
    await page.getByRole('link', { name: '质检统计' }).click();
    await page.locator('.el-table__row').filter({ hasText: '150 dpi × 1' }).waitFor();
    await shot(page, 'archivist-qc');

    await page.getByRole('link', { name: '统计概览' }).click();
    await page.locator('canvas').first().waitFor();
    assert.match(await page.locator('[data-test=dash-total]').innerText(), /合计 2 件/, 'the scan and the person\'s registration');
    await page.waitForTimeout(800);
    await shot(page, 'dashboard');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('the auditor filters the trail by who and sees the chain verified', async () => {
    const { page, problems } = await openPage(browser);
    await signInUi(page, base, 'ui.auditor', PASSWORD);
    await page.getByRole('heading', { name: '审计日志' }).waitFor();
    await page.locator('[data-test=chain]').filter({ hasText: '完整' }).waitFor();
    await page.getByLabel('操作人').fill('ui.archivist');
    await page.getByRole('button', { name: '筛选', exact: true }).click();
    const rows = page.locator('[data-test=audit-table] .el-table__row');
    await rows.first().filter({ hasText: 'ui.archivist' }).waitFor();
    const actors = await rows.locator('td:nth-child(3)').allInnerTexts();
    assert.ok(actors.length > 0 && actors.every((a) => a.trim() === 'ui.archivist'), `only the archivist's entries (${actors.length})`);
    // Actions read by name (their code beneath), and chosen by name in the filter.
    assert.match(await rows.first().locator('td:nth-child(4)').innerText(), /[\u4e00-\u9fff]+\s*\n?\s*[a-z]+/);
    await page.locator('form.toolbar').getByLabel('操作', { exact: true }).first().click();
    await page.keyboard.type('更正著录');
    await page.locator('.el-select-dropdown__item').filter({ hasText: '更正著录（item.correct）' }).click();
    await page.getByRole('button', { name: '筛选', exact: true }).click();
    await rows.first().filter({ hasText: 'item.correct' }).waitFor();
    const actions = await rows.locator('td:nth-child(4)').allInnerTexts();
    assert.ok(actions.length > 0 && actions.every((a) => a.includes('更正著录') && a.includes('item.correct')), actions.join(' | '));
    await shot(page, 'auditor-trail');
    const nav = await page.locator('nav.side').innerText();
    assert.doesNotMatch(nav, /账号管理|角色与权限|检索查阅/, 'the auditor sees no admin or content pages');
    assert.deepEqual(problems, []);
    await page.close();
  });

  it('each administrator sees only their own pages; the system administrator creates and disables an account, the security administrator grants its role', async () => {
    const sys = await openPage(browser);
    await signInUi(sys.page, base, 'ui.sysadmin', PASSWORD);
    await sys.page.getByRole('heading', { name: '账号管理' }).waitFor();
    assert.equal((await sys.page.locator('nav.side').innerText()).trim(), '系统管理\n账号管理');
    await sys.page.getByLabel('新建账号').fill('ui.newcomer');
    await sys.page.getByRole('button', { name: '创建' }).click();
    await sys.page.locator('[data-test=secret]').filter({ hasText: 'ui.newcomer' }).waitFor();
    const row = sys.page.locator('[data-test=accounts] .el-table__row').filter({ hasText: 'ui.newcomer' });
    await row.getByRole('button', { name: '停用' }).click();
    await sys.page.getByRole('dialog').getByText(/停用账号 ui.newcomer：其所有会话立即结束/).waitFor();
    await sys.page.getByRole('dialog').getByRole('button', { name: '停用' }).click();
    await row.filter({ hasText: '已停用' }).waitFor();
    await shot(sys.page, 'sysadmin-accounts');
    // Disabling can be undone from its notice.
    await sys.page.locator('.el-notification').getByRole('button', { name: '撤销' }).click();
    await row.filter({ hasText: '正常' }).waitFor();
    await sys.page.goto(`${base}/#/roles`);
    await sys.page.getByText('您的角色无权使用此页面。').waitFor();
    assert.deepEqual(sys.problems, []);
    await sys.page.close();

    const sec = await openPage(browser);
    await signInUi(sec.page, base, 'ui.secadmin', PASSWORD);
    await sec.page.getByRole('heading', { name: '角色与权限' }).waitFor();
    assert.equal((await sec.page.locator('nav.side').innerText()).trim(), '系统管理\n角色与权限');
    await sec.page.locator('[data-test=roles] .el-table__row').filter({ hasText: 'ui.newcomer' }).getByRole('button', { name: '授权' }).click();
    const dialog = sec.page.getByRole('dialog');
    await dialog.getByText('经办人员').click();
    await shot(sec.page, 'secadmin-roles-dialog');
    // Each role's box beside its name, not above it (the page's label style once reached the checkboxes).
    const box = await dialog.locator('.el-checkbox').filter({ hasText: '经办人员' }).boundingBox();
    assert.ok(box && box.height < 40, `one line per role: ${JSON.stringify(box)}`);
    await dialog.getByRole('button', { name: '保存' }).click();
    await sec.page.getByText('ui.newcomer 的授权已更新').waitFor();
    await dialog.waitFor({ state: 'hidden' });
    // Clearance in words, not the configuration's codes.
    assert.match(await sec.page.locator('[data-test=roles] .el-table__row').filter({ hasText: 'ui.newcomer' }).innerText(), /公开/);
    await shot(sec.page, 'secadmin-roles');
    const newcomer = await ctx.rt.auth.users.findOne({ username: 'ui.newcomer' }).lean();
    assert.deepEqual(newcomer!.roles, ['caseworker']);
    await sec.page.goto(`${base}/#/accounts`);
    await sec.page.getByText('您的角色无权使用此页面。').waitFor();
    assert.deepEqual(sec.problems, []);
    await sec.page.close();

    const sa = await openPage(browser);
    await signInUi(sa.page, base, 'ui.secauditor', PASSWORD);
    await sa.page.getByRole('heading', { name: '审计日志' }).waitFor();
    assert.equal((await sa.page.locator('nav.side').innerText()).trim(), '审计\n审计日志');
    await sa.page.getByText('安全审计员仅可见安全相关事件').waitFor();
    assert.deepEqual(sa.problems, []);
    await sa.page.close();
  });
});
