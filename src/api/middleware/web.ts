/**
 * Serves the caseworker's web UI (web/: plain files, no build step) at / and /web/*. The files are
 * read once at start. The UI's own code is the only script allowed to run on its pages.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Middleware } from 'koa';
import { REPO_ROOT } from '../../config';

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const CSP = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export function webUi(dir = path.join(REPO_ROOT, 'web')): Middleware {
  const files = new Map<string, { type: string; body: Buffer }>();
  if (fs.existsSync(dir)) {
    for (const name of fs.readdirSync(dir)) {
      const type = TYPES[path.extname(name)];
      if (type) files.set(`/web/${name}`, { type, body: fs.readFileSync(path.join(dir, name)) });
    }
  }
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const f = files.get(ctx.path === '/' ? '/web/index.html' : ctx.path);
    if (!f) return next();
    ctx.set('Content-Security-Policy', CSP);
    ctx.type = f.type;
    ctx.body = f.body;
  };
}
