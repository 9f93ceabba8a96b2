import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import raw from '../../../retention-rules/rules/3hao-ling-2009.v2.json';
import { loadSchedule } from '../../../retention-rules';
import { archivalNumberModel } from '../../../src/models/archival-number.model';
import { itemModel } from '../../../src/models/item.model';
import { applySchedule, checkNumbering, correctItem, fileItem } from '../../../src/services/filing';
import { ocredItem } from '../../helpers/filing';
import { openTestRuntime, serveTestApp, signedInUsers } from '../../helpers/runtime';
import { REPO_ROOT } from '../../helpers/services';

const run = promisify(execFile);
const PASSWORD = 'Correct-Horse-42';
const INJURY = (date: string) => ['工伤认定决定书', '用人单位：北京市朝阳区星光科技有限公司', '经调查核实，认定为工伤。', `决定日期：${date}`];

// Issue #11 §1, with the real FerretDB + MinIO. The runtime pins v1 so that v2 can be applied.
describe('schedule fixes: accounting kinds, formation date, versions applied, 档号 withdrawal', function () {
  this.timeout(90_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let http: Awaited<ReturnType<typeof serveTestApp>>;
  let token: Record<string, string>;
  const call = async (who: string, method: string, url: string, body?: unknown) => {
    const res = await fetch(`${http.base}${url}`, { method, headers: { authorization: `Bearer ${token[who]}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as any };
  };

  before(async () => {
    ctx = await openTestRuntime({ ARCHIVE_SCHEDULE_VERSION: '3hao-ling-2009.v1' });
    http = await serveTestApp(ctx.rt);
    token = await signedInUsers(ctx.rt, http.base, [['sa.arch', 'archivist'], ['sa.case', 'caseworker'], ['sa.comp', 'compliance_officer']], PASSWORD);
  });
  after(async () => {
    await http?.close();
    await ctx?.close();
  });

  it('a voucher that mentions 季度 keeps the voucher period (30 years, not 10) and goes to review', async () => {
    const id = await ocredItem(ctx.rt, 'kj', [['医疗保险付款凭证', '2018年第三季度 记账凭证 第12号', '付款日期：2018年9月30日']]);
    const it = await fileItem(ctx.rt, id);
    const cls = it.classification as any;
    assert.equal(cls.item, '4-05');
    assert.deepEqual([cls.accountingRuleId, cls.retention], ['voucher', 'D30']);
    assert.equal(it.status, 'review');
    assert.match(cls.reason, /sub-rule is unclear/);
    assert.equal(cls.provisional, true, 'KJ sub-rules are not confirmed: provisional');
  });

  it('no formation date → review without a number; the scan date never stands in; the archivist supplies it', async () => {
    const id = await ocredItem(ctx.rt, 'nodate', [['工伤认定决定书', '用人单位：北京市朝阳区星光科技有限公司', '经调查核实，认定为工伤。']]);
    const it = await fileItem(ctx.rt, id);
    assert.equal(it.status, 'review');
    assert.equal(it.archivalCode, null);
    const cls = it.classification as any;
    assert.equal(cls.dueOn, null);
    assert.match(cls.reason, /formation date/);
    await assert.rejects(correctItem(ctx.rt, id, { confirm: true }, 'sa.arch'), (e: any) => e.code === 'validation_failed' && e.details.field === 'metadata.documentDate');
    const done = await correctItem(ctx.rt, id, { confirm: true, metadata: { documentDate: '2016-04-02' } }, 'sa.arch');
    assert.match(done.archivalCode!, /^Z001-SB·2016-D50-/, '年度 is the formation year');
    assert.equal((done.classification as any).dueOn, '2067-01-01');
  });

  let numbered: string;
  let oldCode: string;
  let oldClass: string;
  it('an archivist withdraws a 档号 with a reason: register entry, item back in review, caseworker refused', async () => {
    numbered = await ocredItem(ctx.rt, 'w1', [INJURY('2019年5月20日')]);
    const filed = await fileItem(ctx.rt, numbered);
    oldCode = filed.archivalCode!;
    oldClass = filed.archivalClass!;
    assert.match(oldCode, /-0001$/);
    const refused = await call('sa.case', 'POST', `/api/v1/items/${numbered}/number/withdraw`, { reason: '分类错误' });
    assert.equal(refused.status, 403);
    const noReason = await call('sa.arch', 'POST', `/api/v1/items/${numbered}/number/withdraw`, {});
    assert.equal(noReason.status, 400);
    const ok = await call('sa.arch', 'POST', `/api/v1/items/${numbered}/number/withdraw`, { reason: '分类错误，应为伤残待遇核定材料' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.item.status, 'review');
    assert.equal(ok.body.item.archivalCode, null);
    assert.deepEqual([ok.body.withdrawal.archivalCode, ok.body.withdrawal.actor, ok.body.withdrawal.reason], [oldCode, 'sa.arch', '分类错误，应为伤残待遇核定材料']);
    const again = await call('sa.arch', 'POST', `/api/v1/items/${numbered}/number/withdraw`, { reason: '再次撤销' });
    assert.equal(again.status, 409);
    const reg = await call('sa.arch', 'GET', `/api/v1/number-withdrawals?itemId=${numbered}`);
    assert.deepEqual(reg.body.entries.map((e: any) => e.archivalCode), [oldCode]);
    await ctx.rt.audit.flush();
    const trail = await ctx.rt.audit.list({ action: 'number.withdraw', objectId: numbered });
    // The request (refusals included) and the service's own entry naming the number and reason.
    assert.equal(trail.filter((e: any) => e.details?.archivalCode === oldCode && e.details?.reason && e.outcome === 'success').length >= 1, true, JSON.stringify(trail));
  });

  it('the withdrawn item is re-classified and numbered again; its old number is never issued again', async () => {
    const moved = await call('sa.arch', 'PATCH', `/api/v1/items/${numbered}`, { classification: { item: '6-04' } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.match(moved.body.archivalCode, /^Z001-SB·2019-D50-GS·DY04-0001$/);
    const next = await ocredItem(ctx.rt, 'w2', [INJURY('2019年8月1日')]);
    const n = await fileItem(ctx.rt, next);
    assert.equal(n.archivalClass, oldClass);
    assert.match(n.archivalCode!, /-0002$/, 'the withdrawn 0001 is a 空号, not reissued');
    const check = await checkNumbering(ctx.rt.db, oldClass);
    assert.deepEqual([check.gaps, check.withdrawn, check.duplicates], [[], [1], []]);
    const row = await archivalNumberModel(ctx.rt.db).findOne({ classKey: oldClass, seq: 1 }).lean();
    assert.match(row!.itemId, /^withdrawn:1:/);
  });

  it('applying v2 makes items under [P] rows provisional, records the version, and a second run changes nothing', async () => {
    const tail = await ocredItem(ctx.rt, 'p', [['养老保险支付明细表', '2015年度', '制表日期：2015年12月31日']]);
    const filed = await fileItem(ctx.rt, tail);
    assert.equal((filed.classification as any).item, '3-T2');
    await itemModel(ctx.rt.db).updateOne({ _id: filed._id }, { $set: { 'classification.provisional': false } }); // as filed before the fix
    const forbidden = await call('sa.arch', 'POST', '/api/v1/schedule/apply', { version: '3hao-ling-2009.v2' });
    assert.equal(forbidden.status, 403);
    const dry = await call('sa.comp', 'POST', '/api/v1/schedule/apply', { version: '3hao-ling-2009.v2', dryRun: true });
    assert.equal(dry.status, 200, JSON.stringify(dry.body));
    assert.ok(dry.body.changes.some((c: any) => c.itemId === tail && c.to.provisional === true));
    assert.equal(((await itemModel(ctx.rt.db).findById(tail).lean())!.classification as any).provisional, false, 'a dry run changes nothing');
    const res = await call('sa.comp', 'POST', '/api/v1/schedule/apply', { version: '3hao-ling-2009.v2' });
    assert.equal(res.status, 200);
    const after = (await itemModel(ctx.rt.db).findById(tail).lean())!;
    assert.deepEqual([(after.classification as any).provisional, (after.classification as any).scheduleVersion], [true, '3hao-ling-2009.v2']);
    const h = after.history.at(-1)!;
    assert.equal(h.kind, 'schedule_applied');
    assert.deepEqual((h.changes as any).scheduleVersion, { from: '3hao-ling-2009.v1', to: '3hao-ling-2009.v2' });
    assert.equal(after.archivalCode, filed.archivalCode, 'same period code: the 档号 stays');
    const second = await call('sa.comp', 'POST', '/api/v1/schedule/apply', { version: '3hao-ling-2009.v2' });
    assert.equal(second.body.changes.length, 0);
  });

  it('a version that shortens a period: a person\'s decision goes to review, a system proposal is renumbered with the version recorded', async () => {
    const f = structuredClone(raw) as any;
    f.version = 'v3';
    f.items.find((i: any) => i.id === '6-02').retention = 'D30';
    const v3 = loadSchedule(f, 'v3-test');
    const sys = await ocredItem(ctx.rt, 's', [INJURY('2020年3月3日')]);
    const sysFiled = await fileItem(ctx.rt, sys);
    const person = await ocredItem(ctx.rt, 'h', [INJURY('2020年4月4日')]);
    await fileItem(ctx.rt, person);
    await correctItem(ctx.rt, person, { confirm: true }, 'sa.arch');
    const r = await applySchedule(ctx.rt, v3, { actor: 'sa.comp' });
    const byId = Object.fromEntries(r.changes.map((c) => [c.itemId, c]));
    assert.equal(byId[person]!.outcome, 'review_shorter');
    assert.equal(byId[sys]!.outcome, 'renumbered');
    const p = (await itemModel(ctx.rt.db).findById(person).lean())!;
    assert.deepEqual([p.status, (p.classification as any).retention, (p.classification as any).pendingSchedule.retention], ['review', 'D50', 'D30']);
    const s = (await itemModel(ctx.rt.db).findById(sys).lean())!;
    assert.equal((s.classification as any).retention, 'D30');
    assert.match(s.archivalCode!, /^Z001-SB·2020-D30-/);
    const reg = await call('sa.arch', 'GET', `/api/v1/number-withdrawals?itemId=${sys}`);
    assert.deepEqual(reg.body.entries.map((e: any) => [e.archivalCode, e.scheduleVersion]), [[sysFiled.archivalCode, '3hao-ling-2009.v3']]);
  });

  it('the CLI: schedule versions, number register, withdraw refused without a reason', async () => {
    const cli = (args: string[]) => run(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), ...args], { env: { ...process.env, ...ctx.env } });
    const v = JSON.parse((await cli(['schedule', 'versions', '--json'])).stdout);
    assert.equal(v.inForce, '3hao-ling-2009.v1');
    assert.deepEqual(v.versions.map((x: any) => x.version), ['3hao-ling-2009.v1', '3hao-ling-2009.v2']);
    const reg = JSON.parse((await cli(['number', 'register', '--json'])).stdout);
    assert.ok(reg.entries.length >= 2);
    await assert.rejects(cli(['number', 'withdraw', numbered, '--json']), (e: any) => /reason/.test(e.stdout + e.stderr));
  });
});
