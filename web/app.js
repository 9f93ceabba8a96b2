// 社保业务电子档案 · caseworker's search and page viewer. Plain ES module, no build step: it talks
// to the same /api/v1 routes as the CLI, signed in with the httpOnly session cookie (CSRF header
// on unsafe methods). Every text shown is Chinese first; the server decides what may be seen.

const view = document.getElementById('view');
const who = document.getElementById('who');
const logoutButton = document.getElementById('logout');

const ROLE_ZH = { archivist: '档案员', caseworker: '经办人员', compliance_officer: '合规专员', appraisal_member: '鉴定小组成员', agency_head: '负责人', auditor: '审计员', sysadmin: '系统管理员', secadmin: '安全保密管理员', secauditor: '安全审计员' };
const RETENTION = { Y: '永久', D100: '100年', D50: '50年', D30: '30年', D10: '10年' };
const FACETS = [
  ['documentType', '文件类型'],
  ['category', '类别'],
  ['insurance', '险种'],
  ['year', '年度'],
  ['retention', '保管期限'],
  ['fonds', '全宗'],
];

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function cookie(name) {
  const m = document.cookie.split('; ').find((c) => c.startsWith(`${name}=`));
  return m ? decodeURIComponent(m.slice(name.length + 1)) : '';
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.error?.messageZh || body?.error?.message || `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function api(path, opts = {}) {
  const headers = { ...(opts.body ? { 'content-type': 'application/json' } : {}) };
  if (opts.method && opts.method !== 'GET') headers['x-csrf-token'] = cookie('archive_csrf');
  const res = await fetch(path, { method: opts.method ?? 'GET', headers, body: opts.body ? JSON.stringify(opts.body) : undefined, credentials: 'same-origin' });
  const body = res.headers.get('content-type')?.includes('json') ? await res.json() : null;
  if (!res.ok) throw new ApiError(res.status, body);
  return body;
}

function showError(err) {
  if (err instanceof ApiError && err.status === 401) return renderLogin();
  view.replaceChildren(el('p', { class: 'error', role: 'alert' }, `出错了：${err.message}`), el('p', {}, el('a', { href: '#/search' }, '返回检索')));
}

// ---------- sign-in ----------

function renderLogin(message) {
  who.textContent = '';
  logoutButton.hidden = true;
  const error = el('p', { class: 'error', role: 'alert' }, message ?? '');
  const form = el(
    'form',
    { class: 'login', onsubmit: async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      const body = { username: f.get('username'), password: f.get('password'), mode: 'cookie' };
      if (f.get('totp')) body.totp = f.get('totp');
      try {
        await api('/api/v1/auth/login', { method: 'POST', body });
        await route();
      } catch (err) {
        error.textContent = err.message;
        if (err instanceof ApiError && err.code === 'unauthenticated' && /验证码/.test(err.message)) form.querySelector('[name=totp]').hidden = false;
      }
    } },
    el('h2', {}, '登录'),
    el('input', { name: 'username', placeholder: '用户名', autocomplete: 'username', required: true }),
    el('input', { name: 'password', type: 'password', placeholder: '密码', autocomplete: 'current-password', required: true }),
    el('input', { name: 'totp', placeholder: '动态验证码（如已绑定）', inputmode: 'numeric', hidden: true }),
    el('button', { class: 'primary', type: 'submit' }, '登录'),
    error,
    el('a', { href: '#/setup' }, '首次登录：用初始化口令设置密码'),
  );
  view.replaceChildren(form);
}

/** First sign-in: the one-time setup secret from the administrator sets the password. */
function renderSetup() {
  const error = el('p', { class: 'error', role: 'alert' });
  const form = el(
    'form',
    { class: 'login', onsubmit: async (ev) => {
      ev.preventDefault();
      const f = new FormData(form);
      if (f.get('password') !== f.get('again')) {
        error.textContent = '两次输入的密码不一致';
        return;
      }
      try {
        await api('/api/v1/auth/setup', { method: 'POST', body: { username: f.get('username'), secret: f.get('secret'), password: f.get('password') } });
        // replaceState: no hashchange, so the message below is not re-rendered away.
        history.replaceState(null, '', '#/search');
        renderLogin('密码已设置，请登录');
      } catch (err) {
        error.textContent = err.message;
      }
    } },
    el('h2', {}, '设置密码'),
    el('input', { name: 'username', placeholder: '用户名', autocomplete: 'username', required: true }),
    el('input', { name: 'secret', placeholder: '初始化口令（仅能使用一次；重置时先输入系统管理员给的前半段，再输入安全保密管理员给的后半段）', required: true }),
    el('input', { name: 'password', type: 'password', placeholder: '新密码（至少 12 位，含三类字符）', autocomplete: 'new-password', required: true }),
    el('input', { name: 'again', type: 'password', placeholder: '再次输入新密码', autocomplete: 'new-password', required: true }),
    el('button', { class: 'primary', type: 'submit' }, '设置密码'),
    error,
    el('a', { href: '#/search' }, '返回登录'),
  );
  view.replaceChildren(form);
}

logoutButton.addEventListener('click', async () => {
  await api('/api/v1/auth/logout', { method: 'POST', body: {} }).catch(() => undefined);
  renderLogin('已退出登录');
});

// ---------- search ----------

function params() {
  const q = location.hash.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : location.hash.slice(q + 1));
}

function go(path, p) {
  const qs = new URLSearchParams([...p].filter(([, v]) => v !== '' && v !== null && v !== undefined)).toString();
  location.hash = `${path}${qs ? `?${qs}` : ''}`;
}

/** Snippet text with its highlight ranges (code-point offsets) as <mark>. */
function snippetNode(s) {
  const chars = [...s.text];
  const out = [];
  let at = 0;
  for (const [a, b] of s.highlights) {
    if (a > at) out.push(chars.slice(at, a).join(''));
    out.push(el('mark', {}, chars.slice(a, b).join('')));
    at = b;
  }
  out.push(chars.slice(at).join(''));
  return el('div', { class: 'snippet' }, el('span', { class: 'muted' }, s.page === 0 ? '著录 ' : `第${s.page}页 `), ...out);
}

async function renderSearch() {
  const p = params();
  const q = p.get('q') ?? '';
  const form = el(
    'form',
    { class: 'search', role: 'search', onsubmit: (ev) => {
      ev.preventDefault();
      go('#/search', new URLSearchParams({ q: new FormData(form).get('q'), sort: new FormData(form).get('sort') }));
    } },
    el('input', { name: 'q', value: q, placeholder: '姓名、公民身份号码、档号或“短语”，-词 表示排除', 'aria-label': '检索词' }),
    el('select', { name: 'sort', 'aria-label': '排序' }, el('option', { value: 'relevance', selected: p.get('sort') !== 'date' }, '按相关度'), el('option', { value: 'date', selected: p.get('sort') === 'date' }, '按日期')),
    el('button', { class: 'primary', type: 'submit' }, '检索'),
  );
  if (!q.trim()) {
    view.replaceChildren(form, el('p', { class: 'muted' }, '输入检索词开始检索。'));
    return;
  }
  view.replaceChildren(form, el('p', { class: 'muted' }, '检索中…'));
  const query = new URLSearchParams({ q, limit: '20', offset: p.get('offset') ?? '0', facets: '1', sort: p.get('sort') ?? 'relevance' });
  for (const [k] of FACETS) if (p.get(k)) query.set(k, p.get(k));
  const res = await api(`/api/v1/search?${query}`);
  const facetList = el('aside', { 'aria-label': '分面' });
  for (const [k, label] of FACETS) {
    const values = res.facets[k] ?? [];
    if (!values.length) continue;
    facetList.append(el('h3', {}, label));
    for (const { value, count } of values.slice(0, 12)) {
      const on = p.get(k) === value;
      const next = new URLSearchParams(p);
      next.delete('offset');
      if (on) next.delete(k);
      else next.set(k, value);
      facetList.append(el('a', { href: `#/search?${next}`, class: on ? 'on' : undefined }, `${k === 'retention' ? (RETENTION[value] ?? value) : value}（${count}）`));
    }
  }
  const hits = res.hits.map((h) =>
    el(
      'article',
      { class: 'hit' },
      el('a', { class: 'title', href: `#/item/${h.id}?q=${encodeURIComponent(q)}&page=${h.pages[0] || 1}` }, h.title || '（无题名）'),
      el('div', { class: 'meta' }, [h.archivalCode ?? '未编档号', h.documentType, h.documentDate, `相关度 ${h.score}`, h.exact ? null : '近似匹配'].filter(Boolean).join(' · ')),
      ...h.snippets.map(snippetNode),
    ),
  );
  const offset = Number(p.get('offset') ?? 0);
  const pager = el(
    'div',
    { class: 'pager' },
    offset > 0 ? el('a', { href: `#/search?${new URLSearchParams({ ...Object.fromEntries(p), offset: String(Math.max(0, offset - 20)) })}` }, '上一页') : null,
    el('span', { class: 'muted' }, `共 ${res.total} 件，第 ${res.total ? offset + 1 : 0}–${Math.min(res.total, offset + 20)} 件（${res.tookMs} 毫秒）`),
    offset + 20 < res.total ? el('a', { href: `#/search?${new URLSearchParams({ ...Object.fromEntries(p), offset: String(offset + 20) })}` }, '下一页') : null,
  );
  view.replaceChildren(form, el('div', { class: 'layout' }, facetList, el('section', { 'aria-label': '检索结果' }, hits.length ? hits : el('p', {}, '没有找到符合条件的档案。'), pager)));
}

// ---------- item viewer ----------

/** Query words to find on the page (phrases whole, exclusions left out). */
function terms(q) {
  return [...q.matchAll(/(-?)"([^"]+)"|(-?)(\S+)/g)].filter((m) => !(m[1] || m[3])).map((m) => (m[2] ?? m[4]).replace(/\s+/g, '')).filter(Boolean);
}

/** Boxes of the OCR words that make up each occurrence of a term on a line. */
function hitBoxes(lines, words) {
  const boxes = [];
  for (const line of lines ?? []) {
    const ws = line.words ?? [];
    let s = '';
    const spans = ws.map((w) => {
      const t = w.text.replace(/\s+/g, '');
      const span = [s.length, s.length + t.length];
      s += t;
      return span;
    });
    for (const t of words) {
      for (let at = s.indexOf(t); at >= 0; at = s.indexOf(t, at + 1)) {
        ws.forEach((w, i) => {
          if (spans[i][0] < at + t.length && spans[i][1] > at) boxes.push(w.bbox);
        });
      }
    }
  }
  return boxes;
}

async function renderItem(id) {
  const p = params();
  const q = p.get('q') ?? '';
  const item = await api(`/api/v1/items/${id}`);
  const pages = item.pages.filter((x) => !x.blank);
  const n = Number(p.get('page') ?? pages[0]?.n ?? 1);
  const md = item.metadata ?? {};
  const cls = item.classification ?? {};
  const facts = el(
    'dl',
    { class: 'facts' },
    el('dt', {}, '题名'), el('dd', {}, item.title ?? '—'),
    el('dt', {}, '档号'), el('dd', {}, item.archivalCode ?? '未编档号'),
    el('dt', {}, '文件类型 / 保管期限'), el('dd', {}, `${cls.documentType ?? '—'} / ${RETENTION[cls.retention] ?? cls.retention ?? '—'}`),
    el('dt', {}, '形成日期'), el('dd', {}, md.documentDate ?? '—'),
    el('dt', {}, '人员'), el('dd', {}, (md.persons ?? []).map((x) => `${x.name ?? '—'} ${x.idNumber ?? ''}`).join('；') || '—'),
    el('dt', {}, '单位'), el('dd', {}, (md.units ?? []).map((x) => x.name ?? x.creditCode).join('；') || '—'),
    el('dt', {}, '下载'), el('dd', {}, el('a', { href: `/api/v1/items/${id}/pdf`, download: `${item.archivalCode ?? id}.pdf` }, '可检索 PDF（带水印，下载将被记录）')),
  );
  const text = el('pre', { 'aria-label': 'OCR 文本' }, '…');
  facts.append(el('dt', {}, `第 ${n} 页识别文本`), el('dd', {}, text));
  const thumbs = el(
    'nav',
    { class: 'thumbs', 'aria-label': '页面' },
    pages.map((pg) => el('img', { src: `/api/v1/items/${id}/pages/${pg.n}/thumbnail`, alt: `第${pg.n}页`, class: pg.n === n ? 'on' : undefined, onclick: () => go(`#/item/${id}`, new URLSearchParams({ q, page: String(pg.n) })) })),
  );
  const img = el('img', { src: `/api/v1/items/${id}/pages/${n}/image`, alt: `第${n}页` });
  const page = el('div', { class: 'page' }, img);
  view.replaceChildren(el('p', {}, el('a', { href: `#/search?q=${encodeURIComponent(q)}` }, '← 返回检索结果')), el('div', { class: 'item' }, thumbs, page, facts));
  if (!pages.length) return;
  const t = await api(`/api/v1/items/${id}/pages/${n}/text`);
  text.textContent = t.text || '（本页无识别文本）';
  const place = () => {
    page.querySelectorAll('.box').forEach((b) => b.remove());
    // OCR boxes are in the pixels of the served page image.
    const scale = img.clientWidth / (img.naturalWidth || t.width || 1);
    for (const b of hitBoxes(t.lines, terms(q))) {
      const box = el('div', { class: 'box' });
      // CSSOM, not a style attribute: the page's Content-Security-Policy allows no inline styles.
      Object.assign(box.style, { left: `${b.x0 * scale}px`, top: `${b.y0 * scale}px`, width: `${(b.x1 - b.x0) * scale}px`, height: `${(b.y1 - b.y0) * scale}px` });
      page.append(box);
    }
  };
  if (img.complete) place();
  else img.addEventListener('load', place);
  window.addEventListener('resize', place, { once: true });
}

// ---------- routing ----------

async function route() {
  if (location.hash.startsWith('#/setup')) return renderSetup();
  try {
    const me = await api('/api/v1/auth/me');
    who.textContent = `${me.username}（${me.roles.map((r) => ROLE_ZH[r] ?? r).join('、') || '无角色'}）`;
    logoutButton.hidden = false;
    const m = /^#\/item\/([a-f0-9]{24})/.exec(location.hash);
    if (m) await renderItem(m[1]);
    else await renderSearch();
  } catch (err) {
    showError(err);
  }
}

window.addEventListener('hashchange', route);
void route();
