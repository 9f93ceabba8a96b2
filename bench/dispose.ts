/**
 * bench:dispose — destroy 10,000 items with their blobs through the real path (due list → round →
 * opinions → close → 清册 → sign-offs → 备案 → approval → two supervisors → runExecution →
 * confirmations → certificate), on the real FerretDB and MinIO, and count what is left.
 *
 *   npm run bench:dispose                   (BENCH_DISPOSE_ITEMS=2000 for a shorter run)
 *
 * Each item has five blobs (original scan, page image, page text, searchable PDF, a thumbnail under
 * the item's prefix) and is in the search index. items_per_s is the destruction run alone
 * (runExecution: recheck, register, shred, unindex, tombstone, done, with the audit entries).
 * remnants counts, over every destroyed item: blobs that still decrypt, search hits, item rows
 * that are not tombstones or still hold personal fields, open claims. Target: ≥ 50 items/s, 0.
 * Anchor: the same number of blobs crypto-shredded directly (storage only, same concurrency) on a
 * sample, so `vs_raw_shred` says how much of the path's time is the storage work itself.
 *   RESULT items_per_s=… remnants=… vs_raw_shred=… setup_s=… certificate_s=…
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Types } from 'mongoose';
import { itemModel, type ItemDoc } from '../src/models/item.model';
import { dispositionClaimModel } from '../src/models/disposition.model';
import { newOriginalKey, pageKeys } from '../src/services/records';
import { reindexAll, searchItems } from '../src/services/search';
import {
  closeRound,
  confirmExecution,
  createList,
  fileList,
  giveOpinions,
  openRound,
  runExecution,
  signList,
  startExecution,
  certificateFiles,
  verifyCertificate,
  agencyKey,
} from '../src/services/disposition';
import { openTestRuntime } from '../test/helpers/runtime';
import { actor } from '../test/helpers/disposition';

const N = Number(process.env.BENCH_DISPOSE_ITEMS ?? 10_000);
const CONCURRENCY = 32;
/** Items per chunk of the run (runExecution's batch). */
const CHUNK = Number(process.env.BENCH_DISPOSE_CHUNK ?? 128);
const log = (m: string) => process.stderr.write(`[bench:dispose] ${m}\n`);

async function pool<T>(xs: T[], n: number, fn: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < xs.length) {
      const i = next++;
      await fn(xs[i]!, i);
    }
  }));
}

async function main(): Promise<void> {
  const ctx = await openTestRuntime({ ARCHIVE_DISPOSAL_COOLING_DAYS: '0' });
  const rt = ctx.rt;
  try {
    const t0 = performance.now();
    // ——— the archive: N filed, due items with five blobs each, indexed ———
    const docs: Array<Record<string, unknown>> = [];
    const ids = Array.from({ length: N }, () => new Types.ObjectId());
    const keysOf = new Map<string, string[]>();
    await pool(ids, CONCURRENCY, async (oid, i) => {
      const id = String(oid);
      const orig = newOriginalKey();
      const put = await rt.storage.blobs.put(orig, Buffer.from(`scan ${i} ${randomUUID()} `.repeat(40)));
      const image = pageKeys.image(id, 1, 'png');
      const text = pageKeys.text(id, 1);
      const pdf = pageKeys.pdf(id);
      const thumb = `${pageKeys.prefix(id)}thumbs/1.jpg`;
      await rt.storage.blobs.put(image, Buffer.from(`image ${i} `.repeat(200)));
      await rt.storage.blobs.put(text, Buffer.from(JSON.stringify({ text: `失业保险金核定 第${i}号 销毁基准 dispobench`, confidence: 90, lines: [] })));
      await rt.storage.blobs.put(pdf, Buffer.from(`%PDF-1.4 ${i} `.repeat(100)));
      await rt.storage.blobs.put(thumb, Buffer.from(`thumb ${i}`));
      keysOf.set(id, [orig, image, text, pdf, thumb]);
      docs.push({
        _id: oid,
        fonds: 'Z001',
        source: 'bench',
        channel: 'api',
        status: 'filed',
        contentHash: `bench-${id}`,
        originals: [{ blobKey: orig, filename: `${i}.png`, format: 'png', size: put.size, sha256: put.sha256 }],
        pages: [{ n: 1, source: 0, imageKey: image, textKey: text }],
        pageCount: 1,
        pdfKey: pdf,
        title: `失业保险待遇核定表 第${i}号`,
        documentDate: `${2005 + (i % 5)}-06-01`,
        archivalCode: `Z001-SB·${2005 + (i % 5)}-D10-SY·DY-${String(i).padStart(5, '0')}`,
        archivalClass: `Z001-SB·${2005 + (i % 5)}-D10-SY·DY`,
        classification: { category: '5', item: '5-3', retention: 'D10', dueOn: `${2016 + (i % 5)}-01-01`, provisional: false },
      });
      if ((i + 1) % 1000 === 0) log(`stored ${i + 1}/${N} items' blobs`);
    });
    // Through create(), as the application writes items (the at-rest codec refuses insertMany).
    await pool(docs, CONCURRENCY, async (d) => void (await itemModel(rt.db).create(d)));
    const idx = await reindexAll(rt);
    log(`indexed ${idx.items} items`);
    const hitsBefore = (await searchItems(rt, { q: 'dispobench', limit: 1 })).total;
    const setupS = (performance.now() - t0) / 1000;
    log(`setup ${setupS.toFixed(1)} s; search hits before: ${hitsBefore}`);

    // ——— anchors: raw crypto-shred of the same number of blobs per item, on a sample ———
    // (a) one shred() per blob, as the path did before it shredded by chunks; (b) shredMany per
    // chunk of CHUNK items laid out as the items are (one original outside, four under a prefix).
    const sample = Math.min(100, N);
    const rawKeys = Array.from({ length: sample * 5 }, () => `anchor/${randomUUID()}`);
    const manyItems = Array.from({ length: sample }, () => {
      const id = randomUUID();
      return { prefix: `anchor-items/${id}/`, keys: [`anchor-originals/${id}`, ...[1, 2, 3, 4].map((n) => `anchor-items/${id}/${n}`)] };
    });
    await pool([...rawKeys, ...manyItems.flatMap((m) => m.keys)], CONCURRENCY, async (k) => void (await rt.storage.blobs.put(k, Buffer.from(`anchor ${k}`))));
    let ta = performance.now();
    await pool(rawKeys, CONCURRENCY * 5, async (k) => rt.storage.blobs.shred(k));
    const rawItemsPerS = sample / ((performance.now() - ta) / 1000);
    ta = performance.now();
    for (let i = 0; i < manyItems.length; i += CHUNK) {
      const part = manyItems.slice(i, i + CHUNK);
      await rt.storage.blobs.shredMany(part.flatMap((m) => m.keys), { prefixes: part.map((m) => m.prefix) });
    }
    const manyItemsPerS = sample / ((performance.now() - ta) / 1000);
    log(`anchors: raw shred ${rawItemsPerS.toFixed(1)} items/s, raw shredMany ${manyItemsPerS.toFixed(1)} items/s (5 blobs each, ${sample} items)`);

    // ——— the people ———
    // Accounts as the specs make them: a role, a TOTP secret and every fonds in scope (the due list is scoped).
    const mk = (username: string, role: string) => actor(rt, username, role);
    const co = await mk('bench.co', 'compliance_officer');
    const m1 = await mk('bench.m1', 'appraisal_member');
    const m2 = await mk('bench.m2', 'appraisal_member');
    const head = await mk('bench.head', 'agency_head');
    const s1 = await mk('bench.s1', 'disposal_supervisor');
    const s2 = await mk('bench.s2', 'disposal_supervisor');

    // ——— appraisal and approvals ———
    let t = performance.now();
    const round = await openRound(rt, co.p, { title: '基准鉴定', members: [{ username: 'bench.m1', capacity: 'archivist' }, { username: 'bench.m2', capacity: 'business_staff' }], due: { fonds: 'Z001', limit: N } });
    log(`round over ${round.itemCount} due items opened in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const allIds = ids.map(String);
    for (const m of [m1, m2]) await giveOpinions(rt, m.p, round.id, allIds.map((itemId) => ({ itemId, opinion: 'destroy' as const, reason: '保管期满，无查考价值' })));
    t = performance.now();
    await closeRound(rt, co.p, round.id);
    log(`round closed (report PDF over ${N} rows) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    const list = await createList(rt, co.p, { roundId: round.id });
    await signList(rt, m1.p, list.id, { step: 'appraisal', totp: await m1.code() });
    await signList(rt, m2.p, list.id, { step: 'appraisal', totp: await m2.code() });
    await fileList(rt, co.p, list.id, { date: '2026-12-01', reference: '人社档备〔2026〕99号' });
    await signList(rt, head.p, list.id, { step: 'head', totp: await head.code() });
    await startExecution(rt, s1.p, list.id, { supervisors: [{ username: 'bench.s1', totp: await s1.code() }, { username: 'bench.s2', totp: await s2.code() }] });

    // ——— destruction, timed (and where the time goes, by stage, from the progress reports: the leading chunk's stages; a chunk's unindex, tombstone and done overlap the next chunk and are not timed apart) ———
    t = performance.now();
    let lastLog = 0;
    const byStage = new Map<string, number>();
    let stageAt = t;
    let stage = '';
    const rep = await runExecution(rt, s1.p, list.id, {
      batch: CHUNK,
      onProgress: (p) => {
        const now = performance.now();
        if (stage) byStage.set(stage, (byStage.get(stage) ?? 0) + now - stageAt);
        stage = p.stage;
        stageAt = now;
        if (p.done - lastLog >= 1000 || p.done === p.total) {
          lastLog = p.done;
          log(`destroyed ${p.done}/${p.total} (${(p.done / ((now - t) / 1000)).toFixed(1)} items/s)`);
        }
      },
    });
    const execS = (performance.now() - t) / 1000;
    const itemsPerS = rep.destroyed / execS;
    log(`destroyed ${rep.destroyed}, skipped ${rep.skipped.length}, in ${execS.toFixed(1)} s; by stage (s): ${[...byStage].map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(', ')}`);

    // ——— remnants: anything of those items still readable ———
    let remnants = 0;
    await pool(allIds, CONCURRENCY * 4, async (id) => {
      for (const k of keysOf.get(id)!) if (await rt.storage.blobs.getBuffer(k).then(() => true, () => false)) remnants++;
    });
    const idSet = new Set(allIds);
    for await (const k of rt.storage.blobs.list('items/')) if (idSet.has(k.split('/')[1] ?? '')) remnants++;
    const hitsAfter = (await searchItems(rt, { q: 'dispobench', limit: 10 })).total;
    remnants += hitsAfter;
    const rows = await itemModel(rt.db).find({ _id: { $in: ids } }, { status: 1, metadata: 1, originals: 1, pages: 1, personIds: 1 }).lean<ItemDoc[]>();
    remnants += rows.filter((r) => r.status !== 'destroyed' || r.metadata !== null || r.originals.length || r.pages.length).length;
    remnants += await dispositionClaimModel(rt.db).countDocuments({ roundId: round.id });
    log(`remnants: ${remnants} (search hits after: ${hitsAfter})`);

    t = performance.now();
    await confirmExecution(rt, s1.p, list.id, { totp: await s1.code() });
    await confirmExecution(rt, s2.p, list.id, { totp: await s2.code() });
    const certS = (performance.now() - t) / 1000;
    const files = await certificateFiles(rt, list.id);
    const check = await verifyCertificate(files.pdf, files.p7s, { agencyCertPem: agencyKey(rt).certPem, rt });
    log(`certificate ${files.pdf.length} bytes in ${certS.toFixed(1)} s; verifies: ${check.ok} (${check.items} items)`);
    process.stdout.write(`RESULT items_per_s=${itemsPerS.toFixed(1)} remnants=${remnants} vs_raw_shred=${(itemsPerS / rawItemsPerS).toFixed(2)} vs_raw_shred_many=${(itemsPerS / manyItemsPerS).toFixed(2)} setup_s=${setupS.toFixed(0)} certificate_s=${certS.toFixed(1)} certificate_ok=${check.ok}\n`);
  } finally {
    await ctx.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
