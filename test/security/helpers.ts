/**
 * Shared by the security regression specs (issue #13): a runtime with the app served with auth,
 * accounts, filed items whose page text sits encrypted in the blob store, and the real `archive`
 * command line run as a child process (black box).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { itemModel } from '../../src/models/item.model';
import type { Runtime } from '../../src/runtime';
import { openTestRuntime, serveTestApp, signIn } from '../helpers/runtime';
import { REPO_ROOT } from '../helpers/services';

const execFileP = promisify(execFile);

export const PASSWORD = 'Correct-Horse-42';

export interface SecurityContext {
  rt: Runtime;
  env: Record<string, string>;
  base: string;
  tokens: Record<string, string>;
  close: () => Promise<void>;
}

/** An account: [username, roles, fonds scope ('*' when omitted), clearance ('sensitive' when omitted)]. */
export type Account = [string, string[], string[]?, string?];

export async function securityContext(accounts: Account[], extraEnv: Record<string, string> = {}): Promise<SecurityContext> {
  const ctx = await openTestRuntime(extraEnv);
  const app = await serveTestApp(ctx.rt);
  const tokens: Record<string, string> = {};
  for (const [username, roles, fonds, clearance] of accounts) {
    await ctx.rt.auth.createUser({ username, roles, password: PASSWORD, clearance: clearance ?? 'sensitive', scope: { fonds: fonds ?? '*' } });
    tokens[username] = await signIn(app.base, username, PASSWORD);
  }
  return {
    rt: ctx.rt,
    env: ctx.env,
    base: app.base,
    tokens,
    close: async () => {
      await app.close();
      await ctx.close();
    },
  };
}

/** A request as the account, JSON in and out. */
export async function api(c: SecurityContext, who: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(`${c.base}${p}`, {
    method,
    headers: { authorization: `Bearer ${c.tokens[who]}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON (CSV, PDF)
  }
  return { status: res.status, json, text };
}

/** Uploads files (multipart) as the account. */
export async function upload(c: SecurityContext, who: string, query: string, files: Array<{ name: string; data: Buffer }>): Promise<{ status: number; json: any }> {
  const form = new FormData();
  for (const f of files) form.append('file', new Blob([new Uint8Array(f.data)]), f.name);
  const res = await fetch(`${c.base}/api/v1/ingest${query}`, { method: 'POST', headers: { authorization: `Bearer ${c.tokens[who]}` }, body: form });
  return { status: res.status, json: await res.json().catch(() => null) };
}

/** The real command line, in a child process, against the context's database and store. */
export async function cli(c: SecurityContext, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [path.join(REPO_ROOT, 'bin/archive.js'), ...args], { env: { ...process.env, ...c.env }, maxBuffer: 16 << 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** A small, distinct PNG (the seed changes its pixels, so its content hash). */
export async function pngScan(seed: number): Promise<Buffer> {
  return sharp({ create: { width: 40 + (seed % 50), height: 30, channels: 3, background: { r: 255, g: 255 - (seed % 200), b: 255 } } })
    .png()
    .toBuffer();
}

export interface FiledItemSpec {
  fonds: string;
  pages: string[];
  status?: 'filed' | 'review';
  title?: string;
  persons?: Array<{ name: string | null; idNumber: string | null }>;
  metadata?: Record<string, unknown>;
}

/** A filed (or review) item whose page text sits encrypted in the blob store, as capture leaves it. */
export async function fileItem(rt: Runtime, spec: FiledItemSpec): Promise<string> {
  const items = itemModel(rt.db);
  const id = new items.base.Types.ObjectId();
  const pages = [];
  for (const [i, text] of spec.pages.entries()) {
    const key = `items/${id}/text/${i + 1}.json`;
    await rt.storage.blobs.put(key, Buffer.from(JSON.stringify({ text, confidence: 90, lines: [] })), { contentType: 'application/json' });
    pages.push({ n: i + 1, source: 0, textKey: key, imageKey: `items/${id}/pages/${i + 1}.png` });
  }
  const title = spec.title ?? '参保人员基本养老保险待遇核定表';
  const persons = spec.persons ?? [];
  await items.create({
    _id: id,
    fonds: spec.fonds,
    source: 'test',
    channel: 'api',
    status: spec.status ?? 'filed',
    contentHash: String(id),
    pages,
    pageCount: pages.length,
    title,
    documentDate: '2021-03-04',
    metadata: { title, persons: persons.map((p) => ({ ...p, evidence: [] })), units: [], insuranceTypes: [], documentDate: '2021-03-04', ...spec.metadata },
    classification: { item: '1-02', documentType: '参保登记表', category: '1', retention: 'D100' },
    personIds: persons.map((p) => p.idNumber).filter((x): x is string => !!x),
  });
  return String(id);
}
