/**
 * What sealing items at rest costs (issue #5, docs/SECURITY.md): N items with a realistic
 * description (3 persons with evidence, 2 units, history) are created through the model (sealed),
 * read back by _id through the model (opened) and through the raw driver (no mongoose, no codec),
 * and looked up by ID number through the blind index. Also the codec alone, in process.
 *
 *   bash scripts/with-services.sh node --import tsx bench/items-seal.ts
 *   RESULT create_ms=… read_model_ms=… read_raw_ms=… dossier_ms=… codec_us=…
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { idCheckDigit } from '../src/domain/id-number';
import { deriveItemKeys, openValue, sealValue } from '../src/models/item-codec';
import { itemModel } from '../src/models/item.model';
import { openTestRuntime } from '../test/helpers/runtime';

const N = Number(process.env.BENCH_SEAL_ITEMS ?? 1000);

function idn(i: number): string {
  const body = `110105${1950 + (i % 50)}0${1 + (i % 9)}1${i % 10}${String(i % 1000).padStart(3, '0')}`;
  return body + idCheckDigit(body);
}

function metadata(i: number) {
  const ev = (page: number) => ({ page, start: 10, end: 28, bbox: { x0: 100, y0: 200, x1: 900, y1: 240 }, confidence: 0.91, raw: '公民身份号码：' + idn(i) });
  return {
    title: '参保人员基本养老保险待遇核定表',
    persons: [0, 1, 2].map((k) => ({ name: `张${'伟芳娜'[k]}${i}`, idNumber: idn(i + k * 100_000), evidence: [ev(1), ev(2)] })),
    clerks: [{ name: '李经办', label: '经办人', evidence: ev(1) }],
    units: [{ name: '北京市朝阳区星光科技有限公司', creditCode: '91110105MA01ABCD1X', evidence: [ev(1)] }, { name: '朝阳区社会保险事业管理中心', creditCode: null, evidence: [ev(2)] }],
    documentDate: '2019-05-20',
    documentDateEvidence: ev(2),
    docNumber: '京人社养字〔2019〕12号',
    amounts: [{ value: 3521.5, evidence: ev(2) }],
    insuranceTypes: ['养老保险'],
  };
}

async function main(): Promise<void> {
  const ctx = await openTestRuntime();
  const items = itemModel(ctx.rt.db);
  try {
    const ids = [];
    let t = performance.now();
    for (let i = 0; i < N; i++) {
      const md = metadata(i);
      const doc = await items.create({
        fonds: 'Z001', source: `bench-${i}`, channel: 'cli', status: 'filed', contentHash: `seal-${i}`, originals: [], metadata: md,
        personIds: md.persons.map((p) => p.idNumber), title: md.title, documentDate: md.documentDate,
        history: [{ at: new Date(), actor: 'archivist', kind: 'correction', changes: { persons: { from: [], to: md.persons.map((p) => ({ name: p.name, idNumber: p.idNumber })) } } }],
      });
      ids.push(doc._id);
    }
    const createMs = (performance.now() - t) / N;

    t = performance.now();
    for (const _id of ids) await items.findById(_id).lean();
    const readModelMs = (performance.now() - t) / N;
    const raw = ctx.rt.db.collection('items');
    t = performance.now();
    for (const _id of ids) await raw.findOne({ _id });
    const readRawMs = (performance.now() - t) / N;

    const LOOKUPS = 50;
    t = performance.now();
    for (let i = 0; i < LOOKUPS; i++) {
      const found = await items.find({ personIds: idn(i * 7 % N) }).lean();
      if (found.length !== 1) throw new Error(`blind lookup of ${idn(i * 7 % N)} found ${found.length}`);
    }
    const dossierMs = (performance.now() - t) / LOOKUPS;

    const keys = deriveItemKeys(randomBytes(32));
    const md = metadata(1);
    const ROUNDS = 20_000;
    t = performance.now();
    for (let i = 0; i < ROUNDS; i++) openValue(keys, 'x', 'metadata', sealValue(keys, 'x', 'metadata', md));
    const codecUs = ((performance.now() - t) / ROUNDS) * 1000;

    const f = (x: number) => x.toFixed(x < 10 ? 3 : 1);
    console.log(`items=${N} (metadata ${JSON.stringify(md).length} bytes of JSON each)`);
    console.log(`create through the model (sealed): ${f(createMs)} ms/item`);
    console.log(`read by _id through the model (opened): ${f(readModelMs)} ms/item; raw driver, no codec: ${f(readRawMs)} ms/item`);
    console.log(`lookup by ID number (blind index, collection of ${N}): ${f(dossierMs)} ms`);
    console.log(`codec alone, seal + open of one metadata: ${f(codecUs)} µs`);
    console.log(`RESULT create_ms=${f(createMs)} read_model_ms=${f(readModelMs)} read_raw_ms=${f(readRawMs)} dossier_ms=${f(dossierMs)} codec_us=${f(codecUs)}`);
  } finally {
    await ctx.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
