import { randomUUID } from 'node:crypto';
import busboy from 'busboy';
import type { Context } from 'koa';
import { z } from 'zod';
import { AppError } from '../../errors';
import type { Runtime } from '../../runtime';
import {
  acceptQc,
  batchQcSummary,
  createItem,
  discardOriginals,
  fileTooLarge,
  hideBatch,
  itemTooLarge,
  listBatches,
  recordBatch,
  safeFilename,
  storeOriginal,
  type StoredOriginal,
} from '../../services/capture';
import { loadItem, presentItem, reviewNamesOnFile, type DossierRow } from '../../services/records';
import type { ItemDoc } from '../../models/item.model';
import { auditDenied, describeForAudit, mayAccess } from '../middleware/auth';
import { authorizeItem, ingestFonds, mayActOn, type Principal } from '../../services/access';
import { pageImage, pageText, pageThumbnail, watermarkedPdf } from '../../services/records';
import { separatorSheetsPdf, SeparatorDataSchema } from '../../services/capture';
import { enqueueCaptureCheck } from '../../services/integrity';
import { holdsOnItem } from '../../services/disposition';
import { defineRoute, type RouteDef } from '../route';
import { OBJECT_ID } from '../../domain/ids';

interface UploadOutcome {
  stored: StoredOriginal[];
  errors: Array<{ file: string; code: string; message: string; messageZh: string }>;
}

const inMb = (bytes: number) => `${Math.round((bytes / (1024 * 1024)) * 100) / 100} MB`;

function requestTooLarge(maxBytes: number): AppError {
  return new AppError('payload_too_large', {
    message: `This upload is larger than ${inMb(maxBytes)}, the limit for one request (UPLOAD_REQUEST_LIMIT_MB); nothing was stored. Send the files in several uploads.`,
    zh: `本次上传超过单次请求上限 ${inMb(maxBytes)}（UPLOAD_REQUEST_LIMIT_MB），未保存任何文件；请分多次上传`,
    details: { maxBytes, limit: 'request' },
  });
}

function tooManyFiles(maxFiles: number): AppError {
  return new AppError('payload_too_large', {
    message: `More than ${maxFiles} files in one upload (UPLOAD_MAX_FILES); nothing was stored. Send them in several uploads.`,
    zh: `单次上传的文件超过 ${maxFiles} 个（UPLOAD_MAX_FILES），未保存任何文件；请分多次上传`,
    details: { maxFiles, limit: 'files' },
  });
}

/**
 * Streams each uploaded file straight into the encrypted store as it arrives, counting bytes as
 * they come (issue #13.8): a file over the per-file limit is refused alone (nothing of it kept; the
 * files after it are judged on their own), while passing the request's total, the item's total
 * (when all files form one item) or the file count refuses the whole upload and removes what it
 * had stored.
 */
function receiveUpload(rt: Runtime, ctx: Context, opts: { oneItem: boolean }): Promise<UploadOutcome> {
  const type = ctx.get('content-type');
  if (!/^multipart\/form-data/i.test(type)) {
    throw new AppError('unsupported_media_type', { message: 'Send the scans as multipart/form-data', zh: '请以 multipart/form-data 方式上传扫描件' });
  }
  const lim = rt.config.intake;
  const totalLimit = Math.min(lim.requestBytes, opts.oneItem ? lim.itemBytes : Infinity);
  const overTotal = () => (opts.oneItem && lim.itemBytes <= lim.requestBytes ? itemTooLarge(lim.itemBytes) : requestTooLarge(lim.requestBytes));
  return new Promise((resolve, reject) => {
    const out: UploadOutcome = { stored: [], errors: [] };
    let chain = Promise.resolve();
    let total = 0;
    // Set once the whole upload is refused (or failed): later files are read and dropped.
    let refused: unknown = null;
    const bb = busboy({ headers: ctx.req.headers, limits: { files: lim.requestFiles, fields: 20 }, defParamCharset: 'utf8' });
    bb.on('filesLimit', () => {
      refused ??= tooManyFiles(lim.requestFiles);
    });
    bb.on('file', (_field, stream, info) => {
      const filename = safeFilename(info.filename ?? 'unnamed');
      chain = chain.then(async () => {
        if (refused) return void stream.resume();
        const left = totalLimit - total;
        let whole: AppError | null = null;
        const limit = left < lim.fileBytes ? { maxBytes: left, error: () => (whole = overTotal()) } : { maxBytes: lim.fileBytes, error: () => fileTooLarge(filename, lim.fileBytes) };
        try {
          const s = await storeOriginal(rt, { filename, body: stream }, limit);
          out.stored.push(s);
          total += s.size;
        } catch (err) {
          stream.resume();
          if (whole || !(err instanceof AppError) || err.code === 'internal_error') refused = whole ?? err;
          else out.errors.push({ file: filename, code: err.code, message: err.message, messageZh: err.zh });
        }
      });
    });
    bb.on('error', (err) => reject(new AppError('validation_failed', { message: `Malformed multipart body: ${(err as Error).message}`, zh: '上传内容格式不正确', cause: err })));
    bb.on('close', () => {
      void chain.then(async () => {
        if (!refused) return resolve(out);
        // Nothing partial: what this upload had stored goes.
        await discardOriginals(rt, out.stored);
        reject(refused);
      });
    });
    ctx.req.pipe(bb);
  });
}

/** Whether the caller may read an item listed in a person's or unit's file (its fonds and level). */
export const readableRow = (ctx: Context) => (row: Pick<DossierRow, 'fonds' | 'level'>) => mayAccess(ctx, 'item.read', { type: 'item', fonds: row.fonds, level: row.level });

export function itemRoutes(rt: Runtime): RouteDef[] {
  return [
    defineRoute({
      method: 'post',
      path: '/api/v1/ingest',
      permission: 'item.ingest',
      summary: 'Upload scans (JPEG, PNG, TIFF, PDF). All files form one item; split=files makes one item per file; split=stack splits a scanned stack at separator sheets. Returns at once with job ids.',
      tags: ['capture'],
      query: z.object({
        fonds: z.string().regex(/^[A-Z0-9]{1,8}$/, '全宗号: 1-8 capital letters or digits').optional(),
        split: z.enum(['item', 'files', 'stack']).default('item'),
        blankSeparators: z.enum(['0', '1']).default('0'),
      }),
      rawBody: { contentTypes: ['multipart/form-data'], description: 'one or more file parts' },
      responses: {
        202: {
          description: 'accepted: items created (or found, for scans already ingested) and jobs queued',
          schema: z.object({
            batchId: z.string(),
            items: z.array(z.object({ id: z.string(), jobId: z.string(), duplicate: z.boolean(), source: z.string(), files: z.number() })),
            errors: z.array(z.object({ file: z.string(), code: z.string(), message: z.string(), messageZh: z.string() })),
          }),
        },
      },
      handler: async (ctx, { query }) => {
        // The caller's fonds scope decides where they may ingest, before a byte is stored (#13.4).
        const principal = ctx.state.principal as Principal | undefined;
        let fonds = query.fonds ?? rt.config.fonds;
        if (principal) {
          try {
            fonds = ingestFonds(rt, principal, query.fonds);
          } catch (err) {
            if (err instanceof AppError && err.code === 'forbidden') auditDenied(ctx, 'item.ingest', err.details?.reason);
            throw err;
          }
        }
        const mayRead = principal ? (item: ItemDoc) => mayActOn(rt, principal, item) : undefined;
        const { stored, errors } = await receiveUpload(rt, ctx, { oneItem: query.split !== 'files' });
        if (query.split === 'item' && errors.length) {
          // One item is all or nothing.
          await discardOriginals(rt, stored);
          const first = errors[0]!;
          throw new AppError(first.code as never, { message: `${first.message}${errors.length > 1 ? ` (+${errors.length - 1} more)` : ''}`, zh: first.messageZh, details: { errors } });
        }
        if (!stored.length) {
          if (errors.length) throw new AppError(errors[0]!.code as never, { message: errors[0]!.message, zh: errors[0]!.messageZh, details: { errors } });
          throw new AppError('validation_failed', { message: 'No files in the upload', zh: '上传内容中没有文件' });
        }
        const groups = query.split === 'files' ? stored.map((s) => [s]) : [stored];
        const stack = query.split === 'stack' ? { blankSeparators: query.blankSeparators === '1' } : undefined;
        const items = [];
        const batchId = randomUUID();
        for (const g of groups) {
          const source = g.map((s) => s.filename).join(', ');
          try {
            const res = await createItem(rt, { fonds, source, channel: 'api', stack, mayRead, batchId }, g);
            items.push({ id: String(res.item._id), jobId: res.jobId, duplicate: res.duplicate, source, files: g.length });
          } catch (err) {
            // A duplicate of an item the caller may not read: said so, without the item's id.
            if (!(err instanceof AppError) || err.code !== 'duplicate_item' || groups.length === 1) throw err;
            errors.push({ file: source, code: err.code, message: err.message, messageZh: err.zh });
          }
        }
        // 四性检测 at capture, per batch (DA/T 70-2018 归档环节): runs once the batch's pipeline is done.
        await enqueueCaptureCheck(rt, items.filter((i) => !i.duplicate).map((i) => i.id)).catch((err: unknown) => rt.logger.warn({ err }, 'could not enqueue the capture 四性 check'));
        // The station's batch list lives on the server: the same person sees it on any browser or PC.
        if (items.length) {
          await recordBatch(rt, { id: batchId, actor: String(ctx.state.user?.username ?? 'api'), fonds, items: items.map((i) => i.id), earlier: items.filter((i) => i.duplicate).map((i) => i.id), rejected: errors, options: { split: query.split, blankSeparators: query.blankSeparators === '1' } });
        }
        describeForAudit(ctx, items.length === 1 ? { type: 'item', id: items[0]!.id } : null, { items: items.map((i) => i.id), rejected: errors.length, batchId });
        ctx.status = 202;
        ctx.body = { batchId, items, errors };
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/separators',
      permission: 'item.ingest',
      summary: 'Printable separator sheets (PDF, one QR sheet per entry) for batch scanning',
      tags: ['capture'],
      body: z.object({ sheets: z.array(SeparatorDataSchema).min(1).max(1000) }),
      responses: { 200: { description: 'PDF', contentType: 'application/pdf' } },
      handler: async (ctx, { body }) => {
        ctx.type = 'application/pdf';
        ctx.set('Content-Disposition', 'attachment; filename="separators.pdf"');
        ctx.body = Buffer.from(await separatorSheetsPdf(body.sheets));
      },
    }),
    defineRoute({
      method: 'post',
      path: '/api/v1/items/:id/qc/accept',
      permission: 'item.confirm',
      summary: 'Accept a scan held by quality control (DA/T 31-2017: below 200 dpi, unreadable page) with a reason; the item goes on to filing',
      tags: ['capture'],
      params: z.object({ id: z.string().regex(OBJECT_ID, 'must be an item id') }),
      body: z.strictObject({ reason: z.string().trim().min(2).max(500) }),
      responses: { 200: { description: 'the item, now processing' } },
      handler: async (ctx, { params, body }) => {
        await loadReadable(ctx, rt, params.id, 'item.confirm');
        describeForAudit(ctx, { type: 'item', id: params.id }, { qc: 'accepted', reason: body.reason });
        ctx.body = await presentItem(rt, await acceptQc(rt, params.id, { actor: String(ctx.state.user?.username ?? 'api') }, body.reason));
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/batches',
      permission: 'item.ingest',
      summary: "The caller's intake batches (scanning station), newest first: when, fonds, items, files refused; progress is read from the items",
      tags: ['capture'],
      query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      responses: { 200: { description: '{ batches }' } },
      handler: async (ctx, { query }) => {
        ctx.body = { batches: await listBatches(rt, String(ctx.state.user?.username ?? 'api'), { limit: query.limit }) };
      },
    }),
    defineRoute({
      method: 'delete',
      path: '/api/v1/batches/:id',
      permission: 'item.ingest',
      summary: "Take one of the caller's batches off their station's list (its items are not touched)",
      tags: ['capture'],
      params: z.object({ id: z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'must be a batch id') }),
      responses: { 204: { description: 'hidden' } },
      handler: async (ctx, { params }) => {
        await hideBatch(rt, String(ctx.state.user?.username ?? 'api'), params.id);
        describeForAudit(ctx, { type: 'batch', id: params.id });
        ctx.status = 204;
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/batches/:id/qc',
      permission: 'item.read',
      summary: 'QC summary of one intake batch: pages, scan resolution distribution, flags, held items, the pages a person should check',
      tags: ['capture'],
      params: z.object({ id: z.string().regex(/^[A-Za-z0-9-]{8,64}$/, 'must be a batch id') }),
      responses: { 200: { description: 'the summary' } },
      handler: async (ctx, { params }) => {
        describeForAudit(ctx, { type: 'batch', id: params.id });
        ctx.body = await batchQcSummary(rt, params.id);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/items/:id',
      permission: 'item.read',
      summary: 'One item: status, pages with quality data, flags, description, 档号; a failed item says why',
      tags: ['items'],
      params: z.object({ id: z.string().regex(OBJECT_ID, 'must be an item id') }),
      query: z.object({ text: z.enum(['0', '1']).default('0') }),
      responses: { 200: { description: 'the item' } },
      handler: async (ctx, { params, query }) => {
        const item = await loadReadable(ctx, rt, params.id);
        // Read through a 借阅 grant: the reader is told which, and until when (null: in their own right).
        const accessGrant = ctx.state.accessGrant ? { id: String(ctx.state.accessGrant), until: (ctx.state.accessGrantUntil as string | null) ?? null } : null;
        // 冻结: the active legal holds that cover the item now (it cannot be appraised, destroyed or edited).
        const legalHolds = (await holdsOnItem(rt, String(item._id))).map((h) => ({ id: h.id, name: h.name, kind: h.kind, placedAt: h.placedAt }));
        const view = await presentItem(rt, item, { withText: query.text === '1' });
        // In review, how each person's and unit's file (一人一档) names them, from items the caller
        // may read: OCR misreads a character of a name (窦 as 窒), and the reviewer can take the file's.
        ctx.body = { ...view, accessGrant, legalHolds, ...(await reviewNamesOnFile(rt, view, readableRow(ctx))) };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/items/:id/pages/:n/image',
      summary: 'A prepared page image, decrypted as it streams; honours a byte Range for large pages',
      tags: ['retrieval'],
      permission: 'item.read',
      params: PageParams,
      responses: { 200: { description: 'image', contentType: 'image/*' }, 206: { description: 'partial image', contentType: 'image/*' } },
      handler: async (ctx, { params }) => {
        const item = await loadReadable(ctx, rt, params.id);
        const img = await pageImage(rt, item, params.n, ctx.get('range') || undefined);
        ctx.set('Accept-Ranges', 'bytes');
        ctx.type = img.contentType;
        if (img.range) {
          ctx.status = 206;
          ctx.set('Content-Range', `bytes ${img.range.start}-${img.range.end}/${img.size}`);
          ctx.length = img.range.end - img.range.start + 1;
        } else ctx.length = img.size;
        ctx.body = img.stream;
        await auditRead(rt, ctx, 'item.view', params.id, { page: params.n });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/items/:id/pages/:n/thumbnail',
      summary: 'A small JPEG of the page for page lists',
      tags: ['retrieval'],
      permission: 'item.read',
      params: PageParams,
      responses: { 200: { description: 'thumbnail', contentType: 'image/jpeg' } },
      handler: async (ctx, { params }) => {
        ctx.type = 'image/jpeg';
        ctx.body = await pageThumbnail(rt, await loadReadable(ctx, rt, params.id), params.n);
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/items/:id/pages/:n/text',
      summary: 'The page\'s OCR text with line boxes (image pixels), so a viewer can highlight hits',
      tags: ['retrieval'],
      permission: 'item.read',
      params: PageParams,
      responses: { 200: { description: 'text and boxes' } },
      handler: async (ctx, { params }) => {
        ctx.body = await pageText(rt, await loadReadable(ctx, rt, params.id), params.n);
        await auditRead(rt, ctx, 'item.view', params.id, { page: params.n, text: true });
      },
    }),
    defineRoute({
      method: 'get',
      path: '/api/v1/items/:id/pdf',
      summary: 'The searchable PDF, stamped with a visible watermark naming who downloaded it and when; the download is audited',
      tags: ['retrieval'],
      permission: 'item.read',
      params: z.object({ id: z.string().regex(OBJECT_ID, 'must be an item id') }),
      responses: { 200: { description: 'PDF', contentType: 'application/pdf' } },
      handler: async (ctx, { params }) => {
        const item = await loadReadable(ctx, rt, params.id);
        const who = String(ctx.state.user?.username ?? 'anonymous');
        const at = new Date();
        const pdf = await watermarkedPdf(rt, item, who, at);
        ctx.type = 'application/pdf';
        ctx.set('Content-Disposition', `attachment; filename="${item.archivalCode ?? params.id}.pdf"`);
        ctx.body = Buffer.from(pdf);
        await auditRead(rt, ctx, 'item.download', params.id, { at: at.toISOString() });
      },
    }),
  ] as RouteDef[];
}

const PageParams = z.object({ id: z.string().regex(OBJECT_ID, 'must be an item id'), n: z.coerce.number().int().min(1).max(100_000) });

/** Loads an item and checks that the caller's scope (fonds) and clearance cover it. */
/**
 * The item a handler acts on, checked by access.authorizeItem (the check the CLI makes too); a
 * refusal is audited with the route. Bare test mounts without auth only load it.
 */
export async function loadReadable(ctx: Context, rt: Runtime, id: string, action = 'item.read'): Promise<ItemDoc> {
  const principal = ctx.state.principal as Principal | undefined;
  if (!principal) return loadItem(rt, id);
  try {
    const { item, grant, grantUntil } = await authorizeItem(rt, principal, id, action);
    describeForAudit(ctx, { type: 'item', id: String(item._id) }, grant ? { accessGrant: grant } : {});
    if (grant) {
      ctx.state.accessGrant = grant;
      ctx.state.accessGrantUntil = grantUntil ?? null;
    }
    return item;
  } catch (err) {
    describeForAudit(ctx, { type: 'item', id });
    if (err instanceof AppError && err.code === 'forbidden') auditDenied(ctx, action, err.details?.reason);
    throw err;
  }
}

/** Views and downloads are 利用 events: each is recorded in the audit trail. */
async function auditRead(rt: Runtime, ctx: Context, action: string, id: string, details: Record<string, unknown>): Promise<void> {
  const grant = ctx.state.accessGrant as string | undefined;
  await rt.audit?.record({ actor: String(ctx.state.user?.username ?? 'anonymous'), ip: ctx.ip, action, object: { type: 'item', id }, outcome: 'success', details: grant ? { ...details, accessGrant: grant } : details });
}
