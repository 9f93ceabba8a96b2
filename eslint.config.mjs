// Lint rules double as the architecture's import rules (docs/ARCHITECTURE.md, "What may import what").
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const leafDoors = (self) => ({
  patterns: [
    { group: ['**/src/**', '../src/*'], message: `${self}/ is a leaf package: it never imports src/.` },
    ...['ocr', 'storage', 'retention-rules', 'render']
      .filter((p) => p !== self)
      .map((p) => ({ group: [`../${p}`, `../${p}/*`, `**/${p}/**`], message: `${self}/ never imports ${p}/.` })),
  ],
});


// The service rooms (docs/ARCHITECTURE.md, "Rooms"): which other rooms each may use. Every room is
// entered only through its index.ts; a room not listed here may not be used. Keep this acyclic.
const ROOMS = {
  platform: [],
  audit: [],
  records: ['platform'],
  access: ['audit', 'records'],
  capture: ['records', 'platform'],
  search: ['access', 'platform', 'records'],
  filing: ['platform', 'records', 'search'],
  disposition: ['audit', 'records', 'search', 'platform', 'access'],
  integrity: ['audit', 'records', 'search', 'platform', 'capture', 'disposition'],
  pipeline: ['capture', 'filing', 'search', 'audit', 'records', 'disposition', 'integrity'],
  transfer: ['audit', 'records', 'platform'],
};
const NO_KOA = [{ name: 'koa', message: 'Services and models never import koa.' }];
// Image, PDF and QR work lives behind the ocr/ and render/ leaf doors, blob access behind storage/.
const LEAF_LIBS = ['sharp', 'pdf-lib', 'jsqr', 'qrcode', 'tesseract.js', 'minio'].map((name) => ({ name, message: `Services use ${name} only through a leaf package (ocr/, render/, storage/).` }));
const NO_API = [{ group: ['**/api/**', '**/api'], message: 'Services and models never import the API layer.' }];
const NO_SERVICES = [{ group: ['**/services/**', '**/services'], message: 'Models never import services.' }];
// src reaches the leaf packages only through their index.ts door.
const srcDoors = () => [
  { group: ['**/ocr/*', '!**/ocr/index'], message: 'Import ocr/ only through ocr/index.ts.' },
  { group: ['**/storage/*', '!**/storage/index'], message: 'Import storage/ only through storage/index.ts.' },
  { group: ['**/retention-rules/*', '!**/retention-rules/index'], message: 'Import retention-rules/ only through its index.ts.' },
  { group: ['**/render/*', '!**/render/index'], message: 'Import render/ only through render/index.ts.' },
  { group: ['**/services/*/*', '!**/services/*/index'], message: 'Enter a service room only through its index.ts.' },
];
const roomDoors = (room, mayUse) =>
  Object.keys(ROOMS)
    .filter((r) => r !== room)
    .map((r) =>
      mayUse.includes(r)
        ? { group: [`../${r}/*`, `!../${r}/index`], message: `Enter services/${r}/ only through its index.ts.` }
        : { group: [`../${r}`, `../${r}/*`], message: `services/${room}/ may not use services/${r}/ (see ROOMS in eslint.config.mjs).` },
    );

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.data/**', 'web/vendor/**', 'web/dist/**', 'test/.out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.mocha } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  // The web UI runs in the browser.
  { files: ['web/**/*.ts', 'web/**/*.mts'], languageOptions: { globals: { ...globals.browser }, sourceType: 'module' } },
  // Tests read loosely typed JSON responses.
  { files: ['test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  { files: ['bin/**/*.js', 'scripts/**/*.js', 'test/helpers/*.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['ocr/**/*.ts'], rules: { 'no-restricted-imports': ['error', leafDoors('ocr')] } },
  { files: ['render/**/*.ts'], rules: { 'no-restricted-imports': ['error', leafDoors('render')] } },
  { files: ['storage/**/*.ts'], rules: { 'no-restricted-imports': ['error', leafDoors('storage')] } },
  { files: ['retention-rules/**/*.ts'], rules: { 'no-restricted-imports': ['error', leafDoors('retention-rules')] } },
  // Import rules for src/. In flat config a later block's `no-restricted-imports` replaces an
  // earlier one for the files both match, so each file group gets ONE rule built from all the
  // doors that apply to it (the old separate services/models block silently dropped the leaf doors).
  { files: ['src/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: srcDoors() }] } },
  // Routes and CLI commands parse, call a service and present: they never query a model
  // themselves (a model's types they may name). docs/ARCHITECTURE.md, "What may import what".
  {
    files: ['src/api/**/*.ts', 'src/cli/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...srcDoors(), { group: ['**/models', '**/models/*'], allowTypeImports: true, message: 'Routes and CLI commands reach the database through a service (src/services/<room>/index.ts); import a model only as a type.' }] }] },
  },
  { files: ['src/models/**/*.ts'], rules: { 'no-restricted-imports': ['error', { paths: NO_KOA, patterns: [...srcDoors(), ...NO_API, ...NO_SERVICES] }] } },
  ...Object.entries(ROOMS).map(([room, mayUse]) => ({
    files: [`src/services/${room}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { paths: [...NO_KOA, ...LEAF_LIBS], patterns: [...srcDoors(), ...NO_API, ...roomDoors(room, mayUse)] }] },
  })),
  {
    // Only src/config.ts reads process.env.
    files: ['src/**/*.ts', 'ocr/**/*.ts', 'storage/**/*.ts', 'retention-rules/**/*.ts', 'render/**/*.ts'],
    ignores: ['src/config.ts'],
    rules: { 'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read configuration from src/config.ts.' }] },
  },
);
