import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { idCheckDigit } from '../../src/domain/id-number';
import { creditCodeCheckChar } from '../../src/domain/credit-code';
import { openTestRuntime, serveTestApp, signedInUsers, type TestApp } from '../helpers/runtime';
import { buildItemId } from '../helpers/factories';
import { REPO_ROOT } from '../helpers/services';

const PASSWORD = 'Correct-Horse-42';
const ID17 = '11010519750505456';
const ID = ID17 + idCheckDigit(ID17);
const U = '91370203MA3C8K7Q1' + creditCodeCheckChar('91370203MA3C8K7Q1');
const person = (name: string, unit: string) => ({ metadata: { persons: [{ name, idNumber: ID, evidence: [] }], units: [{ name: unit, creditCode: U, evidence: [] }] }, personIds: [ID], unitCodes: [U] });

describe('review: the name a person\'s or unit\'s file (一人一档) gives, beside the name OCR read', function () {
  this.timeout(60_000);
  let ctx: Awaited<ReturnType<typeof openTestRuntime>>;
  let app: TestApp;
  let token: Record<string, string>;
  let inReview = '';
  let filed = '';

  before(async () => {
    ctx = await openTestRuntime();
    const rt = ctx.rt;
    app = await serveTestApp(rt);
    token = await signedInUsers(rt, app.base, [['arch.z001', 'archivist', ['Z001', 'Z009']], ['arch.z002', 'archivist', ['Z002', 'Z009']]], PASSWORD);
    // The person's registration, filed in Z001, and a later scan of theirs whose name OCR misread.
    filed = await buildItemId(rt, { ...person('窦静', '青岛海湾船舶配件厂'), title: '参保人员基本信息登记表', documentDate: '2012-04-24' });
    inReview = await buildItemId(rt, { ...person('窒静', '青岛海湾船舶配件三'), status: 'review', fonds: 'Z009', title: '参保人员基本信息登记表', documentDate: '2022-05-19' });
  });
  after(async () => {
    await app?.close();
    await ctx?.close();
  });

  const item = async (id: string, who: string) => (await (await fetch(`${app.base}/api/v1/items/${id}`, { headers: { authorization: `Bearer ${token[who]}` } })).json()) as any;

  it('an item in review carries how the person\'s other items name them', async () => {
    const body = await item(inReview, 'arch.z001');
    assert.equal(body.metadata.persons[0].name, '窒静');
    assert.deepEqual(body.namesOnFile, [{ idNumber: ID, name: '窦静' }]);
    assert.deepEqual(body.unitNamesOnFile, [{ creditCode: U, name: '青岛海湾船舶配件厂' }], 'and how the unit\'s file names it');
  });

  it('only from items the reviewer may read, and only in review', async () => {
    const outside = await item(inReview, 'arch.z002');
    assert.deepEqual([outside.namesOnFile, outside.unitNamesOnFile], [[], []], 'the registration is in a fonds outside their scope');
    const done = await item(filed, 'arch.z001');
    assert.deepEqual([done.namesOnFile, done.unitNamesOnFile], [[], []], 'a filed item is not being reviewed');
  });

  it('archive show says the same, with the command that takes the file\'s name', async () => {
    const show = async (...args: string[]) => (await promisify(execFile)(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), 'show', ...args], { env: { ...process.env, ...ctx.env } })).stdout;
    const text = await show(inReview);
    assert.match(text, new RegExp(`档案中的姓名 name on file: ${ID} 窦静（本件识别为 read here as 窒静）`));
    assert.match(text, new RegExp(`单位档案中的名称 unit name on file: ${U} 青岛海湾船舶配件厂（本件识别为 read here as 青岛海湾船舶配件三）`));
    assert.match(text, new RegExp(`采用 take it: archive correct ${inReview} --person ${ID}:窦静 --unit ${U}:青岛海湾船舶配件厂\\n`));
    const json = JSON.parse(await show(inReview, '--json'));
    assert.deepEqual([json.namesOnFile, json.unitNamesOnFile], [[{ idNumber: ID, name: '窦静' }], [{ creditCode: U, name: '青岛海湾船舶配件厂' }]]);
    const filedText = await show(filed);
    assert.doesNotMatch(filedText, /档案中的姓名/, 'a filed item is not being reviewed');
    assert.match(filedText, /窦静/, 'its own name is still shown');
  });
});
