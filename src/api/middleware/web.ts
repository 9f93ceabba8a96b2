/**
 * Serves the web workplace (built by Vite from web/ into web/dist: scripts/build-web.sh) at / and
 * /assets/*. The files are read once at start. The UI's own bundled code is the only script allowed
 * to run on its pages, and only its own stylesheets apply: Vue and Element Plus set styles through
 * the CSSOM (element.style), which style-src does not govern, so no 'unsafe-inline' is needed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Middleware } from 'koa';
import { REPO_ROOT } from '../../config';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
};
export const CSP = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function walk(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(dir, path.join(rel, e.name)) : [path.join(rel, e.name)]));
}

export function webUi(dir = path.join(REPO_ROOT, 'web', 'dist')): Middleware {
  const files = new Map<string, { type: string; body: Buffer; hashed: boolean }>();
  if (fs.existsSync(dir)) {
    for (const name of walk(dir)) {
      const type = TYPES[path.extname(name)];
      if (type) files.set(`/${name.split(path.sep).join('/')}`, { type, body: fs.readFileSync(path.join(dir, name)), hashed: name.startsWith(`assets${path.sep}`) });
    }
  }
  const missing = Buffer.from('<!doctype html><meta charset="utf-8"><title>社保业务电子档案</title><p>界面尚未构建：请运行 <code>npm run build:web</code>（npm start 会自动构建）。</p><p>The web UI is not built: run <code>npm run build:web</code> (npm start builds it).</p>');
  return async (ctx, next) => {
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    const f = files.get(ctx.path === '/' ? '/index.html' : ctx.path);
    if (!f) {
      if (ctx.path !== '/') return next();
      ctx.set('Content-Security-Policy', CSP);
      ctx.status = 503;
      ctx.type = 'text/html; charset=utf-8';
      ctx.body = missing;
      return;
    }
    ctx.set('Content-Security-Policy', CSP);
    // File names under assets/ carry a content hash: they never change, so browsers may keep them.
    if (f.hashed) ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
    ctx.type = f.type;
    ctx.body = f.body;
  };
}
