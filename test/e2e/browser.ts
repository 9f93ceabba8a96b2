/**
 * Shared by the web workplace's end-to-end specs: the UI built once (scripts/build-web.sh, a no-op
 * when the build is current), Debian's Chromium driven by playwright-core, pages that collect
 * every script error, failed request and Content-Security-Policy violation, screenshots under
 * test/.out/ui (git-ignored), and signing in through the sign-in form.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { REPO_ROOT } from '../helpers/services';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SHOTS = process.env.WEB_SCREENSHOTS ?? path.join(REPO_ROOT, 'test/.out/ui');

export function buildWebOnce(): void {
  execFileSync('bash', [path.join(REPO_ROOT, 'scripts/build-web.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  assert.ok(fs.existsSync(path.join(REPO_ROOT, 'web/dist/index.html')), 'the web UI was built');
}

export async function launch(): Promise<Browser> {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium is not installed at ${CHROMIUM}: run bash scripts/system-deps.sh browser`);
  buildWebOnce();
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

export interface WatchedPage {
  page: Page;
  /** Script errors, CSP violations and unexpected failed requests seen so far. */
  problems: string[];
}

const DESKTOP = { viewport: { width: 1440, height: 900 }, locale: 'zh-CN' };

/** A browser context (one person's own cookie jar: signed in once, its pages share the session) at a desktop size. */
export async function openContext(browser: Browser): Promise<BrowserContext> {
  return browser.newContext(DESKTOP);
}

/**
 * A page at a desktop size that records what went wrong; `expected` statuses are the UI working as
 * meant. On a browser, the page has a context (cookies) of its own; on a context, it shares that one's.
 */
export async function openPage(on: Browser | BrowserContext, opts: { expected?: RegExp } = {}): Promise<WatchedPage> {
  const page = 'newContext' in on ? await on.newPage(DESKTOP) : await on.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    // The browser logs every non-2xx answer; a 401 before signing in, and what the spec expects, are fine.
    if (m.type() === 'error' && !/status of 401/.test(text) && !(opts.expected && opts.expected.test(text))) problems.push(`console: ${text}`);
  });
  return { page, problems };
}

export async function shot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SHOTS, { recursive: true });
  // A confirmation box that was just answered fades out over ~0.3 s; captured mid-fade it lies
  // half-transparent over the page. Wait until it has gone, and take the picture with
  // transitions run to their end.
  await page.locator('.el-overlay-message-box:visible').first().waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true, animations: 'disabled' });
}

/** Signs in through the form; with `code`, answers the one-time-code question the form then asks. */
export async function signInUi(page: Page, base: string, username: string, password: string, code?: () => Promise<string>): Promise<void> {
  await page.goto(`${base}/#/login`);
  await page.getByPlaceholder('用户名').fill(username);
  await page.getByPlaceholder('密码').fill(password);
  await page.getByRole('button', { name: '登录' }).click();
  if (code) {
    const field = page.getByPlaceholder('动态验证码（如已绑定）');
    await field.waitFor();
    await field.fill(await code());
    await page.getByRole('button', { name: '登录' }).click();
  }
  await page.locator('[data-test=who]').filter({ hasText: username }).waitFor();
  // The name shows as soon as the session is loaded, before the login page's redirect to the home
  // page has finished: a goto made in between was overtaken by that redirect (seen under CI load).
  await page.waitForURL((u) => !u.hash.startsWith('#/login'));
}

/** Answers an Element Plus prompt (second factor, reason) and confirms it. */
export async function answerPrompt(page: Page, text: string | RegExp, value: string): Promise<void> {
  const box = page.locator('.el-message-box').filter({ hasText: text });
  await box.waitFor();
  await box.locator('input').fill(value);
  await box.getByRole('button', { name: '确定' }).click();
  await box.waitFor({ state: 'hidden' });
}

/**
 * Waits until the image is drawn (loaded, with pixels). page.waitForFunction would evaluate its
 * predicate with eval() inside the page, which the app's Content-Security-Policy (script-src 'self',
 * no 'unsafe-eval') refuses; a locator's evaluate runs through the DevTools protocol instead.
 */
export async function waitForImage(page: Page, selector: string, timeoutMs = 30_000): Promise<void> {
  const img = page.locator(selector);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const drawn = await img.evaluate((el) => {
      const i = el as unknown as { complete: boolean; naturalWidth: number };
      return i.complete && i.naturalWidth > 0;
    }, undefined, { timeout: Math.max(1, deadline - Date.now()) });
    if (drawn) return;
    if (Date.now() > deadline) throw new Error(`the image ${selector} was not drawn within ${timeoutMs} ms`);
    await page.waitForTimeout(100);
  }
}
