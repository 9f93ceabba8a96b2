#!/usr/bin/env node
// Fails when the TypeScript sources have an import cycle (issue #10: "no import cycle remains").
// The room rules in eslint.config.mjs keep the rooms acyclic; this catches the cycles inside a
// room and between src/ modules that the room rules cannot see. Only imports that exist at run
// time count: `import type` and `export type` vanish in compilation and cannot form a cycle.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const root = path.resolve(__dirname, '..');
const DIRS = ['src', 'ocr', 'storage', 'render', 'retention-rules'];

function listTs(dir, out = []) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) listTs(p, out);
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function resolveLocal(from, spec) {
  if (!spec.startsWith('.')) return null;
  const base = path.resolve(path.dirname(from), spec);
  for (const c of [base + '.ts', path.join(base, 'index.ts'), base.replace(/\.js$/, '.ts')]) {
    if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  }
  return null;
}

/** The modules a file needs at run time: value imports and re-exports, dynamic import() left out (lazy by design). */
function runtimeImports(file) {
  const src = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const deps = [];
  for (const st of src.statements) {
    let spec;
    if (ts.isImportDeclaration(st)) {
      const c = st.importClause;
      if (c?.isTypeOnly) continue;
      // `import { type A, type B } from` is type-only too.
      if (c && !c.name && c.namedBindings && ts.isNamedImports(c.namedBindings) && c.namedBindings.elements.length > 0 && c.namedBindings.elements.every((e) => e.isTypeOnly)) continue;
      spec = st.moduleSpecifier.text;
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier) {
      if (st.isTypeOnly) continue;
      if (st.exportClause && ts.isNamedExports(st.exportClause) && st.exportClause.elements.length > 0 && st.exportClause.elements.every((e) => e.isTypeOnly)) continue;
      spec = st.moduleSpecifier.text;
    } else if (ts.isImportEqualsDeclaration(st) && ts.isExternalModuleReference(st.moduleReference)) {
      spec = st.moduleReference.expression.text;
    }
    if (!spec) continue;
    const to = resolveLocal(file, spec);
    if (to) deps.push(to);
  }
  return deps;
}

const files = DIRS.flatMap((d) => (fs.existsSync(path.join(root, d)) ? listTs(path.join(root, d)) : []));
const graph = new Map(files.map((f) => [f, runtimeImports(f)]));

// Tarjan's strongly connected components: every component of more than one file is a cycle.
let index = 0;
const idx = new Map(), low = new Map(), stack = [], onStack = new Set(), cycles = [];
function visit(v) {
  idx.set(v, index); low.set(v, index); index++;
  stack.push(v); onStack.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do { w = stack.pop(); onStack.delete(w); comp.push(w); } while (w !== v);
    const selfLoop = (graph.get(v) ?? []).includes(v);
    if (comp.length > 1 || selfLoop) cycles.push(comp);
  }
}
for (const f of files) if (!idx.has(f)) visit(f);

if (cycles.length) {
  console.error(`import cycles (${cycles.length}): each group below imports itself round at run time`);
  for (const c of cycles) console.error('  - ' + c.map((f) => path.relative(root, f)).sort().join('\n    '));
  process.exit(1);
}
console.log(`no import cycles in ${files.length} modules`);
