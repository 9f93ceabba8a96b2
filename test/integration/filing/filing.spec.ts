import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadSchedule } from '../../../retention-rules';
import { scheduleReviewList } from '../../../src/services/filing/schedule-review';
import { promisify } from 'node:util';
import { idCheckDigit } from '../../../src/domain/id-number';
import { itemModel } from '../../../src/models/item.model';
import { classifierExampleModel } from '../../../src/models/classifier-example.model';
import type { Runtime } from '../../../src/runtime';
import { fileItem } from '../../../src/services/filing/file-item';
import { checkNumbering } from '../../../src/services/filing/numbering';
import { openTestRuntime, serveTestApp } from '../../helpers/runtime';
import { REPO_ROOT } from '../../helpers/services';
import { buildItemWithText } from '../../helpers/factories';

const run = promisify(execFile);
const zhang = '11010519870315231' + idCheckDigit('11010519870315231');

/** An OCRed item as the capture stage leaves it: page text stored encrypted, status processing. */
function ocredItem(rt: Runtime, source: string, pages: string[][]): Promise<string> {
  return buildItemWithText(rt, pages, { source, channel: 'cli', status: 'processing', ocrAt: new Date(), title: null, documentDate: null });
}

const INJURY = (name: string, date: string) => [
  '工伤认定决定书',
  '京人社工伤认字〔2019〕123号',
  `受伤职工姓名：${name}\u3000公民身份号码：${zhang}`,
  '用人单位：北京市朝阳区星光科技有限公司',
  '经调查核实，认定为工伤。',
  `决定日期：${date}`,
];

describe('filing by the regulation: describe, classify, retain, number (real FerretDB + MinIO)', function () {
  this.timeout(60_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let http: Awaited<ReturnType<typeof serveTestApp>>;
  let first: string;
  let second: string;
  let unsure: string;

  before(async () => {
    ctx = await openTestRuntime();
    http = await serveTestApp(ctx.rt);
  });
  after(async () => {
    await http?.close();
    await ctx?.close();
  });

  it('a confident proposal is filed with retention from the appendix and the first 件号 of its class', async () => {
    first = await ocredItem(ctx.rt, 'a', [INJURY('张伟', '2019年5月20日')]);
    const it = await fileItem(ctx.rt, first);
    assert.equal(it.status, 'filed', JSON.stringify(it.classification));
    const cls = it.classification as any;
    assert.equal(cls.item, '6-02');
    assert.equal(cls.category, '6');
    assert.equal(cls.retention, 'D50');
    assert.equal(cls.dueOn, '2070-01-01', '3号令: counted from 1 January after formation');
    assert.equal(it.archivalCode, 'Z001-SB·2019-D50-GS·DY02-0001');
    const md = it.metadata as any;
    assert.deepEqual(md.persons.map((p: any) => [p.name, p.idNumber]), [['张伟', zhang]]);
    assert.equal(md.docNumber, '京人社工伤认字〔2019〕123号');
    assert.equal(md.documentDate, '2019-05-20');
  });

  it('the next item of the class gets 0002; an unsure one goes to review without a number', async () => {
    second = await ocredItem(ctx.rt, 'b', [INJURY('张伟', '2019年8月1日')]);
    assert.equal((await fileItem(ctx.rt, second)).archivalCode, 'Z001-SB·2019-D50-GS·DY02-0002');
    unsure = await ocredItem(ctx.rt, 'c', [['会议纪要', '关于 2020 年工作安排的讨论', '2020年3月2日']]);
    const u = await fileItem(ctx.rt, unsure);
    assert.equal(u.status, 'review');
    assert.equal(u.archivalCode, null);
    assert.ok((u.classification as any).needsReview);
    assert.deepEqual((await checkNumbering(ctx.rt.db, 'Z001-SB·2019-D50-GS·DY02')).gaps, []);
  });

  it('PATCH corrects the unsure item: retention re-derived, 档号 issued, history kept, classifier taught', async () => {
    const res = await http.fetch(`${http.base}/api/v1/items/${unsure}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ classification: { item: '9-03' }, metadata: { title: '内部控制检查会议纪要' } }),
    });
    assert.equal(res.status, 200, await res.clone().text());
    const view = (await res.json()) as any;
    assert.equal(view.status, 'filed');
    assert.equal(view.classification.item, '9-03');
    assert.equal(view.classification.retention, 'D30');
    assert.equal(view.classification.source, 'archivist');
    assert.match(view.archivalCode, /^Z001-SB·2020-D30-[A-Z]+·JH03-0001$/);
    const item = await itemModel(ctx.rt.db).findById(unsure).lean();
    assert.equal(item!.history.at(-1)!.kind, 'correction');
    assert.equal((item!.history.at(-1)!.changes as any).classification.to, '9-03');
    assert.equal((await classifierExampleModel(ctx.rt.db).findById(unsure).lean())!.label, '9-03');
  });

  it('refuses a correction that would move a numbered item to another class, and bad input, with clear codes', async () => {
    const moved = await http.fetch(`${http.base}/api/v1/items/${first}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ classification: { item: '6-04' } }) });
    assert.equal(moved.status, 409);
    assert.equal(((await moved.json()) as any).error.code, 'conflict');
    const badId = await http.fetch(`${http.base}/api/v1/items/${first}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ metadata: { persons: [{ name: '张伟', idNumber: '110105198703152319' }] } }) });
    assert.equal(badId.status, 400);
    const inject = await http.fetch(`${http.base}/api/v1/items/${first}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ $where: 'sleep(1000)' }) });
    assert.equal(inject.status, 400);
  });

  it('a person\'s file lists their items in order; the catalogue exports CSV and PDF', async () => {
    const res = (await (await http.fetch(`${http.base}/api/v1/persons/${zhang}/items`)).json()) as any;
    assert.deepEqual(res.items.map((i: any) => i.id), [first, second]);
    assert.equal(res.name, '张伟', 'whom the file is about, as its items name them');
    const csv = await (await http.fetch(`${http.base}/api/v1/catalogue?fonds=Z001&year=2019`)).text();
    const lines = csv.replace(/^\uFEFF/, '').trim().split(/\r\n/);
    assert.equal(lines[0], '序号,档号,文号,责任者,题名,日期,密级,页数,备注');
    assert.equal(lines.length, 3);
    assert.match(lines[1]!, /^1,Z001-SB·2019-D50-GS·DY02-0001,京人社工伤认字〔2019〕123号,北京市朝阳区星光科技有限公司,工伤认定决定书,20190520,,1,/);
    const pdf = Buffer.from(await (await http.fetch(`${http.base}/api/v1/catalogue?format=pdf`)).arrayBuffer());
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
    // The preview is paged on the server: one row a page here, 序号 counting on from the offset.
    const all = lines.slice(1).map((l) => l.split(',')[1]);
    const page2 = (await (await http.fetch(`${http.base}/api/v1/catalogue?fonds=Z001&year=2019&format=json&offset=1&limit=1`)).json()) as any;
    assert.equal(page2.total, 2);
    assert.deepEqual(page2.rows.map((r: any) => [r['序号'], r['档号']]), [[2, all[1]]]);
    const other = (await (await http.fetch(`${http.base}/api/v1/catalogue?fonds=Z001&year=2018&format=json`)).json()) as any;
    assert.deepEqual(other, { total: 0, rows: [] }, 'the year is the formation year');
  });

  it('a new schedule version yields a review list of affected items and changes nothing by itself', async () => {
    const data = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'retention-rules/rules/3hao-ling-2009.v2.json'), 'utf8'));
    data.version = 'v3';
    data.items.find((i: any) => i.id === '6-02').retention = 'D100';
    const r = await scheduleReviewList(ctx.rt, loadSchedule(data, 'v3-test'));
    assert.deepEqual(r.changes.map((c) => c.itemId), ['6-02']);
    assert.deepEqual(r.items.map((i) => i.itemId).sort(), [first, second].sort());
    assert.equal(r.items[0]!.before!.retention, 'D50');
    assert.equal(r.items[0]!.after!.retention, 'D100');
    const still = await itemModel(ctx.rt.db).findById(first).lean();
    assert.equal((still!.classification as any).retention, 'D50', 'past decisions are not silently changed');
  });

  it('the item view carries the 归档章 fields; a unit\'s file lists its items', async () => {
    const v = (await (await http.fetch(`${http.base}/api/v1/items/${first}`)).json()) as any;
    assert.deepEqual(v.archivalStamp, { fonds: 'Z001', year: '2019', piece: 1, org: 'GS·DY02', period: 'D50', pages: 1 });
  });

  it('archive show ID --json carries the contract fields', async () => {
    const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), 'show', first, '--json'], { env: { ...process.env, ...ctx.env } });
    const v = JSON.parse(stdout);
    assert.deepEqual(v.metadata.persons.map((p: any) => ({ name: p.name, idNumber: p.idNumber })), [{ name: '张伟', idNumber: zhang }]);
    assert.equal(v.metadata.units[0].name, '北京市朝阳区星光科技有限公司');
    assert.equal(v.metadata.documentDate, '2019-05-20');
    assert.equal(v.metadata.docNumber, '京人社工伤认字〔2019〕123号');
    for (const k of ['documentType', 'category', 'item', 'retention', 'confidence']) assert.ok(k in v.classification, k);
    assert.equal(v.archivalCode, 'Z001-SB·2019-D50-GS·DY02-0001');
  });

  it('archive correct sets the unit (责任者) and the 文号, and refuses an invalid credit code', async () => {
    const archive = (args: string[]) => run(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), ...args], { env: { ...process.env, ...ctx.env } });
    // OCR read one character of the unit wrong; the archivist types it, with its 统一社会信用代码.
    await archive(['correct', first, '--unit', '91110105MA01ABCD13:北京市朝阳区星光科技有限公司', '--unit', '北京星光工会委员会', '--doc-number', '京人社工伤认字〔2019〕124号', '--json']);
    const md = (await itemModel(ctx.rt.db).findById(first).lean())!.metadata as any;
    assert.deepEqual(md.units.map((u: any) => [u.creditCode, u.name]), [['91110105MA01ABCD13', '北京市朝阳区星光科技有限公司'], [null, '北京星光工会委员会']]);
    assert.equal(md.docNumber, '京人社工伤认字〔2019〕124号');
    const row = JSON.parse((await archive(['catalogue', '--json'])).stdout).rows.find((r: any) => r.档号 === 'Z001-SB·2019-D50-GS·DY02-0001');
    assert.equal(row.责任者, '北京市朝阳区星光科技有限公司');
    assert.equal(row.文号, '京人社工伤认字〔2019〕124号');
    // An empty --doc-number removes it; a code that fails its check character changes nothing.
    await archive(['correct', first, '--doc-number', '', '--json']);
    assert.equal(((await itemModel(ctx.rt.db).findById(first).lean())!.metadata as any).docNumber, null);
    const bad = await archive(['correct', first, '--unit', '91110105MA01ABCD1X:北京市朝阳区星光科技有限公司']).then(() => null, (e: { code: number; stderr: string }) => e);
    assert.ok(bad && bad.code !== 0, 'refused');
    assert.match(bad.stderr, /统一社会信用代码 91110105MA01ABCD1X 无效/);
    assert.equal(((await itemModel(ctx.rt.db).findById(first).lean())!.metadata as any).units.length, 2, 'nothing changed');
  });
});
